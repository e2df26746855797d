import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { ClaimParams } from '../schemas/claim.schema.js'
import { problemResponses } from '../schemas/common.schema.js'
import { ErasureSchema } from '../schemas/erasure.schema.js'
import { PartyParams } from '../schemas/party.schema.js'
import { ReviewParams } from '../schemas/review.schema.js'
import * as erasure from '../services/erasure.service.js'

const ERASED = Type.Ref(ErasureSchema, { description: 'Erased: what was removed. The id answers 404 from now on.' })

/**
 * Erasure for a legal takedown, apart from DELETE: its own operation, for admin keys only, that removes the record
 * for good (deleted or not) and answers with what it removed.
 */
const erasureRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const admin = { access: 'admin' as const }

  fastify.post(
    '/v1/claims/:id/erase',
    {
      config: admin,
      schema: {
        operationId: 'eraseClaim',
        summary: 'Erase a claim for good (admin)',
        description:
          'For a legal takedown. Removes the claim, live or deleted, with its history, its reviews and every ' +
          "link from or to it, with theirs (other parties' claims stay; the claims it answered are recounted), the import " +
          'refs that named them, and the stored answers of idempotent requests that showed them. Unlike DELETE, ' +
          'no tombstone is left: the id answers 404.',
        tags: ['claims'],
        params: ClaimParams,
        response: { 200: ERASED, ...problemResponses(400, 404, 413, 415, 503) },
      },
    },
    async (request) => erasure.eraseClaim(fastify.db, request.params.id),
  )

  fastify.post(
    '/v1/parties/:party/erase',
    {
      config: admin,
      schema: {
        operationId: 'eraseParty',
        summary: 'Erase a party for good (admin)',
        description:
          'For a legal takedown. Removes the party, live or deleted (by slug: the live one, else the one deleted ' +
          'last with it), with its history and the import refs that named it; earlier versions of parties that ' +
          'once spoke for it name no side instead. Refused (409) while claims or reviews of it, deleted or not, ' +
          'or parties speaking for it exist: erase those first.',
        tags: ['parties'],
        params: PartyParams,
        response: { 200: ERASED, ...problemResponses(400, 404, 409, 413, 415, 503) },
      },
    },
    async (request) => erasure.eraseParty(fastify.db, request.params.party),
  )

  fastify.post(
    '/v1/reviews/:id/erase',
    {
      config: admin,
      schema: {
        operationId: 'eraseReview',
        summary: 'Erase a review for good (admin)',
        description:
          'For a legal takedown. Removes the review, live or deleted, with its history and the import refs that ' +
          'named it; its claim is recounted. The id answers 404.',
        tags: ['reviews'],
        params: ReviewParams,
        response: { 200: ERASED, ...problemResponses(400, 404, 413, 415, 503) },
      },
    },
    async (request) => erasure.eraseReview(fastify.db, request.params.id),
  )
}

export default erasureRoutes
