import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ApiError } from '../errors/problems.js'
import { assertMayChange, type Precondition } from '../services/precondition.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** False only in the benchmark's breakdown (see buildApp's `without`): representations are sent untagged. */
    entityTags: boolean
  }
}

/**
 * The entity tag of a representation: a hash of the JSON the API serves for it. It changes with every edit
 * (`version`) and also when derived state changes (a new rebuttal), so a cached copy is never wrongly fresh and
 * an `If-Match` holder is told when anything they saw has moved on.
 */
export function etagOf(representation: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(representation)).digest('base64url').slice(0, 27)}"`
}

function tagsOf(header: string): string[] {
  return header.split(',').map((tag) => tag.trim())
}

/** `If-None-Match` compares weakly (RFC 9110, 13.1.2): `W/"x"` matches `"x"`. */
function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  const tags = tagsOf(header).map((tag) => tag.replace(/^W\//, ''))
  return tags.includes('*') || tags.includes(etag)
}

/**
 * Sets the ETag of a representation. On a GET or HEAD whose `If-None-Match` names it, answers 304 instead: the
 * client's copy is current. Other methods have already done their work, so their answer stands.
 */
export function sendRepresentation<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  representation: T,
): T | FastifyReply {
  if (!request.server.entityTags) return representation
  const etag = etagOf(representation)
  reply.header('etag', etag)
  const safe = request.method === 'GET' || request.method === 'HEAD'
  if (safe && noneMatchHits(request.headers['if-none-match'], etag)) return reply.code(304).send()
  return representation
}

/**
 * The preconditions of a PATCH or DELETE, checked against the current record before anything changes:
 * - the request's key created the record, or is an `admin` key; otherwise 403.
 * - `If-Match`: the client's tag must be current. Strong comparison: a weak tag never matches.
 * - `If-None-Match`: the current tag must not be one the client names (`*` names any).
 * Either tag failing is a 412 and the write does not happen (RFC 9110, 13.2.2). Ownership is checked first:
 * a key that may not write the record learns nothing from the tags.
 */
export function writePreconditions(request: FastifyRequest): Precondition<unknown> {
  return (current, creator) => {
    assertMayChange(request.apiKey, creator)
    const etag = etagOf(current)
    const ifMatch = request.headers['if-match']
    if (ifMatch !== undefined) {
      const tags = tagsOf(ifMatch)
      if (!tags.includes('*') && !tags.includes(etag)) {
        throw preconditionFailed(
          'the resource has changed since the If-Match entity tag was issued; it is in `current`, with its ETag',
          current,
          etag,
        )
      }
    }
    if (noneMatchHits(request.headers['if-none-match'], etag)) {
      throw preconditionFailed('the resource matches the If-None-Match entity tag', current, etag)
    }
  }
}

/**
 * A 412 carries what the client needs to reconcile without another request: the record as it is now (`current`,
 * what a GET answers) and its entity tag, in `current_etag` and the ETag header, to retry with in If-Match.
 */
function preconditionFailed(detail: string, current: unknown, etag: string): ApiError {
  return new ApiError('precondition-failed', detail, { headers: { etag }, members: { current, current_etag: etag } })
}
