import type { Db } from '../db/schema.js'
import * as claims from '../repositories/claim.repository.js'
import * as threads from '../repositories/thread.repository.js'
import type { ThreadDirection, ThreadLink } from '../repositories/thread.repository.js'
import { THREAD_LINKS_MAX, type Thread, type ThreadEntry } from '../schemas/thread.schema.js'
import { getClaim, toClaim } from './claim.service.js'

const DIRECTIONS = ['answers', 'responses'] as const
/** The claim at the far end of a link, seen from the thread's walk in one direction. */
const farEnd = (link: ThreadLink) => (link.direction === 'responses' ? link.from_claim_id : link.to_claim_id)

/**
 * The thread walk: breadth first from the root, one query per depth for both directions. Each claim is expanded
 * once, at the depth it is first reached (so a cycle ends there), and each link is taken once per direction; the
 * walk stops at THREAD_LINKS_MAX links each way, so its work is bounded whatever the graph.
 */
export async function getThread(db: Db, rootId: string, maxDepth: number): Promise<Thread> {
  const root = await getClaim(db, rootId)
  const reached = { answers: new Set([root.id]), responses: new Set([root.id]) }
  const found: Array<ThreadLink & { depth: number }> = []
  const counts = { answers: 0, responses: 0 }
  let truncated = false
  let frontier = { answers: [root.id], responses: [root.id] }
  for (let depth = 1; depth <= maxDepth && (frontier.answers.length > 0 || frontier.responses.length > 0); depth++) {
    // One more than room is left for tells that a direction has more than it can show.
    const room = (direction: ThreadDirection) =>
      frontier[direction].length === 0 ? 0 : THREAD_LINKS_MAX - counts[direction] + 1
    const step = await threads.threadStep(
      db,
      root.id,
      { responsesTo: frontier.responses, answersFrom: frontier.answers },
      { responses: room('responses'), answers: room('answers') },
    )
    const next = { answers: [] as string[], responses: [] as string[] }
    for (const link of step) {
      if (counts[link.direction] === THREAD_LINKS_MAX) {
        truncated = true
        continue
      }
      counts[link.direction]++
      found.push({ ...link, depth })
      const claimId = farEnd(link)
      if (!reached[link.direction].has(claimId)) {
        reached[link.direction].add(claimId)
        next[link.direction].push(claimId)
      }
    }
    frontier = next
  }

  const byId = new Map(
    (await claims.findClaimsByIds(db, [...new Set(found.map(farEnd))])).map((row) => [row.id, toClaim(row)] as const),
  )
  const thread: Thread = { claim: root, depth: maxDepth, answers: [], responses: [], truncated }
  for (const link of found) {
    const claim = byId.get(farEnd(link))
    // Deleted since the walk read its link: the link went with it.
    if (claim === undefined) continue
    const { id, kind, note, aspect, measure, from_claim_id, to_claim_id } = link
    const entry = { id, kind, note, aspect, measure, from_claim_id, to_claim_id }
    thread[link.direction].push({ depth: link.depth, link: entry, claim })
  }
  for (const direction of DIRECTIONS) thread[direction].sort(byDepthThenStated)
  return thread
}

function byDepthThenStated(a: ThreadEntry, b: ThreadEntry): number {
  return a.depth - b.depth || a.claim.stated_at.localeCompare(b.claim.stated_at) || a.link.id.localeCompare(b.link.id)
}
