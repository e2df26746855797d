import { apiClient, formatWhen, unwrap, type Schemas } from '../api.js'
import { useLoad } from '../hooks.js'
import { href } from '../router.js'

type Measure = Schemas['EventFigures']['measures'][number]
type EventFigure = Schemas['EventFigure']

/** Events with their claims, and for one event the figures each party stated, side by side. */
export function EventsPage({ slug }: { slug?: string }) {
  const [events] = useLoad(() => unwrap(apiClient().GET('/v1/events', { params: { query: { limit: 200 } } })), [])
  return (
    <section aria-labelledby="events-title">
      <h1 id="events-title">Events and their contested figures</h1>
      {events.state === 'loading' && <p>Loading the events…</p>}
      {events.state === 'error' && (
        <p class="problem" role="alert">
          {events.message}
        </p>
      )}
      {events.state === 'ready' && (
        <nav aria-label="Events">
          <ul class="events">
            {events.value.data.map((event) => (
              <li key={event.slug}>
                <a href={href(`/events/${event.slug}`)} aria-current={event.slug === slug ? 'page' : undefined}>
                  {event.name}
                </a>{' '}
                · {formatWhen(event.starts_at, event.starts_at_precision)} · {event.claim_count}{' '}
                {event.claim_count === 1 ? 'claim' : 'claims'}, {event.disputed_claim_count} disputed
              </li>
            ))}
          </ul>
        </nav>
      )}
      {slug !== undefined && <EventFigures slug={slug} />}
    </section>
  )
}

function EventFigures({ slug }: { slug: string }) {
  const [figures] = useLoad(
    () => unwrap(apiClient().GET('/v1/events/{event}/figures', { params: { path: { event: slug } } })),
    [slug],
  )
  if (figures.state === 'loading') return <p>Loading the figures…</p>
  if (figures.state === 'error')
    return (
      <p class="problem" role="alert">
        {figures.message}
      </p>
    )
  const { event, measures } = figures.value
  return (
    <section aria-labelledby="figures-title">
      <h2 id="figures-title">{event.name}: the figures stated</h2>
      {measures.length === 0 ? (
        <p>No claim about this event states a figure.</p>
      ) : (
        measures.map((measure) => <MeasureFigures key={measure.measure} measure={measure} />)
      )}
    </section>
  )
}

function shown(figure: EventFigure | null): string {
  if (figure === null) return '—'
  const amount = figure.value !== null ? String(figure.value) : `${figure.low ?? '?'}–${figure.high ?? '?'}`
  return `${figure.qualifier === null ? '' : `${figure.qualifier} `}${amount}`
}

/** One measure: a table of each party's latest figure, and a chart of the same figures as bars (ranges as spans). */
function MeasureFigures({ measure }: { measure: Measure }) {
  const unit = measure.unit === null ? '' : ` (${measure.unit})`
  const rows = measure.parties.filter((row) => row.latest !== null)
  const top = Math.max(
    1,
    ...rows.map((row) => Math.max(row.latest?.value ?? 0, row.latest?.high ?? 0, row.latest?.low ?? 0)),
  )
  const width = 320
  const barHeight = 22
  const labelWidth = 0
  const height = rows.length * (barHeight + 10) + 10
  return (
    <div class="measure">
      <h3 id={`measure-${measure.measure}`}>
        {measure.measure}
        {unit}
      </h3>
      <div class="table-scroll" tabIndex={0} role="region" aria-labelledby={`measure-${measure.measure}`}>
        <table>
          <thead>
            <tr>
              <th scope="col">Party</th>
              <th scope="col">Latest figure</th>
              <th scope="col">As of</th>
              <th scope="col">Standing</th>
              <th scope="col">Earlier figures</th>
            </tr>
          </thead>
          <tbody>
            {measure.parties.map((row) => (
              <tr key={row.party.slug}>
                <th scope="row">{row.party.name}</th>
                <td>
                  {row.latest === null ? '—' : <a href={href(`/claims/${row.latest.claim_id}`)}>{shown(row.latest)}</a>}
                </td>
                <td>
                  {formatWhen(
                    row.latest?.as_of ?? row.latest?.stated_at,
                    row.latest?.as_of_precision ?? row.latest?.stated_at_precision,
                  )}
                </td>
                <td>{row.latest?.standing ?? '—'}</td>
                <td>{row.earlier.length === 0 ? 'none' : row.earlier.map(shown).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {measure.spread.low !== null && (
        <p>
          The parties' figures run from {measure.spread.low} to {measure.spread.high}
          {unit}.
        </p>
      )}
      {rows.length > 0 && (
        <svg
          class="figure-chart"
          viewBox={`0 0 ${width} ${height}`}
          role="img"
          aria-label={`${measure.measure}: the table above, as bars`}
        >
          {rows.map((row, index) => {
            const figure = row.latest
            if (figure === null) return null
            const y = 10 + index * (barHeight + 10)
            const scale = (n: number) => labelWidth + (n / top) * (width - labelWidth - 10)
            const from = figure.value !== null ? 0 : scale(figure.low ?? 0)
            const to = scale(figure.value ?? figure.high ?? figure.low ?? 0)
            return (
              <g key={row.party.slug}>
                <rect
                  class={figure.value !== null ? 'bar' : 'bar bar-range'}
                  x={from}
                  y={y}
                  width={Math.max(2, to - from)}
                  height={barHeight}
                />
                <text x={4} y={y + 15} class="bar-label">
                  {row.party.name}: {shown(figure)}
                </text>
              </g>
            )
          })}
        </svg>
      )}
    </div>
  )
}
