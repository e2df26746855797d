import { useState } from 'preact/hooks'
import {
  allParties,
  apiClient,
  describeError,
  formatWhen,
  PreconditionFailedError,
  unwrap,
  updateIfUnchanged,
  VERDICTS,
  versioned,
  type Claim,
  type Party,
  type Verdict,
  type Versioned,
} from '../api.js'
import { useHasKey, useLoad } from '../hooks.js'
import { href } from '../router.js'
import { DateField, PartyOptions } from '../fields.js'
import { ThreadGraph } from './thread-graph.js'

const today = () => new Date().toISOString().slice(0, 10)

export function ClaimPage({ id }: { id: string }) {
  const [claim, reloadClaim] = useLoad(
    () => versioned(apiClient().GET('/v1/claims/{id}', { params: { path: { id } } })),
    [id],
  )
  const [thread, reloadThread] = useLoad(
    () => unwrap(apiClient().GET('/v1/claims/{id}/thread', { params: { path: { id }, query: { depth: 3 } } })),
    [id],
  )
  const [reviews, reloadReviews] = useLoad(
    () => unwrap(apiClient().GET('/v1/claims/{id}/reviews', { params: { path: { id }, query: { limit: 50 } } })),
    [id],
  )
  const [history, reloadHistory] = useLoad(
    () => unwrap(apiClient().GET('/v1/claims/{id}/history', { params: { path: { id }, query: { limit: 50 } } })),
    [id],
  )
  const [parties] = useLoad(allParties, [])

  if (claim.state === 'loading') return <p>Loading the claim…</p>
  if (claim.state === 'error')
    return (
      <section>
        <h1>The claim could not be read</h1>
        <p class="problem" role="alert">
          {claim.message}
        </p>
      </section>
    )
  const { value } = claim.value
  const everyParty = parties.state === 'ready' ? parties.value : []

  return (
    <article aria-labelledby="claim-title">
      <p class="who">
        <strong>{value.party.name}</strong> said, on{' '}
        <time dateTime={value.stated_at}>{formatWhen(value.stated_at, value.stated_at_precision)}</time>:
      </p>
      <h1 id="claim-title" class="claim-text">
        {value.text}
      </h1>
      {value.quote !== null && (
        <blockquote lang={value.quote_language ?? undefined}>
          <p>{value.quote}</p>
        </blockquote>
      )}
      <dl class="facts">
        <dt>Standing</dt>
        <dd class={`standing standing-${value.standing}`}>{value.standing}</dd>
        <dt>Status</dt>
        <dd>
          {value.status}: {value.rebuttal_count} {value.rebuttal_count === 1 ? 'rebuttal' : 'rebuttals'},{' '}
          {value.support_count} {value.support_count === 1 ? 'support' : 'supports'}
        </dd>
        {value.event !== null && (
          <>
            <dt>Event</dt>
            <dd>
              <a href={href(`/events/${value.event.slug}`)}>{value.event.name}</a>
            </dd>
          </>
        )}
        {value.location !== null && (
          <>
            <dt>Where</dt>
            <dd>{value.location.name}</dd>
          </>
        )}
        {value.tags.length > 0 && (
          <>
            <dt>Tags</dt>
            <dd>
              {value.tags.map((tag) => (
                <a key={tag} class="tag" href={href(`/?tag=${encodeURIComponent(tag)}`)}>
                  #{tag}
                </a>
              ))}
            </dd>
          </>
        )}
        {value.figures.length > 0 && (
          <>
            <dt>Figures</dt>
            <dd>
              {value.figures
                .map(
                  (figure) =>
                    `${figure.measure}: ${figure.value ?? `${figure.low ?? '?'}–${figure.high ?? '?'}`}${figure.unit === null ? '' : ` ${figure.unit}`}`,
                )
                .join('; ')}
            </dd>
          </>
        )}
      </dl>

      <section aria-labelledby="sources-title">
        <h2 id="sources-title">Sources</h2>
        {value.sources.length === 0 ? (
          <p>No source was recorded.</p>
        ) : (
          <ul class="sources">
            {value.sources.map((source) => (
              <li key={source.url}>
                <a href={source.url} rel="noopener noreferrer">
                  {source.title ?? source.url}
                </a>
                {source.publisher !== undefined && <> · {source.publisher}</>}
                {source.published_at !== undefined && <> · {formatWhen(source.published_at, 'day')}</>}
                {source.quote !== undefined && <blockquote>{source.quote}</blockquote>}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="thread-title">
        <h2 id="thread-title">The thread</h2>
        {thread.state === 'loading' && <p>Loading the thread…</p>}
        {thread.state === 'error' && <p class="problem">{thread.message}</p>}
        {thread.state === 'ready' && <ThreadGraph thread={thread.value} />}
      </section>

      <section aria-labelledby="reviews-title">
        <h2 id="reviews-title">Reviews</h2>
        {reviews.state === 'error' && <p class="problem">{reviews.message}</p>}
        {reviews.state === 'ready' &&
          (reviews.value.data.length === 0 ? (
            <p>No fact-checker has reviewed this claim.</p>
          ) : (
            <ul class="reviews">
              {reviews.value.data.map((review) => (
                <li key={review.id}>
                  <span class={`verdict verdict-${review.verdict}`}>{review.verdict}</span>{' '}
                  <strong>{review.reviewer.name}</strong>: “{review.rating_label}”,{' '}
                  {formatWhen(review.published_at, 'day')}
                  {!review.rates_current_wording && (
                    <em> (rates an earlier wording, version {review.claim_version})</em>
                  )}
                  {review.url !== null && (
                    <>
                      {' '}
                      <a href={review.url} rel="noopener noreferrer">
                        the review
                      </a>
                    </>
                  )}
                </li>
              ))}
            </ul>
          ))}
      </section>

      <section aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        {history.state === 'error' && <p class="problem">{history.message}</p>}
        {history.state === 'ready' && (
          <ol class="history">
            {history.value.data.map((version) => (
              <li key={version.version}>
                Version {version.version}, {formatWhen(version.recorded_at, 'minute')}
                {version.edit_note !== null && <> ({version.edit_note})</>}: “{version.claim.text}”
              </li>
            ))}
          </ol>
        )}
      </section>

      <section aria-labelledby="write-title" class="write">
        <h2 id="write-title">Answer, review or correct it</h2>
        <KeyHint />
        <CounterClaimForm
          claim={value}
          parties={everyParty}
          onRecorded={() => {
            reloadThread()
            reloadClaim()
          }}
        />
        <VerdictForm claim={value} parties={everyParty} onRecorded={reloadReviews} />
        <EditClaimForm
          copy={claim.value}
          onSaved={() => {
            reloadClaim()
            reloadHistory()
            reloadThread()
          }}
        />
      </section>
    </article>
  )
}

function KeyHint() {
  const hasKey = useHasKey()
  if (hasKey) return null
  return <p class="hint">Writing needs an API key: set one under “API key” at the top of the page.</p>
}

type Outcome =
  | { kind: 'idle' }
  | { kind: 'busy' }
  | { kind: 'done'; message: string; link?: string }
  | { kind: 'failed'; message: string }

function OutcomeLine({ outcome }: { outcome: Outcome }) {
  if (outcome.kind === 'done')
    return (
      <p class="done" role="status">
        {outcome.message} {outcome.link !== undefined && <a href={outcome.link}>Open it</a>}
      </p>
    )
  if (outcome.kind === 'failed')
    return (
      <p class="problem" role="alert">
        {outcome.message}
      </p>
    )
  return null
}

function CounterClaimForm({ claim, parties, onRecorded }: { claim: Claim; parties: Party[]; onRecorded: () => void }) {
  const [party, setParty] = useState('')
  const [text, setText] = useState('')
  const [statedAt, setStatedAt] = useState(today())
  const [note, setNote] = useState('')
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' })
  return (
    <form
      class="card"
      aria-labelledby="counter-title"
      onSubmit={async (event) => {
        event.preventDefault()
        setOutcome({ kind: 'busy' })
        try {
          const created = await unwrap(
            apiClient().POST('/v1/claims/{id}/rebuttals', {
              params: { path: { id: claim.id } },
              body: {
                claim: { party, text: text.trim(), stated_at: statedAt },
                ...(note.trim() === '' ? {} : { note: note.trim() }),
              },
            }),
          )
          setText('')
          setNote('')
          setOutcome({
            kind: 'done',
            message: 'The counter-claim was recorded.',
            link: href(`/claims/${created.claim.id}`),
          })
          onRecorded()
        } catch (error) {
          setOutcome({ kind: 'failed', message: describeError(error) })
        }
      }}
    >
      <h3 id="counter-title">Post a counter-claim</h3>
      <div class="field">
        <label for="counter-party">Said by</label>
        <select id="counter-party" required value={party} onChange={(e) => setParty(e.currentTarget.value)}>
          <option value="">choose a party</option>
          <PartyOptions parties={parties} except={claim.party.slug} />
        </select>
      </div>
      <div class="field wide">
        <label for="counter-text">What they said, in plain words</label>
        <textarea id="counter-text" required rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </div>
      <DateField id="counter-date" label="Said on" value={statedAt} onInput={setStatedAt} />
      <div class="field wide">
        <label for="counter-note">Note on the rebuttal (optional)</label>
        <input id="counter-note" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      </div>
      <button type="submit" disabled={outcome.kind === 'busy'}>
        Post the counter-claim
      </button>
      <OutcomeLine outcome={outcome} />
    </form>
  )
}

function VerdictForm({ claim, parties, onRecorded }: { claim: Claim; parties: Party[]; onRecorded: () => void }) {
  // The API takes verdicts from fact-checkers only, and never from the claimant.
  const checkers = parties.filter((party) => party.kind === 'fact-checker' && party.slug !== claim.party.slug)
  const [reviewer, setReviewer] = useState('')
  const [verdict, setVerdict] = useState<Verdict>('unproven')
  const [label, setLabel] = useState('')
  const [published, setPublished] = useState(today())
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' })
  return (
    <form
      class="card"
      aria-labelledby="verdict-title"
      onSubmit={async (event) => {
        event.preventDefault()
        setOutcome({ kind: 'busy' })
        try {
          await unwrap(
            apiClient().POST('/v1/claims/{id}/reviews', {
              params: { path: { id: claim.id } },
              body: {
                reviewer,
                verdict,
                rating_label: label.trim() === '' ? verdict : label.trim(),
                // The API takes an instant: the start of the day chosen, in UTC.
                published_at: `${published}T00:00:00Z`,
              },
            }),
          )
          setOutcome({ kind: 'done', message: 'The verdict was recorded.' })
          onRecorded()
        } catch (error) {
          setOutcome({ kind: 'failed', message: describeError(error) })
        }
      }}
    >
      <h3 id="verdict-title">Give a verdict</h3>
      {checkers.length === 0 && (
        <p class="hint">No fact-checker is recorded yet: a verdict needs a party of kind fact-checker.</p>
      )}
      <div class="field">
        <label for="verdict-reviewer">Reviewer</label>
        <select id="verdict-reviewer" required value={reviewer} onChange={(e) => setReviewer(e.currentTarget.value)}>
          <option value="">choose a party</option>
          <PartyOptions parties={checkers} />
        </select>
      </div>
      <div class="field">
        <label for="verdict-verdict">Verdict</label>
        <select id="verdict-verdict" value={verdict} onChange={(e) => setVerdict(e.currentTarget.value as Verdict)}>
          {VERDICTS.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="verdict-label">Rating, in the reviewer's words</label>
        <input
          id="verdict-label"
          value={label}
          placeholder={verdict}
          onInput={(e) => setLabel(e.currentTarget.value)}
        />
      </div>
      <DateField id="verdict-date" label="Published on" value={published} onInput={setPublished} />
      <button type="submit" disabled={outcome.kind === 'busy'}>
        Record the verdict
      </button>
      <OutcomeLine outcome={outcome} />
    </form>
  )
}

interface Edit {
  text: string
  tags: string[]
}

const tagsOf = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((tag) => tag.trim().toLowerCase())
    .filter(Boolean)

/**
 * An edit sent with If-Match: the version this page read. When someone changed the claim meanwhile (412), both
 * versions are shown, and the user may apply theirs on top of the current one, or keep the current one.
 */
function EditClaimForm({ copy, onSaved }: { copy: Versioned<Claim>; onSaved: () => void }) {
  const [text, setText] = useState(copy.value.text)
  const [tags, setTags] = useState(copy.value.tags.join(' '))
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' })
  const [conflict, setConflict] = useState<{ mine: Edit; current: Versioned<Claim> } | undefined>()

  const save = async (base: Versioned<Claim>, edit: Edit) => {
    setOutcome({ kind: 'busy' })
    try {
      await updateIfUnchanged(base, (header) =>
        apiClient().PATCH('/v1/claims/{id}', {
          params: { path: { id: base.value.id }, header },
          body: { text: edit.text, tags: edit.tags },
        }),
      )
      setConflict(undefined)
      setOutcome({ kind: 'done', message: 'The claim was saved.' })
      onSaved()
    } catch (error) {
      if (error instanceof PreconditionFailedError && error.current !== undefined) {
        setConflict({ mine: edit, current: error.current as Versioned<Claim> })
        setOutcome({ kind: 'idle' })
      } else {
        setOutcome({ kind: 'failed', message: describeError(error) })
      }
    }
  }

  return (
    <form
      class="card"
      aria-labelledby="edit-title"
      onSubmit={(event) => {
        event.preventDefault()
        void save(copy, { text: text.trim(), tags: tagsOf(tags) })
      }}
    >
      <h3 id="edit-title">Correct the record of this claim</h3>
      <p class="hint">Saved only if nobody changed the claim since this page read it (version {copy.value.version}).</p>
      <div class="field wide">
        <label for="edit-text">Text</label>
        <textarea id="edit-text" rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </div>
      <div class="field wide">
        <label for="edit-tags">Tags, separated by spaces</label>
        <input id="edit-tags" value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
      </div>
      <button type="submit" disabled={outcome.kind === 'busy'}>
        Save the claim
      </button>
      <OutcomeLine outcome={outcome} />
      {conflict !== undefined && (
        <div class="conflict" role="alert" aria-labelledby="conflict-title">
          <h4 id="conflict-title">Someone changed this claim since you opened it</h4>
          <div class="versions">
            <section aria-label="Your version">
              <h5>Your version</h5>
              <p data-testid="mine-text">{conflict.mine.text}</p>
              <p>Tags: {conflict.mine.tags.join(' ') || '(none)'}</p>
            </section>
            <section aria-label="The current version">
              <h5>The current version (version {conflict.current.value.version})</h5>
              <p data-testid="current-text">{conflict.current.value.text}</p>
              <p>Tags: {conflict.current.value.tags.join(' ') || '(none)'}</p>
            </section>
          </div>
          <button type="button" onClick={() => void save(conflict.current, conflict.mine)}>
            Save my version over the current one
          </button>{' '}
          <button
            type="button"
            onClick={() => {
              setText(conflict.current.value.text)
              setTags(conflict.current.value.tags.join(' '))
              setConflict(undefined)
              onSaved()
            }}
          >
            Keep the current version
          </button>
        </div>
      )}
    </form>
  )
}
