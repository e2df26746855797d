import type { Db } from '../db/schema.js'
import { type ResponseTimesRow, responseTimes } from '../repositories/response-times.repository.js'
import type { ResponseTimes } from '../schemas/response-times.schema.js'
import { getParty } from './party.service.js'

function toResponseTimes(row: ResponseTimesRow): ResponseTimes {
  return {
    party: { id: row.party_id, slug: row.party_slug, name: row.party_name },
    answering: { count: row.answering_count, median_seconds: row.answering_median, p90_seconds: row.answering_p90 },
    answered: { count: row.answered_count, median_seconds: row.answered_median, p90_seconds: row.answered_p90 },
    claims: row.claims,
    unanswered: row.unanswered,
  }
}

/** One party's response times (by id or slug); 404 when there is no such live party. */
export async function partyResponseTimes(db: Db, key: string): Promise<ResponseTimes> {
  const party = await getParty(db, key)
  const [row] = await responseTimes(db, party.id)
  return toResponseTimes(row!)
}

/** The every-party report being read on each database handle, and how many writes had been answered when it began. */
const reportsInFlight = new WeakMap<Db, { report: Promise<ResponseTimes[]>; writes: number }>()

/**
 * Every live party's response times that made or answered a claim, fastest answering first. Its statement walks
 * both response indexes whole (half a second at 1M claims), so a request that arrives while it runs shares its
 * answer instead of running it again: ten clients asking at once each ran it, and ran past the statement timeout.
 * A reading is shared only while no write has been answered since it began (`writes`, the count of them), so a
 * client never gets a reading older than its own write; `ownRead` (a client reading its write back from a replica)
 * runs one of its own.
 */
export async function allResponseTimes(
  db: Db,
  options: { writes?: number; ownRead?: boolean } = {},
): Promise<ResponseTimes[]> {
  const writes = options.writes ?? 0
  const running = options.ownRead ? undefined : reportsInFlight.get(db)
  if (running !== undefined && running.writes === writes) return running.report
  const report = responseTimes(db).then((rows) => rows.map(toResponseTimes))
  if (!options.ownRead) {
    reportsInFlight.set(db, { report, writes })
    const done = () => {
      if (reportsInFlight.get(db)?.report === report) reportsInFlight.delete(db)
    }
    report.then(done, done)
  }
  return report
}
