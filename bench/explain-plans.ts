import { mkdir, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient, sql } from 'kysely'
import pg from 'pg'
import { SESSION_SETTINGS } from '../src/db/database.js'
import * as prettier from 'prettier'
import type { Database } from '../src/db/schema.js'
import { duplicateCandidates, findClaimById, similarClaims } from '../src/repositories/claim.repository.js'
import { SIMILAR_MIN_SCORE, SIMILAR_SEARCH_BOUNDS } from '../src/schemas/claim.schema.js'
import { DUPLICATE_MIN_SCORE, DUPLICATE_WINDOW_DAYS } from '../src/services/claim.service.js'
import { findEventByKey, listEventFigures } from '../src/repositories/event.repository.js'
import { latestRebuttals, listDisputedClaims, rebuttalMatrix } from '../src/repositories/dispute.repository.js'
import { responseTimes } from '../src/repositories/response-times.repository.js'
import { getThread } from '../src/services/thread.service.js'
import {
  checkDatabaseName,
  commandLine,
  DEFAULT_DATABASE,
  databaseUrl,
  type GenerationRecord,
  generationFits,
  latestMigration,
  seconds,
  serverUrl,
} from './scratch-database.js'

/**
 * Captures the plans of the disputes, thread and matrix queries on the scratch database. The repository
 * functions themselves run, through a pool whose clients can prefix what they are sent with EXPLAIN ANALYZE: the
 * SQL explained is the SQL the API sends, parameters included, and not a copy of it that could drift. The thread
 * is walked by its service, one query per depth, each step's frontier from the rows of the step before: only the
 * service's own loop asks exactly what the API asks.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/explain-plans.ts [--database NAME] [--out DIR]
 */

const { values: options } = parseArgs({
  options: {
    database: { type: 'string', default: DEFAULT_DATABASE },
    out: { type: 'string' },
  },
})

const server = serverUrl()
const database = checkDatabaseName(options.database, server)
/** The committed plans are of the full scale; others go where --out says. */
const COMMITTED_PLANS = fileURLToPath(new URL('./plans/', import.meta.url))
const outDir = options.out === undefined ? COMMITTED_PLANS : resolve(options.out)

/** The first page of /v1/disputes must stay under this much database time at 1M claims and 300k links. */
const TARGET_MS = 10
/** Flagged, not failed: a node that discards this many rows is reading a table, whatever its scan is called. */
const FILTERED_OUT_WARNING = 10_000
/** A page of 50, and one more row that tells whether another page follows (as the service asks). */
const PAGE = 50

interface Statement {
  text: string
  parameters: readonly unknown[]
  plan: string[]
}

/** While set, every query is explained, recorded here, and then run. */
let explaining: Statement[] | undefined

// EXPLAIN ANALYZE gives the plan but not the rows. Every query explained is a read, and is run once more for its
// rows, so that a caller that goes on from them (the thread walk, step by step) takes the path the API takes.
function explainingClient(client: pg.PoolClient): PostgresPoolClient {
  const query = async (text: string, parameters: readonly unknown[]) => {
    if (explaining !== undefined) {
      const result = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) ${text}`, [
        ...parameters,
      ])
      explaining.push({ text, parameters, plan: result.rows.map((row) => row['QUERY PLAN']) })
    }
    return client.query(text, [...parameters])
  }
  // Kysely calls query with a cursor only to stream, which the repositories never do.
  return {
    query: query as unknown as PostgresPoolClient['query'],
    release: (destroy?: boolean) => client.release(destroy),
  }
}

const pool = new pg.Pool({
  connectionString: databaseUrl(server, database),
  max: 1,
  // The same session settings as the service's own pool, so that the plans are the ones it gets.
  options: SESSION_SETTINGS,
  application_name: 'counterclaim-bench',
})
// Kysely keeps one connection object per pooled client it is given: hand it the same wrapper each time.
const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>()
const explainingPool: PostgresPool = {
  connect: async () => {
    const client = await pool.connect()
    let wrapper = wrappers.get(client)
    if (wrapper === undefined) {
      wrapper = explainingClient(client)
      wrappers.set(client, wrapper)
    }
    return wrapper
  },
  end: () => pool.end(),
}
const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: explainingPool }) })

interface Captured {
  name: string
  about: string
  statements: Statement[]
  executionMs: number
  planningMs: number
  seqScans: string[]
  /** The most rows one plan node read and threw away: an index walk can read a table as a Seq Scan would. */
  filteredOut: number
  /** Median round trip of the query run plainly, as the API would run it (five runs, after the capture). */
  clientMs: number
}
const captured: Captured[] = []

const timeOf = (plan: string[], label: string) =>
  plan.reduce((sum, line) => sum + Number(new RegExp(`^${label} Time: ([\\d.]+) ms`).exec(line)?.[1] ?? 0), 0)
function largestFilter(plan: string[]): number {
  let loops = 1
  let largest = 0
  for (const line of plan) {
    const node = /actual time=\S+ rows=\d+ loops=(\d+)/.exec(line)
    if (node !== null) loops = Number(node[1])
    const removed = /Rows Removed by Filter: (\d+)/.exec(line)
    // EXPLAIN gives the rows per loop: a node run once per outer row removes that many each time.
    if (removed !== null) largest = Math.max(largest, Number(removed[1]) * loops)
  }
  return largest
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/**
 * Runs `call` once as is (to warm the caches, and for its rows), once explained, then five times more for the
 * round trip; writes the plan and returns the rows of the first run.
 */
async function capture<T>(name: string, about: string, call: () => Promise<T>): Promise<T> {
  const result = await call()
  explaining = []
  let statements: Statement[]
  try {
    await call()
  } finally {
    statements = explaining
    explaining = undefined
  }
  const roundTrips: number[] = []
  for (let run = 0; run < 5; run++) {
    const startedAt = process.hrtime.bigint()
    await call()
    roundTrips.push(seconds(startedAt) * 1000)
  }
  const plan = statements.flatMap((statement) => statement.plan)
  const seqScans = [...new Set(plan.flatMap((line) => /Seq Scan on (claims|links)\b/.exec(line)?.[1] ?? []))]
  const entry: Captured = {
    name,
    about,
    statements,
    executionMs: timeOf(plan, 'Execution'),
    planningMs: timeOf(plan, 'Planning'),
    seqScans,
    filteredOut: largestFilter(plan),
    clientMs: median(roundTrips),
  }
  captured.push(entry)
  await writeFile(`${outDir}/${name}.txt`, planFile(entry))
  const flags = [
    ...(seqScans.length > 0 ? [`Seq Scan on ${seqScans.join(', ')}`] : []),
    ...(entry.filteredOut >= FILTERED_OUT_WARNING
      ? [`${entry.filteredOut.toLocaleString('en')} rows filtered out`]
      : []),
  ]
  const flag = flags.length > 0 ? `  ${flags.join(', ')}` : ''
  console.log(
    `${name.padEnd(30)} execution ${entry.executionMs.toFixed(3).padStart(9)} ms  planning ` +
      `${entry.planningMs.toFixed(3).padStart(7)} ms  round trip ${entry.clientMs.toFixed(2).padStart(8)} ms${flag}`,
  )
  return result
}

const parameterText = (parameters: readonly unknown[]) =>
  parameters.map((value, i) => `  $${i + 1} = ${JSON.stringify(value)}`).join('\n') || '  (none)'

let scaleLine = ''
let serverLine = ''
let migrationNote = ''
function planFile(entry: Captured): string {
  const parts = [
    `-- ${entry.name}: ${entry.about}`,
    `-- captured ${new Date().toISOString()} on ${database}: ${scaleLine}`,
    `-- server: ${serverLine}`,
    '',
  ]
  for (const [i, statement] of entry.statements.entries()) {
    if (entry.statements.length > 1) {
      const ms = (label: string) => timeOf(statement.plan, label).toFixed(3)
      parts.push(
        `==== statement ${i + 1} of ${entry.statements.length}: execution ${ms('Execution')} ms, ` +
          `planning ${ms('Planning')} ms`,
        '',
      )
    }
    parts.push(
      'SQL:',
      statement.text.replace(/^\n+/, ''),
      '',
      'Parameters:',
      parameterText(statement.parameters),
      '',
      'Plan:',
      ...statement.plan,
      '',
    )
  }
  return parts.join('\n')
}

async function one<T>(query: string): Promise<T> {
  const { rows } = await sql<T>`${sql.raw(query)}`.execute(db)
  if (rows[0] === undefined) throw new Error(`the scratch database has nothing for: ${query.trim()}`)
  return rows[0]
}

const startedAt = process.hrtime.bigint()
/** A database this script will not take plans from, said plainly. */
class Refusal extends Error {}

let failed: Captured[] = []
let fullScale = true
try {
  const { comment } = await one<{ comment: string | null }>(
    "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = current_database()",
  )
  const generation = comment === null ? undefined : (JSON.parse(comment) as GenerationRecord)
  // Plans of another schema, or of data the current generator would not make, would mislead; data migrated
  // forward by the service since it was made is what a deployed database holds, and is taken, saying so.
  const { applied } = await one<{ applied: string | null }>('SELECT max(name) AS applied FROM kysely_migration')
  const fit = generationFits(generation, applied ?? undefined, await latestMigration())
  if (generation === undefined || !fit.fits) {
    throw new Refusal(`${database}: ${fit.note}: make it again with npm run bench:data`)
  }
  migrationNote = fit.note
  fullScale = generation.scale >= 1
  if (!fullScale && options.out === undefined) {
    throw new Refusal(`${database} is at scale ${generation.scale}: the committed plans are of scale 1; give --out DIR`)
  }
  await mkdir(outDir, { recursive: true })
  const counts = await one<{ parties: number; claims: number; links: number; disputed: number; rebuts: number }>(`
    SELECT (SELECT count(*) FROM parties WHERE deleted_at IS NULL)::int AS parties,
           (SELECT count(*) FROM claims WHERE deleted_at IS NULL)::int AS claims,
           (SELECT count(*) FROM links WHERE deleted_at IS NULL)::int AS links,
           (SELECT count(*) FROM links WHERE deleted_at IS NULL AND kind = 'rebuts')::int AS rebuts,
           (SELECT count(*) FROM claims WHERE deleted_at IS NULL AND rebuttal_count > 0)::int AS disputed`)
  const n = (value: number) => value.toLocaleString('en')
  scaleLine =
    `${n(counts.parties)} parties, ${n(counts.claims)} claims (${n(counts.disputed)} disputed), ` +
    `${n(counts.links)} links (${n(counts.rebuts)} rebuts)`
  // Plans and timings depend on these as much as on the data.
  const settings = await one<Record<string, string>>(`
    SELECT split_part(version(), ' on ', 1) AS version, current_setting('shared_buffers') AS shared_buffers,
           current_setting('work_mem') AS work_mem, current_setting('effective_cache_size') AS effective_cache_size,
           current_setting('random_page_cost') AS random_page_cost, current_setting('jit') AS jit`)
  serverLine = Object.entries(settings)
    .map(([name, value]) => (name === 'version' ? value : `${name}=${value}`))
    .join(', ')
  console.log(`${database}: ${scaleLine}\n${serverLine}\n`)

  // The arguments, chosen by what the data holds, so that each plan is of a case that matters at this scale.
  const party = await one<{ id: string; slug: string; disputed: number }>(`
    SELECT p.id, p.slug, d.disputed FROM (
      SELECT party_id, count(*)::int AS disputed FROM claims WHERE deleted_at IS NULL AND rebuttal_count > 0
      GROUP BY party_id ORDER BY count(*) DESC, party_id LIMIT 1
    ) d JOIN parties p ON p.id = d.party_id`)
  const rebutter = await one<{ id: string; slug: string; rebuttals: number }>(`
    SELECT p.id, p.slug, r.rebuttals FROM (
      SELECT from_party_id, count(*)::int AS rebuttals FROM links WHERE deleted_at IS NULL AND kind = 'rebuts'
      GROUP BY from_party_id ORDER BY count(*) DESC, from_party_id LIMIT 1
    ) r JOIN parties p ON p.id = r.from_party_id`)
  const tag = await one<{ tag: string; disputed: number }>(`
    SELECT t AS tag, count(*)::int AS disputed FROM claims, unnest(tags) t
    WHERE deleted_at IS NULL AND rebuttal_count > 0 GROUP BY t ORDER BY count(*) DESC, t LIMIT 1`)
  // Words as written, not stems: counted on a fixed sample of the disputed claims.
  const word = await one<{ word: string; share: number }>(`
    SELECT word, round(100.0 * ndoc / (SELECT count(*) FROM claims TABLESAMPLE BERNOULLI (10) REPEATABLE (1)
                                       WHERE deleted_at IS NULL AND rebuttal_count > 0), 1)::float AS share
    FROM ts_stat($$SELECT to_tsvector('simple', text) FROM claims TABLESAMPLE BERNOULLI (10) REPEATABLE (1)
                   WHERE deleted_at IS NULL AND rebuttal_count > 0$$)
    ORDER BY ndoc DESC, word LIMIT 1`)
  const rebutted = await one<{ id: string; rebuttal_count: number }>(`
    SELECT id, rebuttal_count FROM claims WHERE deleted_at IS NULL ORDER BY rebuttal_count DESC, id LIMIT 1`)
  // A thread root with a chain of three live links below it; the first by id is as good as any.
  const chain = `
    FROM links l1
    JOIN links l2 ON l2.to_claim_id = l1.from_claim_id AND l2.deleted_at IS NULL
    JOIN links l3 ON l3.to_claim_id = l2.from_claim_id AND l3.deleted_at IS NULL
    WHERE l1.deleted_at IS NULL`
  const root = await one<{ id: string }>(`SELECT l1.to_claim_id AS id ${chain} ORDER BY l1.to_claim_id LIMIT 1`)
  const largest = await one<{ id: string; chains: number }>(`
    SELECT l1.to_claim_id AS id, count(*)::int AS chains ${chain} GROUP BY l1.to_claim_id
    ORDER BY count(*) DESC, l1.to_claim_id LIMIT 1`)

  const firstPage = { order: 'last_response_at', descending: true, limit: PAGE + 1 } as const
  const page = await capture('disputes-default', 'GET /v1/disputes: the first page, by most recent response', () =>
    listDisputedClaims(db, firstPage),
  )
  await capture('disputes-by-party', `?party=${party.slug} (${n(party.disputed)} disputed claims)`, () =>
    listDisputedClaims(db, { ...firstPage, partyId: party.id }),
  )
  await capture('disputes-by-tag', `?tag=${tag.tag} (on ${n(tag.disputed)} disputed claims)`, () =>
    listDisputedClaims(db, { ...firstPage, tags: [tag.tag] }),
  )
  await capture('disputes-by-rebutter', `?rebutted_by=${rebutter.slug} (${n(rebutter.rebuttals)} rebuttals)`, () =>
    listDisputedClaims(db, { ...firstPage, rebuttedById: rebutter.id }),
  )
  const mostRebutted = await capture('disputes-most-rebutted', '?sort=-rebuttal_count', () =>
    listDisputedClaims(db, { ...firstPage, order: 'rebuttal_count' }),
  )
  await capture('disputes-newest-claim', '?sort=-stated_at', () =>
    listDisputedClaims(db, { ...firstPage, order: 'stated_at' }),
  )
  // The cursor the API hands out: the key of the last row shown (the 50th), its timestamp as toISOString()
  // writes it (listKeyValue in the claim service).
  const last = page[PAGE - 1]
  if (last === undefined) throw new Error(`fewer than ${PAGE} disputed claims: no second page to explain`)
  const key = last.sort_key instanceof Date ? last.sort_key.toISOString() : last.sort_key
  await capture('disputes-second-page', `the page after the first, from the cursor of its 50th row`, () =>
    listDisputedClaims(db, { ...firstPage, after: [key, last.id] }),
  )
  await capture('disputes-search', `?q=${word.word} (in ~${word.share}% of disputed claims)`, () =>
    listDisputedClaims(db, { ...firstPage, text: word.word }),
  )
  const ids = page.slice(0, PAGE).map((row) => row.id)
  await capture(
    'latest-rebuttals',
    `the 3 latest rebuttals of each of the ${ids.length} claims of the first page`,
    () => latestRebuttals(db, ids, 3),
  )
  // The second query of the same request when sorted by most rebutted: its claims have the most links to sort.
  const mostRebuttedIds = mostRebutted.slice(0, PAGE).map((row) => row.id)
  await capture('latest-rebuttals-most-rebutted', 'the same, for the first page by most rebutted', () =>
    latestRebuttals(db, mostRebuttedIds, 3),
  )
  await capture('thread-depth-3', `GET /v1/claims/${root.id}/thread?depth=3: a root with a chain of 3 links`, () =>
    getThread(db, root.id, 3),
  )
  await capture(
    'thread-depth-3-largest',
    `the same, on the root with the most chains of 3 (${n(largest.chains)})`,
    () => getThread(db, largest.id, 3),
  )
  await capture('similar', `GET /v1/claims/${root.id}/similar: the claims most like a thread root's text`, () =>
    similarClaims(db, {
      id: root.id,
      minScore: SIMILAR_MIN_SCORE,
      limit: 10,
      ...SIMILAR_SEARCH_BOUNDS,
    }),
  )
  // Stated now: later than any claim the statistics know of, as a new claim usually is.
  await capture('duplicate-check', `POST /v1/claims: a new claim of ${rebutter.slug} checked for duplicates`, () =>
    duplicateCandidates(db, {
      partyKey: rebutter.slug,
      text: 'The ministry says the strike hit the pipeline near the river crossing.',
      statedAt: new Date().toISOString(),
      windowDays: DUPLICATE_WINDOW_DAYS,
      minScore: DUPLICATE_MIN_SCORE,
      limit: 5,
    }),
  )
  await capture('matrix-by-party', 'GET /v1/disputes/matrix', () =>
    rebuttalMatrix(db, { by: 'party', kind: 'rebuts', limit: 101 }),
  )
  await capture('matrix-by-side', 'GET /v1/disputes/matrix?by=side', () =>
    rebuttalMatrix(db, { by: 'side', kind: 'rebuts', limit: 101 }),
  )
  await capture('matrix-by-tag', `GET /v1/disputes/matrix?tag=${tag.tag}`, () =>
    rebuttalMatrix(db, { by: 'party', kind: 'rebuts', tags: [tag.tag], limit: 101 }),
  )
  await capture(
    'response-times-party',
    `GET /v1/parties/${rebutter.slug}/response-times (the party with the most rebuttals)`,
    () => responseTimes(db, rebutter.id),
  )
  await capture('response-times-all', 'GET /v1/response-times: every party', () => responseTimes(db))
  // The event whose claims state the most figures: the largest figures table.
  const figured = await one<{ id: string; slug: string; figures: number; claims: number }>(`
    SELECT e.id, e.slug, f.figures, f.claims FROM (
      SELECT c.event_id, count(*)::int AS figures, count(DISTINCT c.id)::int AS claims
      FROM claims c JOIN claim_figures f ON f.claim_id = c.id
      WHERE c.deleted_at IS NULL AND c.event_id IS NOT NULL
      GROUP BY c.event_id ORDER BY count(*) DESC, c.event_id LIMIT 1
    ) f JOIN events e ON e.id = f.event_id`)
  await capture(
    'event-figures',
    `GET /v1/events/${figured.slug}/figures: the figures (${n(figured.figures)}, of ${n(figured.claims)} claims) of the event with the most`,
    () => listEventFigures(db, figured.id),
  )
  await capture('event-by-slug', `GET /v1/events/${figured.slug}, its claims counted`, () =>
    findEventByKey(db, figured.slug),
  )
  await capture('claim-by-id', `GET /v1/claims/:id of the most rebutted claim (${n(rebutted.rebuttal_count)})`, () =>
    findClaimById(db, rebutted.id),
  )

  failed = captured.filter((entry) => /^(disputes|thread)-/.test(entry.name) && entry.seqScans.length > 0)
  // Formatted as `npm run format:check` wants it: the table's columns padded.
  const readmePath = `${outDir}/README.md`
  const formatting = (await prettier.resolveConfig(readmePath)) ?? {}
  const text = readme(generation, scaleLine, seconds(startedAt))
  await writeFile(readmePath, await prettier.format(text, { ...formatting, filepath: readmePath }))
  console.log(`\nplans and README.md written to ${outDir}`)
} catch (error) {
  if (!(error instanceof Refusal)) throw error
  console.error(error.message)
  process.exitCode = 2
} finally {
  await db.destroy()
}

function readme(generation: GenerationRecord | undefined, scale: string, took: number): string {
  const row = (entry: Captured) => {
    const overTarget = entry.name.startsWith('disputes-') && entry.executionMs + entry.planningMs > TARGET_MS
    return (
      `| [${entry.name}](${entry.name}.txt) | ${entry.about.replace(/\|/g, '\\|')} | ${entry.statements.length} | ` +
      `${entry.executionMs.toFixed(3)}` +
      `${overTarget ? ' ⚠' : ''} | ${entry.planningMs.toFixed(3)} | ${entry.clientMs.toFixed(2)} | ` +
      `${entry.seqScans.length > 0 ? `**yes: ${entry.seqScans.join(', ')}**` : 'no'} | ` +
      `${entry.filteredOut.toLocaleString('en')}${entry.filteredOut >= FILTERED_OUT_WARNING ? ' ⚠' : ''} |`
    )
  }
  const made =
    generation === undefined
      ? 'The database holds no record of how it was made (it was not made by `bench/generate-data.ts`).'
      : [
          '```sh',
          generation.command,
          '```',
          '',
          `Generated ${generation.generated_at} in ${generation.seconds} s at scale ${generation.scale}: ` +
            `${generation.counts.parties.toLocaleString('en')} parties, ${generation.counts.claims.toLocaleString('en')} ` +
            `claims, ${generation.counts.links.toLocaleString('en')} links, ` +
            `${generation.counts.disputed.toLocaleString('en')} disputed claims (fingerprint \`${generation.fingerprint}\`); ` +
            `${migrationNote}.`,
        ].join('\n')
  return [
    '# Query plans at scale',
    '',
    `Captured ${new Date().toISOString()} in ${took.toFixed(1)} s, on ${database} (${scale}).`,
    '',
    `Server: ${serverLine}.`,
    '',
    'Each plan is `EXPLAIN (ANALYZE, BUFFERS)` of the SQL a repository function sends, with its parameters, after',
    'one plain run of the same call to warm the caches. Round trip is the median of five plain runs after it, seen',
    `from the client. ⚠ marks a disputes query over the target of ${TARGET_MS} ms of database time (planning and`,
    'execution). A thread is walked by its service, one query per depth: its times are the sums over its queries.',
    'Rows filtered out is the most rows one node of the plan read and discarded (per loop, times its loops): an',
    'index walk that filters most of what it reads costs what a Seq Scan costs, and no Seq Scan shows it. ⚠ marks',
    `${FILTERED_OUT_WARNING.toLocaleString('en')} or more.`,
    '',
    '| Plan | What | Queries | Execution ms | Planning ms | Round trip ms | Seq Scan on claims or links | ' +
      'Rows filtered out |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |',
    ...captured.map(row),
    '',
    '## The data',
    '',
    made,
    '',
    '## The plans',
    '',
    '```sh',
    commandLine(server),
    '```',
    '',
  ].join('\n')
}

if (failed.length > 0) {
  const found = `Seq Scan on claims or links in: ${failed.map((entry) => `${entry.name} (${entry.seqScans})`).join(', ')}`
  // On a small data set a sequential scan is often the planner's right choice: only full scale must avoid it.
  if (fullScale) {
    console.error(`\n${found}`)
    process.exitCode = 1
  } else console.warn(`\n${found} (below scale 1, where it may be the cheaper plan)`)
}
