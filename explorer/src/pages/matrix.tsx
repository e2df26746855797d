import { apiClient, unwrap, type PartyRef } from '../api.js'
import { useLoad } from '../hooks.js'
import { href, navigate } from '../router.js'

/** The shade of a cell: five steps from the smallest count to the largest, and the count itself as its text. */
function level(count: number, max: number): number {
  if (count === 0 || max === 0) return 0
  return Math.max(1, Math.ceil((count / max) * 5))
}

function withParam(query: URLSearchParams, name: string, value: string): string {
  const next = new URLSearchParams(query)
  if (value === '') next.delete(name)
  else next.set(name, value)
  const text = next.toString()
  return text === '' ? '/matrix' : `/matrix?${text}`
}

/** Who rebuts whom: claimants down the side, responders across the top, each cell the number of rebuttals. */
export function MatrixPage({ query }: { query: URLSearchParams }) {
  const by = query.get('by') === 'side' ? 'side' : 'party'
  const kind = query.get('kind') === 'supports' ? 'supports' : 'rebuts'
  const tag = query.get('tag') ?? ''
  const since = query.get('since') ?? ''
  const until = query.get('until') ?? ''
  const [matrix] = useLoad(
    () =>
      unwrap(
        apiClient().GET('/v1/disputes/matrix', {
          params: {
            query: {
              by,
              kind,
              tag: tag.trim() === '' ? undefined : [tag.trim().toLowerCase()],
              since: since || undefined,
              until: until || undefined,
            },
          },
        }),
      ),
    [query.toString()],
  )
  const set = (name: string) => (event: Event) =>
    navigate(withParam(query, name, (event.currentTarget as HTMLInputElement | HTMLSelectElement).value))

  return (
    <section aria-labelledby="matrix-title">
      <h1 id="matrix-title">Who disputes whom</h1>
      <p class="lede">
        Each row is a party whose claims were answered; each column a party that answered them. The darker the cell, the
        more often.
      </p>
      <form class="filters" aria-label="Choose what the matrix counts" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="matrix-by">Group by</label>
          <select id="matrix-by" value={by} onChange={set('by')}>
            <option value="party">party</option>
            <option value="side">side (the state a party speaks for)</option>
          </select>
        </div>
        <div class="field">
          <label for="matrix-kind">Count</label>
          <select id="matrix-kind" value={kind} onChange={set('kind')}>
            <option value="rebuts">rebuttals</option>
            <option value="supports">supports</option>
          </select>
        </div>
        <div class="field">
          <label for="matrix-tag">Tag</label>
          <input id="matrix-tag" value={tag} placeholder="pipeline" onChange={set('tag')} />
        </div>
        <div class="field">
          <label for="matrix-since">Claims stated since</label>
          <input id="matrix-since" type="date" value={since} onChange={set('since')} />
        </div>
        <div class="field">
          <label for="matrix-until">Claims stated before</label>
          <input id="matrix-until" type="date" value={until} onChange={set('until')} />
        </div>
      </form>
      <div aria-live="polite">
        {matrix.state === 'loading' && <p>Loading the matrix…</p>}
        {matrix.state === 'error' && (
          <p class="problem" role="alert">
            {matrix.message}
          </p>
        )}
        {matrix.state === 'ready' && <Heatmap cells={matrix.value.cells} by={by} truncated={matrix.value.truncated} />}
      </div>
    </section>
  )
}

interface Cell {
  claimant: PartyRef
  responder: PartyRef
  count: number
}

function Heatmap({ cells, by, truncated }: { cells: Cell[]; by: 'party' | 'side'; truncated: boolean }) {
  if (cells.length === 0) return <p>Nothing was answered with these filters.</p>
  const rows = unique(cells.map((cell) => cell.claimant))
  const columns = unique(cells.map((cell) => cell.responder))
  const counts = new Map(cells.map((cell) => [`${cell.claimant.slug} ${cell.responder.slug}`, cell.count]))
  const max = Math.max(...cells.map((cell) => cell.count))
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-labelledby="heatmap-caption">
      <table class="heatmap">
        <caption id="heatmap-caption">
          Answers by {by === 'party' ? 'party' : 'side'}: rows answered, columns answering
          {truncated && ' (only the largest counts)'}
        </caption>
        <thead>
          <tr>
            <th scope="col">Answered ↓ / answering →</th>
            {columns.map((column) => (
              <th key={column.slug} scope="col">
                {column.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.slug}>
              <th scope="row">{by === 'party' ? <a href={href(`/?party=${row.slug}`)}>{row.name}</a> : row.name}</th>
              {columns.map((column) => {
                const count = counts.get(`${row.slug} ${column.slug}`) ?? 0
                return (
                  <td key={column.slug} class={`heat heat-${level(count, max)}`}>
                    {count === 0 ? <span class="visually-hidden">0</span> : count}
                  </td>
                )
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

function unique(parties: PartyRef[]): PartyRef[] {
  const seen = new Map<string, PartyRef>()
  for (const party of parties) seen.set(party.slug, party)
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name))
}
