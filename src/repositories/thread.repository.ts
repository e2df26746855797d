import { sql } from 'kysely'
import type { Db } from '../db/schema.js'
import type { LinkKind } from './link.repository.js'

export interface ThreadEdge {
  direction: 'answers' | 'responses'
  depth: number
  link_id: string
  kind: LinkKind
  note: string | null
  from_claim_id: string
  to_claim_id: string
}

/**
 * The thread walk: the live links around claim `rootId`, up to `maxDepth` steps away. Upwards, the claims it
 * answers and what those answer; downwards, the claims that answer it and what answers those. Each link is
 * kept once, at the smallest depth it is reached at. The walk cannot loop: rows repeat only as (link, depth)
 * pairs, the depth is bounded, and no step passes through the root again. `limit` caps each direction.
 * Both directions walk indexes of live links (by answered claim downwards, by responding claim upwards).
 */
export async function walkThread(db: Db, rootId: string, maxDepth: number, limit: number): Promise<ThreadEdge[]> {
  const { rows } = await sql<ThreadEdge>`
    WITH RECURSIVE
    down (link_id, from_claim_id, depth) AS (
      SELECT l.id, l.from_claim_id, 1 FROM links l
      WHERE l.to_claim_id = ${rootId} AND l.deleted_at IS NULL
      UNION
      SELECT l.id, l.from_claim_id, down.depth + 1 FROM down
      JOIN links l ON l.to_claim_id = down.from_claim_id AND l.deleted_at IS NULL
      WHERE down.depth < ${maxDepth} AND l.from_claim_id <> ${rootId}
    ),
    up (link_id, to_claim_id, depth) AS (
      SELECT l.id, l.to_claim_id, 1 FROM links l
      WHERE l.from_claim_id = ${rootId} AND l.deleted_at IS NULL
      UNION
      SELECT l.id, l.to_claim_id, up.depth + 1 FROM up
      JOIN links l ON l.from_claim_id = up.to_claim_id AND l.deleted_at IS NULL
      WHERE up.depth < ${maxDepth} AND l.to_claim_id <> ${rootId}
    ),
    edges AS (
      (SELECT 'responses' AS direction, link_id, min(depth) AS depth FROM down GROUP BY link_id
       ORDER BY min(depth), link_id LIMIT ${limit})
      UNION ALL
      (SELECT 'answers', link_id, min(depth) FROM up GROUP BY link_id
       ORDER BY min(depth), link_id LIMIT ${limit})
    )
    SELECT edges.direction, edges.depth::int AS depth, l.id AS link_id, l.kind, l.note, l.from_claim_id, l.to_claim_id
    FROM edges JOIN links l ON l.id = edges.link_id
    ORDER BY edges.direction, edges.depth, l.created_at, l.id`.execute(db)
  return rows
}
