import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { sendRepresentation } from '../http/conditional-requests.js'
import { type ExportRouteOptions, exportLimit, listFormat, sendExport } from '../http/export.js'
import { cursorPart, decodeCursor, isValueIdKey, pageLimit, sendTwoWayPage } from '../http/pagination.js'
import { ClaimParams } from '../schemas/claim.schema.js'
import {
  ConditionalReadHeaders,
  CountedPage,
  NotModified,
  problemResponses,
  resourceHeaders,
} from '../schemas/common.schema.js'
import { listRepresentations, REVIEW_CSV_COLUMNS } from '../schemas/export.schema.js'
import {
  AllReviewsListQuery,
  CreateReviewBody,
  ReviewListQuery,
  ReviewParams,
  ReviewSchema,
  ReviewVersionSchema,
  UpdateReviewBody,
} from '../schemas/review.schema.js'
import { varyOn } from '../http/vary.js'
import { versionedRoutes } from '../http/versioned-routes.js'
import { JSON_LD, SingleClaimReviewSchema } from '../schemas/claim-review.schema.js'
import { getReviewClaimReviewDocument } from '../services/claim-review.service.js'
import * as reviews from '../services/review.service.js'

const REVIEW_MEDIA_TYPES = ['application/json', JSON_LD]

// Named apart from the sorts of other lists, so that a cursor of one list is refused by another.
const LIST_ORDER = 'reviews:-published_at'
const ALL_ORDER = 'all-reviews:-published_at'
const HISTORY_ORDER = 'review-versions'

const reviewRoutes: FastifyPluginAsyncTypebox<ExportRouteOptions> = async (fastify, options) => {
  const exportOptions = {
    slots: options.exportSlots,
    stallTimeoutMs: options.exportStallTimeoutMs,
    columns: REVIEW_CSV_COLUMNS,
  }
  fastify.post(
    '/v1/claims/:id/reviews',
    {
      schema: {
        operationId: 'createReview',
        summary: "Record a fact-checker's verdict on a claim",
        description:
          'The reviewer is a party of kind fact-checker, other than the claimant, and reviews a claim once: a ' +
          'revised verdict is an edit of its review (409 names the one there is). The review rates the claim’s ' +
          'current version unless it names an earlier one (claim_version). The claim is served as schema.org ' +
          'ClaimReview JSON-LD with `Accept: application/ld+json`, and so is the review alone at /v1/reviews/{id}; ' +
          'a review without a url is a draft, left out of both.',
        tags: ['reviews'],
        params: ClaimParams,
        body: CreateReviewBody,
        response: {
          201: Type.Ref(ReviewSchema, {
            description: 'The review was recorded; Location names it.',
            ...resourceHeaders('review', { created: true }),
          }),
          ...problemResponses(400, 404, 409, 410, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const review = await reviews.createReview(fastify.db, request.params.id, request.body, request.apiKey?.id ?? null)
      reply.code(201).header('location', `/v1/reviews/${review.id}`)
      return sendRepresentation(request, reply, review)
    },
  )

  fastify.get(
    '/v1/claims/:id/reviews',
    {
      schema: {
        operationId: 'listReviews',
        summary: "A claim's fact-checks, latest published first",
        tags: ['reviews'],
        params: ClaimParams,
        querystring: ReviewListQuery,
        response: {
          200: listRepresentations(CountedPage(Type.Ref(ReviewSchema), 'ReviewPage'), REVIEW_CSV_COLUMNS, 'review'),
          ...problemResponses(400, 404, 410, 503),
        },
      },
    },
    async (request, reply) => {
      const format = listFormat(request, request.query.format)
      if (format !== 'json') {
        const first = exportLimit(request)
        const items = await reviews.exportReviewsOfClaim(request.readDb, request.params.id, options.exportTimeoutMs)
        return sendExport(request, reply, items, { ...exportOptions, format, name: 'reviews', limit: first })
      }
      varyOn(reply, 'Accept')
      const limit = pageLimit(request.query)
      const cursor = decodeCursor(request.query.cursor, LIST_ORDER, isValueIdKey(cursorPart.timestamp), {
        backward: true,
      })
      const after = cursor?.key as [string, string] | undefined
      const rows = await reviews.listReviews(request.readDb, request.params.id, {
        limit,
        after,
        backward: cursor?.backward,
      })
      const page = sendTwoWayPage(
        request,
        reply,
        rows,
        limit,
        (review) => review,
        (review) => ({ sort: LIST_ORDER, key: [review.published_at, review.id] }),
        cursor,
      )
      const { count } = request.query
      if (count === undefined) return page
      return { ...page, ...(await reviews.countReviews(request.readDb, request.params.id, count)) }
    },
  )

  fastify.get(
    '/v1/reviews',
    {
      schema: {
        operationId: 'listAllReviews',
        summary: 'Every fact-check, latest published first',
        description: 'The reviews of every live claim, filtered by claim, reviewer or verdict.',
        tags: ['reviews'],
        querystring: AllReviewsListQuery,
        response: {
          200: listRepresentations(CountedPage(Type.Ref(ReviewSchema), 'ReviewPage'), REVIEW_CSV_COLUMNS, 'review'),
          ...problemResponses(400, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const query = request.query
      const format = listFormat(request, query.format)
      if (format !== 'json') {
        const first = exportLimit(request)
        const items = await reviews.exportAllReviews(request.readDb, query, options.exportTimeoutMs)
        return sendExport(request, reply, items, { ...exportOptions, format, name: 'reviews', limit: first })
      }
      varyOn(reply, 'Accept')
      const limit = pageLimit(query)
      const cursor = decodeCursor(query.cursor, ALL_ORDER, isValueIdKey(cursorPart.timestamp), { backward: true })
      const after = cursor?.key as [string, string] | undefined
      const rows = await reviews.listAllReviews(request.readDb, query, { limit, after, backward: cursor?.backward })
      const page = sendTwoWayPage(
        request,
        reply,
        rows,
        limit,
        (review) => review,
        (review) => ({ sort: ALL_ORDER, key: [review.published_at, review.id] }),
        cursor,
      )
      if (query.count === undefined) return page
      return { ...page, ...(await reviews.countAllReviews(request.readDb, query, query.count)) }
    },
  )

  fastify.get(
    '/v1/reviews/:id',
    {
      schema: {
        operationId: 'getReview',
        summary: 'Get a review',
        description:
          'As JSON by default; with `Accept: application/ld+json`, as one schema.org ClaimReview document for ' +
          'this review alone, which a fact-checking desk can publish with its own fact-check. A draft (a review ' +
          'without a url, which search engines require) has no ClaimReview: 409 `review-is-draft`.',
        tags: ['reviews'],
        params: ReviewParams,
        headers: ConditionalReadHeaders,
        response: {
          200: {
            description: 'The review.',
            ...resourceHeaders('review'),
            content: {
              'application/json': { schema: Type.Ref(ReviewSchema) },
              [JSON_LD]: { schema: SingleClaimReviewSchema },
            },
          },
          304: NotModified,
          ...problemResponses(400, 404, 409, 410, 503),
        },
      },
    },
    async (request, reply) => {
      varyOn(reply, 'Accept')
      if (request.accepts().type(REVIEW_MEDIA_TYPES) === JSON_LD) {
        const document = await getReviewClaimReviewDocument(request.readDb, request.params.id)
        reply.type(JSON_LD)
        return sendRepresentation(request, reply, document)
      }
      return sendRepresentation(request, reply, await reviews.getReview(request.readDb, request.params.id))
    },
  )

  versionedRoutes(fastify, {
    name: 'review',
    path: '/v1/reviews/:id',
    params: ReviewParams,
    key: 'id',
    tag: 'reviews',
    schema: ReviewSchema,
    update: {
      summary: 'Edit a review',
      description:
        'A JSON Merge Patch (sent as application/json or application/merge-patch+json). Every edit makes a ' +
        'new version (see /history). The review keeps rating the claim version it was pinned to until the patch ' +
        'names another (claim_version): after the claim’s wording changed, the reviewer re-pins it to the ' +
        'claim’s current version. With If-Match, the edit applies only if the review is unchanged since that ETag ' +
        '(else 412).',
      edited: 'The review as edited.',
      body: UpdateReviewBody,
      problems: [400, 404, 410, 412, 413, 415, 422, 503],
      apply: reviews.updateReview,
    },
    delete: {
      description:
        'The review leaves its claim and every read. With If-Match, applies only if the review is unchanged ' +
        'since that ETag (else 412).',
      problems: [400, 404, 410, 412, 503],
      apply: reviews.deleteReview,
    },
    history: { version: ReviewVersionSchema, order: HISTORY_ORDER, list: reviews.listReviewHistory },
  })
}

export default reviewRoutes
