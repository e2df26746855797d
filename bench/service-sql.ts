import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely'
import type { Database, NewClaimRow } from '../src/db/schema.js'
import { findClaimById, insertClaim } from '../src/repositories/claim.repository.js'

/**
 * The statements the service sends for GET /v1/claims/:id and for the claim row of POST /v1/claims, as the
 * repository functions themselves build them: they run against a pool that records what it is sent and answers
 * with a made-up row, so the baseline sends the service's own SQL and follows it when the repository changes.
 */

interface Sent {
  text: string
  parameters: unknown[]
}

function recordingDb(sent: Sent[]): Kysely<Database> {
  const client: PostgresPoolClient = {
    query: (async (text: string, parameters: unknown[]) => {
      sent.push({ text, parameters })
      return { command: 'SELECT', rowCount: 1, rows: [{ id: '00000000-0000-4000-8000-000000000000' }] }
    }) as unknown as PostgresPoolClient['query'],
    release: () => {},
  }
  const pool: PostgresPool = { connect: async () => client, end: async () => {} }
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
}

/** The columns the service fills when a claim is created through the API, as recordClaim passes them. */
export const CLAIM_INSERT_COLUMNS = [
  'party_id',
  'text',
  'quote',
  'stated_at',
  'event_at',
  'location_name',
  'location_lat',
  'location_lon',
  'language',
  'tags',
  'sources',
] as const satisfies ReadonlyArray<keyof NewClaimRow>

export type ClaimInsertColumn = (typeof CLAIM_INSERT_COLUMNS)[number]

export interface ServiceStatements {
  /** One parameter: the claim id. */
  claimById: string
  claimInsert: string
  /** Which column each parameter of claimInsert fills, in parameter order. */
  claimInsertParameters: ClaimInsertColumn[]
}

export async function serviceStatements(): Promise<ServiceStatements> {
  const sent: Sent[] = []
  const db = recordingDb(sent)
  try {
    await findClaimById(db, '00000000-0000-4000-8000-000000000000')
    const byId = sent.splice(0)
    if (byId.length !== 1 || byId[0]!.parameters.length !== 1) {
      throw new Error(`findClaimById sent ${byId.length} statements; the baseline answers with exactly one`)
    }

    // Each column gets a marker value, so that the parameter order of the compiled INSERT can be read back.
    const markers = Object.fromEntries(CLAIM_INSERT_COLUMNS.map((column) => [column, `column:${column}`]))
    await insertClaim(db, markers as unknown as NewClaimRow)
    const insert = sent.splice(0)
    if (insert.length !== 1) throw new Error(`insertClaim sent ${insert.length} statements, not one`)
    const claimInsertParameters = insert[0]!.parameters.map((value) => {
      const column = typeof value === 'string' ? value.replace(/^column:/, '') : ''
      if (!(CLAIM_INSERT_COLUMNS as readonly string[]).includes(column)) {
        throw new Error(`insertClaim sends a parameter the baseline cannot fill: ${JSON.stringify(value)}`)
      }
      return column as ClaimInsertColumn
    })
    return { claimById: byId[0]!.text, claimInsert: insert[0]!.text, claimInsertParameters }
  } finally {
    await db.destroy()
  }
}
