import { sql } from 'kysely'
import type { Db, LinkAspect } from '../db/schema.js'
import type { LinkKind } from './link.repository.js'

export type ThreadDirection = 'answers' | 'responses'

export interface ThreadLink {
  direction: ThreadDirection
  id: string
  kind: LinkKind
  note: string | null
  aspect: LinkAspect | null
  measure: string | null
  from_claim_id: string
  to_claim_id: string
}

/**
 * One step of the thread walk, both ways at once: the live links that answer the claims of `responsesTo`
 * (downwards), and those by which the claims of `answersFrom` answer others (upwards), at most `limit` each way.
 * Links that lead back to the thread's root are left out. Each part walks an index of live links: by answered
 * claim downwards, by responding claim upwards.
 */
export async function threadStep(
  db: Db,
  rootId: string,
  frontier: { responsesTo: string[]; answersFrom: string[] },
  limit: { responses: number; answers: number },
): Promise<ThreadLink[]> {
  // OFFSET 0 keeps each part's filter below its ORDER BY and LIMIT: with little room left, the planner would
  // otherwise walk the index on created_at over every link, hoping to meet the frontier's early.
  const { rows } = await sql<ThreadLink>`
    (SELECT 'responses' AS direction, s.id, s.kind, s.note, s.aspect, s.measure, s.from_claim_id, s.to_claim_id
     FROM (SELECT l.* FROM links l
           WHERE l.to_claim_id = ANY (${frontier.responsesTo}::uuid[]) AND l.deleted_at IS NULL
             AND l.from_claim_id <> ${rootId}
           OFFSET 0) s
     ORDER BY s.created_at, s.id
     LIMIT ${limit.responses})
    UNION ALL
    (SELECT 'answers', s.id, s.kind, s.note, s.aspect, s.measure, s.from_claim_id, s.to_claim_id
     FROM (SELECT l.* FROM links l
           WHERE l.from_claim_id = ANY (${frontier.answersFrom}::uuid[]) AND l.deleted_at IS NULL
             AND l.to_claim_id <> ${rootId}
           OFFSET 0) s
     ORDER BY s.created_at, s.id
     LIMIT ${limit.answers})`.execute(db)
  return rows
}
