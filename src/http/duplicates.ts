import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import type { ResponseHeader } from '../schemas/common.schema.js'

/** The request header by which a create asks to be refused rather than warned of a near-duplicate (RFC 7240). */
export const PreferHeaders = Type.Object({
  prefer: Type.Optional(
    Type.String({
      maxLength: 200,
      description:
        '`handling=strict`: refuse the new claim (409 duplicate-claim, nothing recorded) when it closely matches a ' +
        'live claim of its party stated within 7 days of it, instead of recording it with the candidates named.',
      examples: ['handling=strict'],
    }),
  ),
})

/** The response headers of a create that checks for near-duplicates, for the OpenAPI document. */
export const duplicateResponseHeaders: Record<string, ResponseHeader> = {
  link: {
    type: 'string',
    description:
      '`</v1/claims/{id}>; rel="duplicate"` for each live claim of the same party, stated within 7 days, that the ' +
      'new claim closely matches (RFC 6249), best match first.',
  },
  'preference-applied': { type: 'string', description: '`handling=strict` when the request asked for it.' },
}

/** Whether the request prefers strict handling: `Prefer: handling=strict`, among its other preferences. */
export function prefersStrictHandling(request: FastifyRequest): boolean {
  const header = request.headers.prefer
  const text = Array.isArray(header) ? header.join(',') : (header ?? '')
  return text
    .split(',')
    .map((preference) =>
      preference
        .split(';')[0]!
        .trim()
        .toLowerCase()
        .replace(/\s*=\s*/, '='),
    )
    .some((preference) => preference === 'handling=strict' || preference === 'handling="strict"')
}

/** Names the claims a new one closely matches, as `Link` relations of type duplicate; says a preference was applied. */
export function announceDuplicates(reply: FastifyReply, duplicates: Array<{ id: string }>, strict: boolean): void {
  if (strict) reply.header('preference-applied', 'handling=strict')
  if (duplicates.length === 0) return
  reply.header('link', duplicates.map((duplicate) => `</v1/claims/${duplicate.id}>; rel="duplicate"`).join(', '))
}
