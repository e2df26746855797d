import {
  createCounterclaimClient,
  ProblemError,
  type CounterclaimClient,
  type components,
} from '../../clients/typescript/src/index.js'

export {
  PreconditionFailedError,
  ProblemError,
  unwrap,
  updateIfUnchanged,
  versioned,
  type Versioned,
} from '../../clients/typescript/src/index.js'

export type Schemas = components['schemas']
export type Claim = Schemas['Claim']
export type Dispute = Schemas['Dispute']
export type Party = Schemas['Party']
export type PartyRef = Schemas['PartyRef']
export type Thread = Schemas['Thread']
export type ThreadEntry = Schemas['ThreadEntry']
export type LinkKind = Schemas['LinkKind']
export type Verdict = Schemas['Verdict']
export type DisputeSort = Schemas['DisputeSort']

/** The key is kept for this tab's session only: closing the tab forgets it, and no other tab or site reads it. */
const KEY_ITEM = 'counterclaim-api-key'

export function storedKey(): string | undefined {
  try {
    return sessionStorage.getItem(KEY_ITEM) ?? undefined
  } catch {
    return undefined
  }
}

export function storeKey(key: string | undefined): void {
  if (key === undefined || key === '') sessionStorage.removeItem(KEY_ITEM)
  else sessionStorage.setItem(KEY_ITEM, key)
}

/** A client of the API this page was served by, with the session's key when there is one. */
export function apiClient(): CounterclaimClient {
  const apiKey = storedKey()
  return createCounterclaimClient({ baseUrl: location.origin, ...(apiKey === undefined ? {} : { apiKey }) })
}

export const VERDICTS: readonly Verdict[] = [
  'false',
  'mostly-false',
  'misleading',
  'mixed',
  'missing-context',
  'mostly-true',
  'true',
  'unproven',
]

/** Every party, across pages: the filters and forms offer them by name. */
export async function allParties(): Promise<Party[]> {
  const client = apiClient()
  const parties: Party[] = []
  let cursor: string | undefined
  do {
    const { data, error, response } = await client.GET('/v1/parties', { params: { query: { limit: 200, cursor } } })
    if (data === undefined) throw new Error(`parties: ${response.status} ${JSON.stringify(error)}`)
    parties.push(...data.data)
    cursor = data.next_cursor ?? undefined
  } while (cursor !== undefined)
  return parties.sort((a, b) => a.name.localeCompare(b.name))
}

/** A date as its precision gives it: a day is a day, not midnight UTC. */
export function formatWhen(value: string | null | undefined, precision?: string | null): string {
  if (value === null || value === undefined) return '—'
  switch (precision) {
    case 'year':
      return value.slice(0, 4)
    case 'month':
      return value.slice(0, 7)
    case 'day':
      return value.slice(0, 10)
    default:
      return value
        .replace('T', ' ')
        .replace(/(:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/, '$1 $3')
        .trim()
  }
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—'
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`
  return `${(seconds / 86_400).toFixed(1)} days`
}

/** What a problem says, for a person: its title and detail, and the fields it names. */
export function describeError(error: unknown): string {
  if (error instanceof ProblemError) {
    const fields = error.errors.map((e) => `${e.field}: ${e.message}`).join('; ')
    return fields === '' ? error.message : `${error.message} (${fields})`
  }
  return error instanceof Error ? error.message : String(error)
}
