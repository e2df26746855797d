import type { PartyRef } from './api.js'

/** The parties as the options of a select, less one (a party may not answer itself). */
export function PartyOptions({ parties, except }: { parties: PartyRef[]; except?: string }) {
  return (
    <>
      {parties
        .filter((party) => party.slug !== except)
        .map((party) => (
          <option key={party.slug} value={party.slug}>
            {party.name}
          </option>
        ))}
    </>
  )
}

/** A required day, as the forms that record something ask for when it was said or published. */
export function DateField(props: { id: string; label: string; value: string; onInput: (value: string) => void }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="date"
        required
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
    </div>
  )
}
