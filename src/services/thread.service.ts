import type { Db } from '../db/schema.js'
import * as claims from '../repositories/claim.repository.js'
import * as threads from '../repositories/thread.repository.js'
import { THREAD_LINKS_MAX, type Thread, type ThreadEntry } from '../schemas/thread.schema.js'
import { getClaim, toClaim } from './claim.service.js'

export async function getThread(db: Db, rootId: string, depth: number): Promise<Thread> {
  const root = await getClaim(db, rootId)
  const edges = await threads.walkThread(db, rootId, depth, THREAD_LINKS_MAX + 1)
  const farEnds = edges.map((edge) => (edge.direction === 'responses' ? edge.from_claim_id : edge.to_claim_id))
  const byId = new Map(
    (await claims.findClaimsByIds(db, [...new Set(farEnds)])).map((row) => [row.id, toClaim(row)] as const),
  )
  const thread: Thread = { claim: root, depth, answers: [], responses: [], truncated: false }
  for (const edge of edges) {
    const claim = byId.get(edge.direction === 'responses' ? edge.from_claim_id : edge.to_claim_id)
    // Deleted meanwhile: its links went with it.
    if (claim === undefined) continue
    const { link_id: id, kind, note, from_claim_id, to_claim_id } = edge
    thread[edge.direction].push({ depth: edge.depth, link: { id, kind, note, from_claim_id, to_claim_id }, claim })
  }
  for (const direction of ['answers', 'responses'] as const) {
    const entries = thread[direction].sort(byDepthThenStated)
    if (entries.length > THREAD_LINKS_MAX) {
      thread[direction] = entries.slice(0, THREAD_LINKS_MAX)
      thread.truncated = true
    }
  }
  return thread
}

function byDepthThenStated(a: ThreadEntry, b: ThreadEntry): number {
  return a.depth - b.depth || a.claim.stated_at.localeCompare(b.claim.stated_at) || a.link.id.localeCompare(b.link.id)
}
