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

/** Every live party's response times that made or answered a claim, fastest answering first. */
export async function allResponseTimes(db: Db): Promise<ResponseTimes[]> {
  return (await responseTimes(db)).map(toResponseTimes)
}
