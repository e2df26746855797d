import { apiClient, formatDuration, unwrap } from '../api.js'
import { useLoad } from '../hooks.js'
import { href } from '../router.js'

/** How fast each party answers the claims of others, and how fast its own claims are answered. */
export function ResponseTimesPage({ query }: { query: URLSearchParams }) {
  const focus = query.get('party') ?? ''
  const [list] = useLoad(() => unwrap(apiClient().GET('/v1/response-times')), [])
  return (
    <section aria-labelledby="times-title">
      <h1 id="times-title">Response times</h1>
      <p class="lede">
        “Answering”: how long a party took to answer another's claim. “Answered”: how long its own claims waited for an
        answer. Medians and the 90th percentile.
      </p>
      {focus !== '' && <PartyTimes slug={focus} />}
      {list.state === 'loading' && <p>Loading the response times…</p>}
      {list.state === 'error' && (
        <p class="problem" role="alert">
          {list.message}
        </p>
      )}
      {list.state === 'ready' && (
        <div class="table-scroll" tabIndex={0} role="region" aria-labelledby="times-caption">
          <table>
            <caption id="times-caption">Response times by party</caption>
            <thead>
              <tr>
                <th scope="col">Party</th>
                <th scope="col">Answers given</th>
                <th scope="col">Median to answer</th>
                <th scope="col">90% within</th>
                <th scope="col">Its claims answered</th>
                <th scope="col">Median wait</th>
                <th scope="col">Claims</th>
                <th scope="col">Unanswered</th>
              </tr>
            </thead>
            <tbody>
              {list.value.data.map((row) => (
                <tr key={row.party.slug} class={row.party.slug === focus ? 'focus' : undefined}>
                  <th scope="row">
                    <a href={href(`/response-times?party=${row.party.slug}`)}>{row.party.name}</a>
                  </th>
                  <td>{row.answering.count}</td>
                  <td>{formatDuration(row.answering.median_seconds)}</td>
                  <td>{formatDuration(row.answering.p90_seconds)}</td>
                  <td>{row.answered.count}</td>
                  <td>{formatDuration(row.answered.median_seconds)}</td>
                  <td>{row.claims}</td>
                  <td>{row.unanswered}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}

/** One party's figures, and the same as bars: how long it takes to answer, and how long its claims wait. */
function PartyTimes({ slug }: { slug: string }) {
  const [times] = useLoad(
    () => unwrap(apiClient().GET('/v1/parties/{party}/response-times', { params: { path: { party: slug } } })),
    [slug],
  )
  if (times.state === 'loading') return <p>Loading the party's response times…</p>
  if (times.state === 'error')
    return (
      <p class="problem" role="alert">
        {times.message}
      </p>
    )
  const { party, answering, answered, claims, unanswered } = times.value
  const bars = [
    { label: 'answering, median', seconds: answering.median_seconds },
    { label: 'answering, 90%', seconds: answering.p90_seconds },
    { label: 'answered, median', seconds: answered.median_seconds },
    { label: 'answered, 90%', seconds: answered.p90_seconds },
  ]
  const top = Math.max(1, ...bars.map((bar) => bar.seconds ?? 0))
  return (
    <section class="party-times" aria-labelledby="party-times-title">
      <h2 id="party-times-title">{party.name}</h2>
      <p>
        <a href={href(`/?party=${party.slug}`)}>Its disputed claims</a> · {claims} {claims === 1 ? 'claim' : 'claims'},{' '}
        {unanswered} unanswered · answered {answering.count} of others' claims; its own were answered {answered.count}{' '}
        {answered.count === 1 ? 'time' : 'times'}.
      </p>
      <svg
        class="figure-chart"
        viewBox={`0 0 320 ${bars.length * 32 + 10}`}
        role="img"
        aria-label="The same figures, as bars"
      >
        {bars.map((bar, index) => (
          <g key={bar.label}>
            <rect
              class="bar"
              x={0}
              y={10 + index * 32}
              width={Math.max(2, ((bar.seconds ?? 0) / top) * 310)}
              height={22}
            />
            <text x={4} y={25 + index * 32} class="bar-label">
              {bar.label}: {formatDuration(bar.seconds)}
            </text>
          </g>
        ))}
      </svg>
    </section>
  )
}
