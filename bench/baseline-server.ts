import Fastify from 'fastify'
import pg from 'pg'
import { SESSION_SETTINGS } from '../src/db/database.js'
import { type ClaimInsertColumn, serviceStatements } from './service-sql.js'

/**
 * The floor the service is measured against: Fastify and `pg` answering GET /v1/claims/:id and POST /v1/claims
 * with the service's own SQL and nothing else: no validation, no hooks, no logging, no transaction, no mapping
 * of rows. A create is the claim's INSERT alone, its party slug looked up in a map read at start.
 * GET /prepared/v1/claims/:id sends the same SELECT as a named prepared statement, to show what preparing buys.
 *
 *   DATABASE_URL=… PORT=… node <compiled>/bench/baseline-server.js
 */

const url = process.env.DATABASE_URL
if (url === undefined || url === '') throw new Error('DATABASE_URL is not set')
const port = Number(process.env.PORT ?? 3001)
const host = process.env.HOST ?? '127.0.0.1'

const statements = await serviceStatements()

// The service's pool settings (openServerDatabase), so that the two differ only in what runs above the pool.
const pool = new pg.Pool({
  connectionString: url,
  max: Number(process.env.DATABASE_POOL_MAX ?? 10),
  connectionTimeoutMillis: 5000,
  idleTimeoutMillis: 30_000,
  statement_timeout: Number(process.env.STATEMENT_TIMEOUT_MS ?? 5000),
  options: SESSION_SETTINGS,
  application_name: 'counterclaim-baseline',
})

const partyIds = new Map<string, string>()
for (const row of (await pool.query<{ id: string; slug: string }>('SELECT id, slug FROM parties')).rows) {
  partyIds.set(row.slug, row.id)
}

interface ClaimBody {
  party: string
  text: string
  quote?: string
  stated_at: string
  event_at?: string
  location?: { name: string; lat?: number; lon?: number }
  language?: string
  tags?: string[]
  sources?: unknown[]
}

const insertValue: Record<ClaimInsertColumn, (body: ClaimBody) => unknown> = {
  party_id: (body) => partyIds.get(body.party) ?? body.party,
  text: (body) => body.text,
  quote: (body) => body.quote ?? null,
  stated_at: (body) => body.stated_at,
  event_at: (body) => body.event_at ?? null,
  location_name: (body) => body.location?.name ?? null,
  location_lat: (body) => body.location?.lat ?? null,
  location_lon: (body) => body.location?.lon ?? null,
  language: (body) => body.language ?? 'en',
  tags: (body) => body.tags ?? [],
  sources: (body) => JSON.stringify(body.sources ?? []),
}
const insertParameters = statements.claimInsertParameters.map((column) => insertValue[column])

const app = Fastify({ logger: false })

app.get('/readyz', async () => ({ status: 'ok' }))

app.get<{ Params: { id: string } }>('/v1/claims/:id', async (request, reply) => {
  const { rows } = await pool.query(statements.claimById, [request.params.id])
  if (rows.length === 0) return reply.code(404).send({ status: 404 })
  return rows[0]
})

app.get<{ Params: { id: string } }>('/prepared/v1/claims/:id', async (request, reply) => {
  const { rows } = await pool.query({ name: 'claim-by-id', text: statements.claimById, values: [request.params.id] })
  if (rows.length === 0) return reply.code(404).send({ status: 404 })
  return rows[0]
})

app.post<{ Body: ClaimBody }>('/v1/claims', async (request, reply) => {
  const { rows } = await pool.query<{ id: string }>(
    statements.claimInsert,
    insertParameters.map((value) => value(request.body)),
  )
  return reply.code(201).send({ id: rows[0]!.id })
})

const close = async () => {
  await app.close()
  await pool.end()
  process.exit(0)
}
process.once('SIGTERM', close)
process.once('SIGINT', close)

await app.listen({ port, host })
