import { useEffect, useRef, useState } from 'preact/hooks'
import { allParties, apiClient, formatWhen, unwrap, type Dispute, type DisputeSort, type PartyRef } from '../api.js'
import { PartyOptions } from '../fields.js'
import { useDebounced, useLoad } from '../hooks.js'
import { href, navigate } from '../router.js'

const SORTS: Array<{ value: DisputeSort; label: string }> = [
  { value: '-last_response_at', label: 'Latest response first' },
  { value: '-disputed_since', label: 'Most recently disputed first' },
  { value: '-rebuttal_count', label: 'Most rebutted first' },
  { value: '-stated_at', label: 'Latest claim first' },
]
const PAGE_SIZE = 20
const FILTERS = ['party', 'side', 'tag', 'since', 'until', 'sort', 'q', 'limit'] as const
type Filter = (typeof FILTERS)[number]

let renderMarked = false

/** The query string of the list with one filter changed; a change of filter starts again from the first page. */
function withFilter(query: URLSearchParams, name: Filter | 'cursor', value: string): string {
  const next = new URLSearchParams(query)
  if (name !== 'cursor') next.delete('cursor')
  if (value === '') next.delete(name)
  else next.set(name, value)
  const text = next.toString()
  return text === '' ? '/' : `/?${text}`
}

export function DisputesPage({ query }: { query: URLSearchParams }) {
  const get = (name: Filter | 'cursor') => query.get(name) ?? ''
  const [parties] = useLoad(allParties, [])
  const [search, setSearch] = useState(get('q'))
  const settled = useDebounced(search, 300)
  // Typing changes the address once the typing pauses, without a history entry per letter.
  useEffect(() => {
    if (settled.trim() !== get('q')) navigate(withFilter(query, 'q', settled.trim()), { replace: true })
  }, [settled])

  const key = query.toString()
  const [page] = useLoad(async () => {
    const sort = SORTS.find((option) => option.value === get('sort'))?.value
    const tag = get('tag').trim().toLowerCase()
    // `limit` in the address gives pages of another size (1 to 200); 20 otherwise.
    const limit = Math.min(200, Math.max(1, Number.parseInt(get('limit'), 10) || PAGE_SIZE))
    return unwrap(
      apiClient().GET('/v1/disputes', {
        params: {
          query: {
            limit,
            count: 'exact',
            party: get('party') || undefined,
            side: get('side') || undefined,
            tag: tag === '' ? undefined : [tag],
            since: get('since') || undefined,
            until: get('until') || undefined,
            q: get('q') || undefined,
            sort,
            cursor: get('cursor') || undefined,
          },
        },
      }),
    )
  }, [key])

  const list = useRef<HTMLOListElement>(null)
  useEffect(() => {
    if (page.state !== 'ready' || renderMarked) return
    renderMarked = true
    // The time to the first list drawn on the demo data, read by the browser tests.
    performance.mark('disputes-rendered')
  }, [page.state])

  const set = (name: Filter) => (event: Event) =>
    navigate(withFilter(query, name, (event.currentTarget as HTMLInputElement | HTMLSelectElement).value))
  // The sides are the parties that others speak for (the states, in the demo data).
  const sides = new Map<string, PartyRef>()
  if (parties.state === 'ready')
    for (const party of parties.value) if (party.side !== null) sides.set(party.side.slug, party.side)

  return (
    <section aria-labelledby="disputes-title">
      <h1 id="disputes-title">Disputes</h1>
      <p class="lede">Claims that another party rebutted: who said what, who answered, and when.</p>
      <form class="filters" role="search" aria-label="Filter the disputes" onSubmit={(e) => e.preventDefault()}>
        <div class="field wide">
          <label for="filter-q">Search the claims' words</label>
          <input
            id="filter-q"
            type="search"
            value={search}
            placeholder="pipeline, drones…"
            onInput={(event) => setSearch(event.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="filter-party">Claimed by</label>
          <select id="filter-party" value={get('party')} onChange={set('party')}>
            <option value="">any party</option>
            {parties.state === 'ready' && <PartyOptions parties={parties.value} />}
          </select>
        </div>
        <div class="field">
          <label for="filter-side">Side</label>
          <select id="filter-side" value={get('side')} onChange={set('side')}>
            <option value="">any side</option>
            <PartyOptions parties={[...sides.values()]} />
          </select>
        </div>
        <div class="field">
          <label for="filter-tag">Tag</label>
          <input id="filter-tag" value={get('tag')} placeholder="pipeline" onChange={set('tag')} />
        </div>
        <div class="field">
          <label for="filter-since">Claimed since</label>
          <input id="filter-since" type="date" value={get('since')} onChange={set('since')} />
        </div>
        <div class="field">
          <label for="filter-until">Claimed before</label>
          <input id="filter-until" type="date" value={get('until')} onChange={set('until')} />
        </div>
        <div class="field">
          <label for="filter-sort">Order</label>
          <select id="filter-sort" value={get('sort') || SORTS[0]?.value} onChange={set('sort')}>
            {SORTS.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </div>
      </form>

      <div aria-live="polite" aria-busy={page.state === 'loading'}>
        {page.state === 'loading' && <p>Loading the disputes…</p>}
        {page.state === 'error' && (
          <p class="problem" role="alert">
            The disputes could not be read: {page.message}
          </p>
        )}
        {page.state === 'ready' && (
          <>
            <p class="count" data-testid="dispute-count">
              {page.value.total === undefined
                ? `${page.value.data.length} shown`
                : `${page.value.total} ${page.value.total === 1 ? 'dispute' : 'disputes'}`}
            </p>
            {page.value.data.length === 0 ? (
              <p>No dispute matches these filters.</p>
            ) : (
              <ol class="disputes" ref={list}>
                {page.value.data.map((dispute) => (
                  <DisputeItem key={dispute.claim.id} dispute={dispute} />
                ))}
              </ol>
            )}
            <nav class="pager" aria-label="Pages of disputes">
              {page.value.prev_cursor !== null && (
                <a href={href(withFilter(query, 'cursor', page.value.prev_cursor))} rel="prev">
                  ← Previous page
                </a>
              )}
              {page.value.next_cursor !== null && (
                <a href={href(withFilter(query, 'cursor', page.value.next_cursor))} rel="next">
                  Next page →
                </a>
              )}
            </nav>
          </>
        )}
      </div>
    </section>
  )
}

function DisputeItem({ dispute }: { dispute: Dispute }) {
  const { claim, latest_rebuttals: rebuttals } = dispute
  return (
    <li class="dispute">
      <p class="who">
        <strong>{claim.party.name}</strong> ·{' '}
        <time dateTime={claim.stated_at}>{formatWhen(claim.stated_at, claim.stated_at_precision)}</time>
      </p>
      <p class="text">
        <a href={href(`/claims/${claim.id}`)}>{claim.text}</a>
      </p>
      <p class="meta">
        Rebutted {claim.rebuttal_count} {claim.rebuttal_count === 1 ? 'time' : 'times'} by{' '}
        {claim.rebutted_by.map((party) => party.name).join(', ')}
        {claim.last_response_at !== null && <>; last on {formatWhen(claim.last_response_at, 'day')}</>}
        {claim.tags.length > 0 && (
          <>
            {' '}
            · <span class="tags">{claim.tags.map((tag) => `#${tag}`).join(' ')}</span>
          </>
        )}
      </p>
      {rebuttals.length > 0 && (
        <ul class="rebuttals" aria-label="Latest rebuttals">
          {rebuttals.map((rebuttal) => (
            <li key={rebuttal.link_id}>
              <strong>{rebuttal.claim.party.name}:</strong>{' '}
              <a href={href(`/claims/${rebuttal.claim.id}`)}>{rebuttal.claim.text}</a>
            </li>
          ))}
        </ul>
      )}
    </li>
  )
}
