import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ApiError } from './problem-details.js'

/**
 * The entity tag of a representation: a hash of the JSON the API serves for it. It changes with every edit
 * (`version`) and also when derived state changes (a new rebuttal), so a cached copy is never wrongly fresh and
 * an `If-Match` holder is told when anything they saw has moved on.
 */
export function etagOf(representation: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(representation)).digest('base64url').slice(0, 27)}"`
}

function listedTags(header: string): string[] {
  return header.split(',').map((tag) => tag.trim().replace(/^W\//, ''))
}

/** `If-None-Match` names the current tag (or `*`): the client's copy is fresh, answer 304. */
export function isNotModified(request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match']
  if (header === undefined) return false
  const tags = listedTags(header)
  return tags.includes('*') || tags.includes(etag)
}

/** A `PATCH`/`DELETE` made with `If-Match` applies only to the representation the client saw; otherwise 412. */
export function assertIfMatch(request: FastifyRequest, currentEtag: string): void {
  const header = request.headers['if-match']
  if (header === undefined) return
  const tags = header.split(',').map((tag) => tag.trim())
  // Weak tags never satisfy If-Match (RFC 9110, 13.1.1: strong comparison).
  if (tags.includes('*') || tags.includes(currentEtag)) return
  throw new ApiError(
    'precondition-failed',
    'the resource has changed since the If-Match entity tag was issued; fetch it again and retry',
  )
}

/** Sets the ETag of a representation and answers 304 instead when the client's copy is current. */
export function sendRepresentation<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  representation: T,
): T | FastifyReply {
  const etag = etagOf(representation)
  reply.header('etag', etag)
  if (isNotModified(request, etag)) return reply.code(304).send()
  return representation
}

/** The precondition a PATCH or DELETE checks against the current representation before it changes anything. */
export const ifMatchPrecondition = (request: FastifyRequest) => (current: unknown) =>
  assertIfMatch(request, etagOf(current))
