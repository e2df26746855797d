import { performance } from 'node:perf_hooks'
import { sql } from 'kysely'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import type { DatabaseHandle } from '../src/db/database.js'
import { createApiKey } from '../src/services/api-key.service.js'
import { contractViolations } from './helpers/contract.js'
import { derivedStateErrors } from './helpers/derived-state.js'
import { type HttpAnswer, type HttpClient, httpClient, listenOnLoopback } from './helpers/http-client.js'
import { openTestDatabase, serverUrl } from './helpers/test-database.js'

/**
 * Load: concurrent clients send a weighted mix of reads and writes over HTTP to the service listening on a port,
 * backed by a PostgreSQL server through a real pool, for a set time. Each answer must be one the rules call for
 * (every other answer is an error: a 5xx, a network error, a 4xx the rules do not explain, a response outside the
 * OpenAPI document); afterwards, every acknowledged write must be there, read back over HTTP and counted in the
 * database, and nothing unacknowledged may have been written.
 *
 * The refusals the rules call for, and so the only 4xx allowed:
 *  - 412 to a PATCH or DELETE with If-Match, when the record changed since the client read it;
 *  - 409 to a link or a review that already exists, when the run had that link or review acknowledged;
 *  - 410 (or 404; and 422 for a link's ends, given in its body) about a claim, once the run has had it deleted; the
 *    same for a link or a review that went with its claim, or a link deleted by another client with its key.
 * Responses are stated after what they answer (a claim's round of the exchange fixes its span of days), so no
 * answer is refused as out of time order.
 * Those that depend on another write are checked once the run is over: the write must have been acknowledged.
 *
 * Knobs (environment): LOAD_SECONDS (default 10, for CI; `npm run test:soak` runs 60), LOAD_CLIENTS (default 50),
 * LOAD_SEED (the clients' random choices; timing still varies from run to run).
 */

function setting(name: string, fallback: number): number {
  const value = process.env[name]
  if (value === undefined || value === '') return fallback
  const parsed = Number(value)
  if (!Number.isSafeInteger(parsed) || parsed <= 0) throw new Error(`${name} must be a positive integer, not ${value}`)
  return parsed
}

const LOAD_SECONDS = setting('LOAD_SECONDS', 10)
const LOAD_CLIENTS = setting('LOAD_CLIENTS', 50)
const LOAD_SEED = setting('LOAD_SEED', 20201006)
/** Writers share these keys: a key's records may be changed by every client holding it, and by no other. */
const API_KEYS = 5

const skip =
  serverUrl === undefined &&
  'needs DATABASE_URL: the load is measured on a PostgreSQL server; the embedded database serves one query at a time'

// The run, the reads afterwards and the database's own checks, with room to spare.
if (!skip) t.setTimeout((LOAD_SECONDS + 240) * 1000)

type Json = Record<string, any>

/** A fixed sequence of pseudo-random numbers in [0, 1) (mulberry32), one per client. */
function randomSource(seed: number) {
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let x = Math.imul(state ^ (state >>> 15), 1 | state)
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
type Random = () => number
const oneOf = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!

/** Ids to pick from at random, with removal in constant time. */
class Pool {
  private readonly ids: string[] = []
  private readonly at = new Map<string, number>()
  add(id: string) {
    if (this.at.has(id)) return
    this.at.set(id, this.ids.length)
    this.ids.push(id)
  }
  remove(id: string) {
    const index = this.at.get(id)
    if (index === undefined) return
    const last = this.ids.pop()!
    if (index < this.ids.length) {
      this.ids[index] = last
      this.at.set(last, index)
    }
    this.at.delete(id)
  }
  pick(random: Random): string | undefined {
    return this.ids.length === 0 ? undefined : this.ids[Math.floor(random() * this.ids.length)]
  }
}

/** What the clients were told about each record: its latest acknowledged representation, and every write to it. */
interface Ledger {
  latest: Json
  /** The versions acknowledged by a 200 to a PATCH. */
  editVersions: number[]
  /** 204s to a DELETE: more than one for a record would be a delete acknowledged twice. */
  deletes: number
}
interface ClaimState extends Ledger {
  id: string
  partyId: string
  /** 0 for a claim, one more than its target's for a rebuttal: its stated_at lies in that round's days. */
  round: number
}
interface PartyState extends Ledger {
  id: string
  slug: string
}
interface LinkState extends Ledger {
  id: string
  from: string
  to: string
}
interface ReviewState extends Ledger {
  id: string
  claimId: string
}

/** The fields a record's writes decide; derived state (counts, status, party names) moves with other records. */
const content = {
  claim: (c: Json) => ({
    id: c.id,
    party: c.party.id,
    text: c.text,
    quote: c.quote,
    stated_at: c.stated_at,
    event_at: c.event_at,
    location: c.location,
    language: c.language,
    tags: c.tags,
    sources: c.sources,
    version: c.version,
    created_at: c.created_at,
    updated_at: c.updated_at,
  }),
  party: (p: Json) => ({
    id: p.id,
    slug: p.slug,
    name: p.name,
    kind: p.kind,
    description: p.description,
    version: p.version,
    created_at: p.created_at,
    updated_at: p.updated_at,
  }),
  link: (l: Json) => ({
    id: l.id,
    kind: l.kind,
    from_claim_id: l.from_claim_id,
    to_claim_id: l.to_claim_id,
    note: l.note,
    version: l.version,
    created_at: l.created_at,
    updated_at: l.updated_at,
  }),
  review: (r: Json) => ({
    id: r.id,
    claim_id: r.claim_id,
    reviewer: r.reviewer.id,
    verdict: r.verdict,
    rating_label: r.rating_label,
    rating_value: r.rating_value,
    best_rating: r.best_rating,
    worst_rating: r.worst_rating,
    published_at: r.published_at,
    version: r.version,
    created_at: r.created_at,
    updated_at: r.updated_at,
  }),
}
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
/** What a deleted record answers; 404 too for a link or review that went with its claim. */
const isGone = (status: number) => status === 410 || status === 404

const WORDS = ['pipeline', 'missile', 'shelling', 'drone', 'ceasefire', 'casualties', 'convoy', 'airport', 'bridge']
const PLACES = ['Ganja', 'Stepanakert', 'Barda', 'Tartar', 'Martuni', 'Shusha', 'Agdam', 'Fuzuli']
const VERDICTS = ['false', 'mostly-false', 'mixed', 'mostly-true', 'true', 'unproven'] as const
const CLAIMANT_KINDS = ['state', 'government', 'military', 'official', 'media', 'organisation'] as const
const DAY_MS = 86_400_000

/** A time in the span of days of a round of the exchange: every round's days come after the previous round's. */
const ROUND_DAYS = 90
const statedIn = (random: Random, round: number) =>
  new Date(
    Date.UTC(2020, 8, 1) + round * ROUND_DAYS * DAY_MS + Math.floor(random() * ROUND_DAYS * DAY_MS),
  ).toISOString()

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

/** Runs `work` over `items`, `width` at a time. */
async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!)
    }),
  )
}

/** The deadlocks PostgreSQL has detected in this database so far; statistics are flushed first. */
async function deadlocks(database: DatabaseHandle): Promise<number> {
  await sql`SELECT pg_stat_force_next_flush()`.execute(database.db)
  const { rows } = await sql<{ deadlocks: string }>`
    SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`.execute(database.db)
  return Number(rows[0]?.deadlocks)
}

async function liveRows(database: DatabaseHandle, table: 'parties' | 'claims' | 'links' | 'reviews') {
  const { rows } = await sql<{ n: string }>`
    SELECT count(*) AS n FROM ${sql.table(table)} WHERE deleted_at IS NULL`.execute(database.db)
  return Number(rows[0]?.n)
}

t.test(`${LOAD_CLIENTS} clients, ${LOAD_SECONDS} s of mixed reads and writes over HTTP`, { skip }, async (t) => {
  const limits = {
    // Far above what the run sends, so that no request is refused, while every request is still counted.
    RATE_LIMIT_PER_IP: '1000000000',
    RATE_LIMIT_PER_KEY: '1000000000',
    // The clients run in the server's own event loop: their work would count as the server's lag.
    MAX_EVENT_LOOP_DELAY_MS: '0',
  }
  const config = { ...loadConfig(limits), migrateOnStart: false }
  const database = await openTestDatabase({
    poolMax: config.databasePoolMax,
    connectTimeoutMs: config.databaseConnectTimeoutMs,
  })
  // Whatever the service logs as a warning or an error during the run is a finding.
  const logged: Json[] = []
  const logger = { level: 'warn', stream: { write: (line: string) => void logged.push(JSON.parse(line)) } }
  const app = await buildApp({ config, database, logger })
  const origin = await listenOnLoopback(app)
  const client: HttpClient = httpClient(origin, { connections: LOAD_CLIENTS })
  t.teardown(async () => {
    client.close()
    await app.close()
  })

  const tokens = await Promise.all(
    Array.from(
      { length: API_KEYS },
      async (_, i) => (await createApiKey(database.db, { name: `load writer ${i}`, scopes: ['write'] })).token,
    ),
  )

  const claims = new Map<string, ClaimState>()
  const parties = new Map<string, PartyState>()
  const links = new Map<string, LinkState>()
  const reviews = new Map<string, ReviewState>()
  const liveClaims = new Pool()
  const claimants: PartyState[] = []
  const checkers: PartyState[] = []
  const owned = Array.from({ length: API_KEYS }, () => ({
    claims: new Pool(),
    parties: new Pool(),
    links: new Pool(),
    reviews: new Pool(),
  }))
  /** Directed claim pairs linked (201) and (claim, reviewer) pairs reviewed: what a 409 may point to. */
  const linkedPairs = new Set<string>()
  const reviewedPairs = new Set<string>()
  /** Answers that are right only if something else happened by the end of the run (a 404 once its claim went). */
  const conditional: Array<{ what: string; holds: () => boolean }> = []
  const errors: string[] = []
  let errorCount = 0

  const claimDeleted = (id: string) => (claims.get(id)?.deletes ?? 0) > 0
  const linkGone = (id: string) => {
    const link = links.get(id)!
    return link.deletes > 0 || claimDeleted(link.from) || claimDeleted(link.to)
  }
  const reviewGone = (id: string) => claimDeleted(reviews.get(id)!.claimId)

  // Latencies and statuses of the timed run, per operation; requests made to seed and to check are not in them.
  let measuring = false
  const stats = new Map<string, { ms: number[]; statuses: Record<number, number>; failures: number }>()
  const statsOf = (op: string) => {
    let entry = stats.get(op)
    if (entry === undefined) stats.set(op, (entry = { ms: [], statuses: {}, failures: 0 }))
    return entry
  }

  function error(op: string, message: string) {
    errorCount++
    if (measuring) statsOf(op).failures++
    if (errors.length < 50) errors.push(`${op}: ${message}`)
  }
  const unexpected = (op: string, answer: HttpAnswer, path: string) =>
    error(op, `${path} answered ${answer.status} ${answer.raw.toString('utf8').slice(0, 300)}`)
  /** A status that is right only if `holds` is true once the run is over. */
  const expectLater = (what: string, holds: () => boolean): void => void conditional.push({ what, holds })

  async function send(
    op: string,
    method: string,
    path: string,
    options: { body?: unknown; key?: number; ifMatch?: string } = {},
  ): Promise<HttpAnswer | undefined> {
    const headers: Record<string, string> = {}
    if (options.key !== undefined) headers.authorization = `Bearer ${tokens[options.key]}`
    if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch
    const started = performance.now()
    let answer: HttpAnswer
    try {
      answer = await client.send(method, path, { body: options.body, headers })
    } catch (failure) {
      error(op, `${method} ${path}: ${(failure as Error).message}`)
      return undefined
    }
    if (measuring) {
      const entry = statsOf(op)
      entry.ms.push(performance.now() - started)
      entry.statuses[answer.status] = (entry.statuses[answer.status] ?? 0) + 1
    }
    const violations = contractViolations({
      method,
      url: path,
      status: answer.status,
      headers: answer.headers,
      body: answer.raw,
    })
    if (violations.length > 0) {
      error(op, `${method} ${path} answered ${answer.status} outside the OpenAPI document: ${violations.join('; ')}`)
      return undefined
    }
    return answer
  }

  // --- Writes: each records what its acknowledgement says was written ---

  async function createParty(op: string, key: number, kind: string, slug: string) {
    const body = { slug, name: `Party ${slug}`, kind, description: `Made by key ${key}.` }
    const answer = await send(op, 'POST', '/v1/parties', { body, key })
    if (answer === undefined) return
    if (answer.status !== 201 || answer.body.slug !== slug) return unexpected(op, answer, '/v1/parties')
    const party: PartyState = {
      id: answer.body.id,
      slug,
      latest: answer.body,
      editVersions: [],
      deletes: 0,
    }
    parties.set(party.id, party)
    owned[key]!.parties.add(party.id)
    ;(kind === 'fact-checker' ? checkers : claimants).push(party)
  }

  function claimBody(random: Random, party: PartyState, round: number) {
    const words = [oneOf(random, WORDS), oneOf(random, WORDS)]
    const body: Json = {
      party: random() < 0.5 ? party.slug : party.id,
      text: `${words[0]} and ${words[1]} reported near ${oneOf(random, PLACES)}.`,
      stated_at: statedIn(random, round),
      tags: [...new Set(words)],
    }
    if (random() < 0.3) body.sources = [{ url: `https://news.example.org/${Math.floor(random() * 1e9)}` }]
    return body
  }

  function acknowledgeClaim(op: string, claim: Json, sent: Json, key: number, partyId: string, round: number) {
    if (claim.text !== sent.text || claim.party.id !== partyId || !same(claim.tags, sent.tags) || claim.version !== 1) {
      return error(op, `claim ${claim.id} was acknowledged with other content than sent`)
    }
    const state: ClaimState = { id: claim.id, partyId, round, latest: claim, editVersions: [], deletes: 0 }
    claims.set(state.id, state)
    liveClaims.add(state.id)
    owned[key]!.claims.add(state.id)
  }

  function acknowledgeLink(link: Json, key: number) {
    const state: LinkState = {
      id: link.id,
      from: link.from_claim_id,
      to: link.to_claim_id,
      latest: link,
      editVersions: [],
      deletes: 0,
    }
    links.set(state.id, state)
    owned[key]!.links.add(state.id)
    linkedPairs.add(`${state.from}>${state.to}`)
  }

  async function createClaim(op: string, key: number, random: Random) {
    const party = oneOf(random, claimants)
    const body = claimBody(random, party, 0)
    const answer = await send(op, 'POST', '/v1/claims', { body, key })
    if (answer === undefined) return
    if (answer.status !== 201) return unexpected(op, answer, '/v1/claims')
    acknowledgeClaim(op, answer.body, body, key, party.id, 0)
  }

  /** A live claim and a claimant of another party, or undefined when the pool has none. */
  function targetAndOtherParty(random: Random) {
    const targetId = liveClaims.pick(random)
    if (targetId === undefined) return undefined
    const target = claims.get(targetId)!
    for (let attempt = 0; attempt < 5; attempt++) {
      const party = oneOf(random, claimants)
      if (party.id !== target.partyId) return { target, party }
    }
    return undefined
  }

  async function rebut(op: string, key: number, random: Random) {
    const pair = targetAndOtherParty(random)
    if (pair === undefined) return
    const path = `/v1/claims/${pair.target.id}/rebuttals`
    const round = pair.target.round + 1
    const claim = claimBody(random, pair.party, round)
    const answer = await send(op, 'POST', path, { body: { claim, note: 'Answers it.' }, key })
    if (answer === undefined) return
    if (answer.status === 201) {
      if (answer.body.link.to_claim_id !== pair.target.id || answer.body.link.from_claim_id !== answer.body.claim.id) {
        return error(op, `${path}: the link does not join the new claim to its target`)
      }
      acknowledgeClaim(op, answer.body.claim, claim, key, pair.party.id, round)
      return acknowledgeLink(answer.body.link, key)
    }
    if (isGone(answer.status)) return expectLater(`${path} ${answer.status}`, () => claimDeleted(pair.target.id))
    unexpected(op, answer, path)
  }

  async function link(op: string, key: number, random: Random) {
    const toId = liveClaims.pick(random)
    if (toId === undefined) return
    const to = claims.get(toId)!
    // A claim of another party, of a later round, answers it: the first of a few picked at random.
    let from: ClaimState | undefined
    for (let attempt = 0; attempt < 5 && from === undefined; attempt++) {
      const candidate = claims.get(liveClaims.pick(random)!)!
      if (candidate.partyId !== to.partyId && candidate.round > to.round) from = candidate
    }
    if (from === undefined) return
    const kind = random() < 0.75 ? 'rebuts' : 'supports'
    const body = { from_claim_id: from.id, to_claim_id: to.id, kind }
    const answer = await send(op, 'POST', '/v1/links', { body, key })
    if (answer === undefined) return
    const pairKey = `${from.id}>${to.id}`
    if (answer.status === 201) {
      if (answer.body.kind !== kind || answer.body.from_claim_id !== from.id) return unexpected(op, answer, '/v1/links')
      return acknowledgeLink(answer.body, key)
    }
    if (answer.status === 409 && answer.body.code === 'conflict') {
      return expectLater(`a second link ${pairKey} refused with 409`, () => linkedPairs.has(pairKey))
    }
    if ((answer.status === 422 && answer.body.code === 'unprocessable-entity') || answer.status === 410) {
      const ends = [from.id, to.id]
      return expectLater(`a link ${pairKey} refused with ${answer.status}`, () => ends.some(claimDeleted))
    }
    unexpected(op, answer, '/v1/links')
  }

  async function review(op: string, key: number, random: Random) {
    const claimId = liveClaims.pick(random)
    if (claimId === undefined) return
    const reviewer = oneOf(random, checkers)
    const path = `/v1/claims/${claimId}/reviews`
    const body: Json = {
      reviewer: reviewer.slug,
      verdict: oneOf(random, VERDICTS),
      rating_label: 'As published',
      published_at: new Date(Date.UTC(2020, 11, 1) + Math.floor(random() * 30 * DAY_MS)).toISOString(),
    }
    if (random() < 0.5) Object.assign(body, { rating_value: 2, best_rating: 5, worst_rating: 1 })
    const answer = await send(op, 'POST', path, { body, key })
    if (answer === undefined) return
    const pairKey = `${claimId}|${reviewer.id}`
    if (answer.status === 201) {
      const state: ReviewState = {
        id: answer.body.id,
        claimId,
        latest: answer.body,
        editVersions: [],
        deletes: 0,
      }
      reviews.set(state.id, state)
      owned[key]!.reviews.add(state.id)
      reviewedPairs.add(pairKey)
      return
    }
    if (answer.status === 409 && answer.body.code === 'conflict') {
      return expectLater(`a second review ${pairKey} refused with 409`, () => reviewedPairs.has(pairKey))
    }
    if (isGone(answer.status)) return expectLater(`${path} ${answer.status}`, () => claimDeleted(claimId))
    unexpected(op, answer, path)
  }

  /**
   * Reads a record for its ETag, then PATCHes it with If-Match. A 412 is a right answer: it changed in between,
   * edited by another client holding the same key, or (a claim) answered, linked or reviewed by anyone. A 404 is
   * right once the record is gone.
   */
  async function editWithIfMatch(
    op: string,
    key: number,
    path: string,
    patch: Json,
    ledger: Ledger,
    gone: () => boolean,
    check: (answer: HttpAnswer) => boolean,
  ) {
    const read = await send(`${op} (read)`, 'GET', path)
    if (read === undefined) return
    if (isGone(read.status)) return expectLater(`${path} ${read.status} before an edit`, gone)
    if (read.status !== 200) return unexpected(op, read, path)
    const answer = await send(op, 'PATCH', path, { body: patch, key, ifMatch: read.headers.etag as string })
    if (answer === undefined) return
    if (answer.status === 200) {
      if (!check(answer)) return error(op, `${path}: the edit was acknowledged with other content than sent`)
      ledger.editVersions.push(answer.body.version)
      if (answer.body.version > ledger.latest.version) ledger.latest = answer.body
      return
    }
    if (answer.status === 412 && answer.body.code === 'precondition-failed') return
    if (isGone(answer.status)) return expectLater(`${path} ${answer.status} to an edit`, gone)
    unexpected(op, answer, path)
  }

  async function editClaim(op: string, key: number, random: Random, withIfMatch: boolean) {
    const id = owned[key]!.claims.pick(random)
    if (id === undefined) return
    const state = claims.get(id)!
    const path = `/v1/claims/${id}`
    const patch: Json = { text: `Revised: ${oneOf(random, WORDS)} near ${oneOf(random, PLACES)}.` }
    // Moving stated_at recounts the claims it answers, under their locks: the heaviest edit.
    if (random() < 0.3) patch.stated_at = statedIn(random, state.round)
    if (random() < 0.3) patch.tags = [oneOf(random, WORDS)]
    const check = (answer: HttpAnswer) => answer.body.text === patch.text && answer.body.id === id
    if (withIfMatch) return editWithIfMatch(op, key, path, patch, state, () => claimDeleted(id), check)
    const answer = await send(op, 'PATCH', path, { body: patch, key })
    if (answer === undefined) return
    if (answer.status === 200 && check(answer)) {
      state.editVersions.push(answer.body.version)
      if (answer.body.version > state.latest.version) state.latest = answer.body
      return
    }
    if (isGone(answer.status)) return expectLater(`${path} ${answer.status} to an edit`, () => claimDeleted(id))
    unexpected(op, answer, path)
  }

  async function editParty(op: string, key: number, random: Random) {
    const id = owned[key]!.parties.pick(random)
    if (id === undefined) return
    const patch = { description: `Edited at ${Math.floor(random() * 1e9)}.` }
    const check = (answer: HttpAnswer) => answer.body.description === patch.description
    await editWithIfMatch(op, key, `/v1/parties/${id}`, patch, parties.get(id)!, () => false, check)
  }

  async function editReview(op: string, key: number, random: Random) {
    const id = owned[key]!.reviews.pick(random)
    if (id === undefined) return
    const patch = { verdict: oneOf(random, VERDICTS), rating_label: `Label ${Math.floor(random() * 1e6)}` }
    const check = (answer: HttpAnswer) => answer.body.rating_label === patch.rating_label
    await editWithIfMatch(op, key, `/v1/reviews/${id}`, patch, reviews.get(id)!, () => reviewGone(id), check)
  }

  async function unlink(op: string, key: number, random: Random) {
    const id = owned[key]!.links.pick(random)
    if (id === undefined) return
    const path = `/v1/links/${id}`
    const read = await send(`${op} (read)`, 'GET', path)
    if (read === undefined) return
    if (isGone(read.status)) {
      owned[key]!.links.remove(id)
      return expectLater(`${path} ${read.status} before its delete`, () => linkGone(id))
    }
    if (read.status !== 200) return unexpected(op, read, path)
    const answer = await send(op, 'DELETE', path, { key, ifMatch: read.headers.etag as string })
    if (answer === undefined) return
    if (answer.status === 204) {
      links.get(id)!.deletes++
      owned[key]!.links.remove(id)
      return
    }
    if (answer.status === 412 && answer.body.code === 'precondition-failed') return
    if (isGone(answer.status)) return expectLater(`${path} ${answer.status} to its delete`, () => linkGone(id))
    unexpected(op, answer, path)
  }

  async function deleteClaim(op: string, key: number, random: Random) {
    const id = owned[key]!.claims.pick(random)
    if (id === undefined) return
    const path = `/v1/claims/${id}`
    const answer = await send(op, 'DELETE', path, { key })
    if (answer === undefined) return
    if (answer.status === 204) {
      claims.get(id)!.deletes++
      liveClaims.remove(id)
      owned[key]!.claims.remove(id)
      return
    }
    if (isGone(answer.status)) return expectLater(`${path} ${answer.status} to its delete`, () => claimDeleted(id))
    // Another key linked or reviewed it meanwhile: that work is theirs, so only an admin key may delete it now.
    if (answer.status === 409 && /made with other API keys/.test(String(answer.body?.detail))) return
    unexpected(op, answer, path)
  }

  // --- Reads ---

  async function readClaim(op: string, random: Random, suffix: string) {
    const id = liveClaims.pick(random)
    if (id === undefined) return
    const path = `/v1/claims/${id}${suffix}`
    const answer = await send(op, 'GET', path)
    if (answer === undefined) return
    if (answer.status === 200) {
      const read = suffix === '' ? answer.body : answer.body.claim
      if (read?.id !== id) error(op, `${path} answered with another claim`)
      return
    }
    if (isGone(answer.status)) return expectLater(`${path} ${answer.status}`, () => claimDeleted(id))
    unexpected(op, answer, path)
  }

  async function readList(op: string, path: string) {
    const answer = await send(op, 'GET', path)
    if (answer === undefined) return
    if (answer.status !== 200 || !Array.isArray(answer.body?.data)) unexpected(op, answer, path)
  }

  const operations: Array<{ name: string; weight: number; run: (key: number, random: Random) => Promise<void> }> = [
    { name: 'get claim', weight: 18, run: (_, random) => readClaim('get claim', random, '') },
    {
      name: 'list claims',
      weight: 10,
      run: (_, random) =>
        readList(
          'list claims',
          oneOf(random, [
            '/v1/claims?limit=20',
            `/v1/claims?party=${oneOf(random, claimants).slug}&limit=20`,
            `/v1/claims?tag=${oneOf(random, WORDS)}&limit=20`,
            '/v1/claims?status=disputed&sort=-created_at&limit=20',
          ]),
        ),
    },
    {
      name: 'disputes',
      weight: 8,
      run: (_, random) =>
        readList(
          'disputes',
          oneOf(random, [
            '/v1/disputes?limit=20',
            `/v1/disputes?tag=${oneOf(random, WORDS)}&limit=20`,
            '/v1/disputes?sort=-rebuttal_count&limit=20',
          ]),
        ),
    },
    { name: 'thread', weight: 7, run: (_, random) => readClaim('thread', random, '/thread?depth=3') },
    {
      name: 'search',
      weight: 6,
      run: (_, random) => readList('search', `/v1/claims?q=${oneOf(random, WORDS)}+${oneOf(random, PLACES)}&limit=20`),
    },
    {
      name: 'create party',
      weight: 1,
      run: (key, random) =>
        createParty(
          'create party',
          key,
          oneOf(random, CLAIMANT_KINDS),
          `load-${key}-${Math.floor(random() * 1e12).toString(36)}`,
        ),
    },
    { name: 'create claim', weight: 9, run: (key, random) => createClaim('create claim', key, random) },
    {
      name: 'rebuttal with a new claim',
      weight: 6,
      run: (key, random) => rebut('rebuttal with a new claim', key, random),
    },
    { name: 'link', weight: 6, run: (key, random) => link('link', key, random) },
    {
      name: 'edit claim (If-Match)',
      weight: 8,
      run: (key, random) => editClaim('edit claim (If-Match)', key, random, true),
    },
    {
      name: 'edit claim (no If-Match)',
      weight: 1,
      run: (key, random) => editClaim('edit claim (no If-Match)', key, random, false),
    },
    { name: 'edit party (If-Match)', weight: 2, run: (key, random) => editParty('edit party (If-Match)', key, random) },
    { name: 'review', weight: 4, run: (key, random) => review('review', key, random) },
    {
      name: 'edit review (If-Match)',
      weight: 3,
      run: (key, random) => editReview('edit review (If-Match)', key, random),
    },
    { name: 'delete link (If-Match)', weight: 2, run: (key, random) => unlink('delete link (If-Match)', key, random) },
    { name: 'delete claim', weight: 2, run: (key, random) => deleteClaim('delete claim', key, random) },
  ]
  const totalWeight = operations.reduce((sum, op) => sum + op.weight, 0)
  function chooseOperation(random: Random) {
    let point = random() * totalWeight
    for (const op of operations) if ((point -= op.weight) < 0) return op
    return operations.at(-1)!
  }

  // --- Seed: parties of each key, fact-checkers, claims, and some rebuttals so that disputes exist ---

  const seedRandom = randomSource(LOAD_SEED)
  for (let key = 0; key < API_KEYS; key++) {
    for (let i = 0; i < 2; i++) {
      await createParty('seed', key, oneOf(seedRandom, CLAIMANT_KINDS), `load-seed-${key}-${i}`)
    }
    if (key < 3) await createParty('seed', key, 'fact-checker', `load-checker-${key}`)
  }
  await inParallel(
    Array.from({ length: 150 }, (_, i) => i),
    10,
    (i) => createClaim('seed', i % API_KEYS, seedRandom),
  )
  await inParallel(
    Array.from({ length: 40 }, (_, i) => i),
    10,
    (i) => rebut('seed', i % API_KEYS, seedRandom),
  )
  t.same(errors, [], 'the seed went in')

  // --- The run ---

  const deadlocksBefore = await deadlocks(database)
  measuring = true
  const started = performance.now()
  const deadline = started + LOAD_SECONDS * 1000
  await Promise.all(
    Array.from({ length: LOAD_CLIENTS }, async (_, index) => {
      const random = randomSource(LOAD_SEED + 1 + index)
      const key = index % API_KEYS
      while (performance.now() < deadline) await chooseOperation(random).run(key, random)
    }),
  )
  const elapsedS = (performance.now() - started) / 1000
  measuring = false

  // --- The report ---

  const all = [...stats.values()].flatMap((entry) => entry.ms).sort((a, b) => a - b)
  const fixed = (n: number) => n.toFixed(1)
  t.comment(
    `${LOAD_CLIENTS} clients, ${API_KEYS} API keys, pool of ${config.databasePoolMax} connections, ${LOAD_SECONDS} s ` +
      `(seed ${LOAD_SEED})`,
  )
  t.comment(
    `${all.length} requests in ${elapsedS.toFixed(1)} s: ${Math.round(all.length / elapsedS)} req/s; ` +
      `latency p50 ${fixed(percentile(all, 50))} ms, p99 ${fixed(percentile(all, 99))} ms, ` +
      `max ${fixed(all.at(-1) ?? 0)} ms; errors ${errorCount}`,
  )
  const width = Math.max(...[...stats.keys()].map((name) => name.length))
  for (const [name, entry] of [...stats.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const ms = entry.ms.sort((a, b) => a - b)
    t.comment(
      `  ${name.padEnd(width)} ${String(ms.length).padStart(7)}  p50 ${fixed(percentile(ms, 50)).padStart(6)} ms  ` +
        `p99 ${fixed(percentile(ms, 99)).padStart(6)} ms  ${JSON.stringify(entry.statuses)}` +
        (entry.failures > 0 ? `, ${entry.failures} errors` : ''),
    )
  }
  t.equal(errorCount, 0, 'no error: no 5xx, no network error, no answer the rules do not call for')
  for (const message of errors) t.comment(`  error: ${message}`)

  // --- Every answer that was right only if something happened: it did ---

  const unexplained = conditional.filter((answer) => !answer.holds())
  t.same(
    unexplained.map((answer) => answer.what).slice(0, 20),
    [],
    `every 404, 409, 410 and 422 is explained by a delete or a write acknowledged in the run (${conditional.length} were)`,
  )

  // --- Every acknowledged write is there, read back over HTTP ---

  let acknowledged = 0
  let lost = 0
  const losses: string[] = []
  const loss = (message: string) => {
    lost++
    if (losses.length < 20) losses.push(message)
  }

  /** The ledger's checks: gone when deleted, else readable with the content of its latest acknowledged write. */
  async function verify(
    kind: keyof typeof content,
    path: string,
    ledger: Ledger,
    gone: boolean,
    history?: string,
  ): Promise<void> {
    acknowledged += 1 + ledger.editVersions.length + ledger.deletes
    if (ledger.deletes > 1) loss(`${path} acknowledged as deleted ${ledger.deletes} times`)
    const read = await send('verify', 'GET', path)
    if (read === undefined) return loss(`${path} could not be read`)
    if (gone) {
      if (!isGone(read.status) || (kind === 'claim' && read.status !== 410)) {
        loss(`${path} was deleted, yet answers ${read.status}`)
      }
      return
    }
    if (read.status !== 200) return loss(`${path} was acknowledged, yet answers ${read.status}`)
    const expected = content[kind](ledger.latest)
    if (!same(content[kind](read.body), expected)) {
      return loss(`${path} reads ${JSON.stringify(content[kind](read.body))}, not ${JSON.stringify(expected)}`)
    }
    // Each acknowledged edit made a version of its own, and no other edit happened: versions 2 to N, each once.
    const versions = [...ledger.editVersions].sort((a, b) => a - b)
    if (
      !same(
        versions,
        versions.map((_, i) => i + 2),
      ) ||
      read.body.version !== versions.length + 1
    ) {
      return loss(`${path} is at version ${read.body.version} after edits acknowledged as ${versions.join(', ')}`)
    }
    if (history !== undefined && versions.length > 0) {
      const page = await send('verify', 'GET', `${path}/history?limit=200`)
      const kept = page?.body?.data?.map((v: { version: number }) => v.version)
      const want = Array.from({ length: Math.min(200, read.body.version) }, (_, i) => read.body.version - i)
      if (!same(kept, want)) loss(`${path}/history holds versions ${kept}, not ${want}`)
    }
  }

  const errorsOfRun = errorCount
  const errorsShown = errors.length
  const checks: Array<() => Promise<void>> = [
    ...[...parties.values()].map((p) => () => verify('party', `/v1/parties/${p.id}`, p, false)),
    ...[...claims.values()].map((c) => () => verify('claim', `/v1/claims/${c.id}`, c, c.deletes > 0, 'history')),
    ...[...links.values()].map((l) => () => verify('link', `/v1/links/${l.id}`, l, linkGone(l.id))),
    ...[...reviews.values()].map((r) => () => verify('review', `/v1/reviews/${r.id}`, r, reviewGone(r.id), 'history')),
  ]
  await inParallel(checks, LOAD_CLIENTS, (check) => check())
  const creates = parties.size + claims.size + links.size + reviews.size
  const edits = [...parties.values(), ...claims.values(), ...reviews.values()].reduce(
    (sum, ledger) => sum + ledger.editVersions.length,
    0,
  )
  const deletes = [...claims.values(), ...links.values()].reduce((sum, ledger) => sum + ledger.deletes, 0)
  t.comment(
    `writes acknowledged: ${acknowledged} (${creates} creates, ${edits} edits, ${deletes} deletes; seed included); ` +
      `writes lost: ${lost}`,
  )
  t.equal(lost, 0, 'every acknowledged write is readable as acknowledged; every acknowledged delete reads 410')
  for (const message of losses) t.comment(`  lost: ${message}`)
  t.equal(errorCount - errorsOfRun, 0, 'reading everything back met no error either')
  for (const message of errors.slice(errorsShown)) t.comment(`  error: ${message}`)

  // --- The database holds what was acknowledged, and nothing else ---

  const expectLive = {
    parties: parties.size,
    claims: [...claims.values()].filter((c) => c.deletes === 0).length,
    links: [...links.keys()].filter((id) => !linkGone(id)).length,
    reviews: [...reviews.keys()].filter((id) => !reviewGone(id)).length,
  }
  t.same(
    {
      parties: await liveRows(database, 'parties'),
      claims: await liveRows(database, 'claims'),
      links: await liveRows(database, 'links'),
      reviews: await liveRows(database, 'reviews'),
    },
    expectLive,
    'the live rows are exactly the acknowledged ones: no write happened that was not acknowledged',
  )
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] }, 'counts are right')
  t.equal((await deadlocks(database)) - deadlocksBefore, 0, 'PostgreSQL detected no deadlock')
  t.same(
    logged.map((entry) => `${entry.level}: ${entry.msg}`).slice(0, 10),
    [],
    'the service logged no warning and no error',
  )
})
