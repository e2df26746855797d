import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { invalidField } from '../errors/problems.js'
import { sendRepresentation } from '../http/conditional-requests.js'
import {
  announceDuplicates,
  duplicateResponseHeaders,
  PreferHeaders,
  prefersStrictHandling,
} from '../http/duplicates.js'
import { type ExportRouteOptions, exportLimit, listFormat, sendExport, sendWrittenExport } from '../http/export.js'
import { cursorPart, decodeCursor, isValueIdKey, pageLimit, sendTwoWayPage } from '../http/pagination.js'
import {
  type ClaimListFilter,
  ClaimListQuery,
  ClaimParams,
  ClaimSchema,
  type ClaimSort,
  ClaimVersionSchema,
  CreateClaimBody,
  SimilarClaimsQuery,
  SimilarClaimsSchema,
  UpdateClaimBody,
} from '../schemas/claim.schema.js'
import {
  ConditionalReadHeaders,
  CountedPage,
  NotModified,
  problemResponses,
  resourceHeaders,
} from '../schemas/common.schema.js'
import { CLAIM_CSV_COLUMNS, listRepresentations } from '../schemas/export.schema.js'
import { ClaimReviewDocumentSchema, JSON_LD } from '../schemas/claim-review.schema.js'
import { varyOn } from '../http/vary.js'
import { versionedRoutes } from '../http/versioned-routes.js'
import * as claims from '../services/claim.service.js'
import { getClaimReviewDocument } from '../services/claim-review.service.js'
import * as claimList from '../services/claim-list.service.js'
import type { ClaimListKey } from '../services/claim-list.service.js'

const ClaimRef = Type.Ref(ClaimSchema)
/** What GET /v1/claims/{id} can answer, JSON first: a client that accepts anything gets JSON. */
const CLAIM_MEDIA_TYPES = ['application/json', JSON_LD]
const HISTORY_ORDER = 'version'

/** The order a list is asked in: by relevance by default when searching, else newest stated first. */
function sortOf(query: ClaimListFilter): ClaimSort {
  const sort = query.sort ?? (query.q !== undefined ? 'relevance' : '-stated_at')
  if (sort === 'relevance' && query.q === undefined) {
    throw invalidField('query', 'sort', 'relevance needs a full-text query q')
  }
  return sort
}

const claimRoutes: FastifyPluginAsyncTypebox<ExportRouteOptions> = async (fastify, options) => {
  fastify.post(
    '/v1/claims',
    {
      schema: {
        operationId: 'createClaim',
        summary: 'Record a claim',
        tags: ['claims'],
        description:
          'A claim that closely matches a live claim of its party stated within 7 days of it is recorded, and the ' +
          'candidates named in Link headers (rel="duplicate"); with `Prefer: handling=strict` it is refused with ' +
          '409 duplicate-claim instead.',
        headers: PreferHeaders,
        body: CreateClaimBody,
        response: {
          201: Type.Ref(ClaimSchema, {
            description: 'The claim was recorded; Location names it.',
            headers: { ...resourceHeaders('claim', { created: true }).headers, ...duplicateResponseHeaders },
          }),
          ...problemResponses(400, 409, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const strict = prefersStrictHandling(request)
      const duplicates = await claims.findDuplicateClaims(fastify.db, request.body)
      if (strict && duplicates.length > 0) throw claims.duplicateClaimProblem(duplicates)
      const claim = await claims.createClaim(fastify.db, request.body, request.apiKey?.id ?? null)
      reply.code(201).header('location', `/v1/claims/${claim.id}`)
      announceDuplicates(reply, duplicates, strict)
      return sendRepresentation(request, reply, claim)
    },
  )

  fastify.get(
    '/v1/claims',
    {
      schema: {
        operationId: 'listClaims',
        summary: 'List and search claims',
        tags: ['claims'],
        querystring: ClaimListQuery,
        response: {
          200: listRepresentations(CountedPage(ClaimRef, 'ClaimPage'), CLAIM_CSV_COLUMNS, 'claim'),
          ...problemResponses(400, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const query = request.query
      const sort = sortOf(query)
      const format = listFormat(request, query.format)
      if (format !== 'json') {
        const first = exportLimit(request)
        const sending = { slots: options.exportSlots, stallTimeoutMs: options.exportStallTimeoutMs, name: 'claims' }
        // The database writes the export itself, except by relevance, whose order is known only once every match
        // is ranked.
        if (sort !== 'relevance') {
          const timeoutMs = options.exportTimeoutMs
          const text = await claimList.exportClaimsWritten(request.readDb, query, sort, format, {
            timeoutMs,
            rows: first,
          })
          return sendWrittenExport(request, reply, text, { ...sending, format })
        }
        const items = await claimList.exportClaims(request.readDb, query, sort, options.exportTimeoutMs)
        return sendExport(request, reply, items, { ...sending, format, limit: first, columns: CLAIM_CSV_COLUMNS })
      }
      varyOn(reply, 'Accept')
      const limit = pageLimit(query)
      const valueFits = sort === 'relevance' ? cursorPart.rank : cursorPart.timestamp
      // Relevance ranks only the newest matches, anew for each query: it pages forward only.
      const cursor = decodeCursor(query.cursor, sort, isValueIdKey(valueFits), { backward: sort !== 'relevance' })
      const after = cursor?.key as ClaimListKey | undefined
      const rows = await claimList.listClaims(request.readDb, query, { sort, limit, after, backward: cursor?.backward })
      const page = sendTwoWayPage(
        request,
        reply,
        rows,
        limit,
        (row) => row.claim,
        (row) => ({ sort, key: row.key }),
        sort === 'relevance' ? undefined : cursor,
      )
      if (query.count === undefined) return page
      return { ...page, ...(await claimList.countClaims(request.readDb, query, query.count)) }
    },
  )

  fastify.get(
    '/v1/claims/:id/similar',
    {
      schema: {
        operationId: 'listSimilarClaims',
        summary: 'The live claims whose text is most similar to a claim’s, best first',
        description:
          'Scored by trigram similarity of the texts (pg_trgm), 0.3 at least; the claim itself is left out. For ' +
          'near-duplicates: the same statement recorded twice, or reported again in other words. The claims ' +
          'compared are those sharing at least two of its distinctive words (`searched` names them).',
        tags: ['claims'],
        params: ClaimParams,
        querystring: SimilarClaimsQuery,
        response: {
          200: SimilarClaimsSchema,
          ...problemResponses(400, 404, 410, 422, 503),
        },
      },
    },
    async (request) => claims.listSimilarClaims(request.readDb, request.params.id, request.query),
  )

  fastify.get(
    '/v1/claims/:id',
    {
      schema: {
        operationId: 'getClaim',
        summary: 'Get a claim',
        tags: ['claims'],
        params: ClaimParams,
        headers: ConditionalReadHeaders,
        description:
          'As JSON by default; with `Accept: application/ld+json`, as schema.org JSON-LD: a ClaimReview per ' +
          'fact-check, or the Claim alone when it has none.',
        response: {
          200: {
            description: 'The claim, with its derived dispute state and its fact-checks.',
            ...resourceHeaders('claim'),
            content: {
              'application/json': { schema: ClaimRef },
              [JSON_LD]: { schema: ClaimReviewDocumentSchema },
            },
          },
          304: NotModified,
          ...problemResponses(400, 404, 410, 503),
        },
      },
    },
    async (request, reply) => {
      varyOn(reply, 'Accept')
      if (request.accepts().type(CLAIM_MEDIA_TYPES) === JSON_LD) {
        const document = await getClaimReviewDocument(request.readDb, request.params.id)
        reply.type(JSON_LD)
        return sendRepresentation(request, reply, document)
      }
      const claim = await claims.getClaim(request.readDb, request.params.id)
      return sendRepresentation(request, reply, claim)
    },
  )

  versionedRoutes(fastify, {
    name: 'claim',
    path: '/v1/claims/:id',
    params: ClaimParams,
    key: 'id',
    tag: 'claims',
    schema: ClaimSchema,
    update: {
      summary: 'Edit a claim',
      description:
        'A JSON Merge Patch (sent as application/json or application/merge-patch+json). Every edit makes a ' +
        'new version (see /history). With If-Match, the edit applies only if the claim is unchanged since that ' +
        'ETag (else 412).',
      edited: 'The claim as edited.',
      body: UpdateClaimBody,
      problems: [400, 404, 410, 412, 413, 415, 422, 503],
      apply: claims.updateClaim,
    },
    delete: {
      description:
        'The claim disappears from reads and stops counting as a rebuttal; its links and reviews go with it. ' +
        'While links or reviews of it made with other API keys are live, only an admin key may delete it ' +
        '(409 otherwise). With If-Match, applies only if the claim is unchanged since that ETag (else 412).',
      problems: [400, 404, 409, 410, 412, 503],
      apply: claims.deleteClaim,
    },
    history: { version: ClaimVersionSchema, order: HISTORY_ORDER, list: claims.listClaimHistory },
  })
}

export default claimRoutes
