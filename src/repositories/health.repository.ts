import { sql } from 'kysely'
import type { Db } from '../db/schema.js'

/** The cheapest query there is: it succeeds when the database is reachable and answering. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`SELECT 1`.execute(db)
}
