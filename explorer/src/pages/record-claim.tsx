import { useState } from 'preact/hooks'
import { allParties, apiClient, describeError, unwrap } from '../api.js'
import { DateField, PartyOptions } from '../fields.js'
import { useHasKey, useLoad } from '../hooks.js'
import { href, navigate } from '../router.js'

/** A new claim: who said it, what, when, and where it was reported. */
export function RecordClaimPage() {
  const hasKey = useHasKey()
  const [parties] = useLoad(allParties, [])
  const [party, setParty] = useState('')
  const [text, setText] = useState('')
  const [quote, setQuote] = useState('')
  const [statedAt, setStatedAt] = useState(new Date().toISOString().slice(0, 10))
  const [tags, setTags] = useState('')
  const [source, setSource] = useState('')
  const [problem, setProblem] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  return (
    <section aria-labelledby="record-title">
      <h1 id="record-title">Record a claim</h1>
      {!hasKey && <p class="hint">Recording needs an API key: set one under “API key” at the top of the page.</p>}
      <form
        class="card"
        aria-labelledby="record-title"
        onSubmit={async (event) => {
          event.preventDefault()
          setBusy(true)
          setProblem(undefined)
          try {
            const claim = await unwrap(
              apiClient().POST('/v1/claims', {
                body: {
                  party,
                  text: text.trim(),
                  stated_at: statedAt,
                  ...(quote.trim() === '' ? {} : { quote: quote.trim() }),
                  tags: tags
                    .split(/[\s,]+/)
                    .map((tag) => tag.trim().toLowerCase())
                    .filter(Boolean),
                  ...(source.trim() === '' ? {} : { sources: [{ url: source.trim() }] }),
                },
              }),
            )
            navigate(`/claims/${claim.id}`)
          } catch (error) {
            setProblem(describeError(error))
          } finally {
            setBusy(false)
          }
        }}
      >
        <div class="field">
          <label for="record-party">Said by</label>
          <select id="record-party" required value={party} onChange={(e) => setParty(e.currentTarget.value)}>
            <option value="">choose a party</option>
            {parties.state === 'ready' && <PartyOptions parties={parties.value} />}
          </select>
        </div>
        <div class="field wide">
          <label for="record-text">What was claimed, in plain words</label>
          <textarea id="record-text" required rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </div>
        <div class="field wide">
          <label for="record-quote">The words as said (optional)</label>
          <textarea id="record-quote" rows={2} value={quote} onInput={(e) => setQuote(e.currentTarget.value)} />
        </div>
        <DateField id="record-date" label="Said on" value={statedAt} onInput={setStatedAt} />
        <div class="field">
          <label for="record-tags">Tags, separated by spaces</label>
          <input id="record-tags" value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
        </div>
        <div class="field wide">
          <label for="record-source">Where it was reported (a URL, optional)</label>
          <input id="record-source" type="url" value={source} onInput={(e) => setSource(e.currentTarget.value)} />
        </div>
        <button type="submit" disabled={busy}>
          Record the claim
        </button>
        {problem !== undefined && (
          <p class="problem" role="alert">
            {problem}
          </p>
        )}
      </form>
      <p>
        Or answer a recorded claim from <a href={href('/')}>its page</a>.
      </p>
    </section>
  )
}
