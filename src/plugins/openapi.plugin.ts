import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { etagOf } from '../http/conditional-requests.js'
import { discriminateProblems, nameTitledSchemas } from '../http/openapi-components.js'
import { ApiKeySchema, CreatedApiKeySchema } from '../schemas/api-key.schema.js'
import { ClaimSchema, ClaimVersionSchema, FigureSchema } from '../schemas/claim.schema.js'
import { EVERY_ROUTE_PROBLEMS, ProblemSchema, problemResponses } from '../schemas/common.schema.js'
import { DisputeSchema, MatrixSchema, RebuttalSummarySchema } from '../schemas/dispute.schema.js'
import { CreateRebuttalAlternatives, LinkSchema, LinkVersionSchema, RebuttalSchema } from '../schemas/link.schema.js'
import { PartyRefSchema, PartySchema, PartyVersionSchema } from '../schemas/party.schema.js'
import { ResponseTimesListSchema, ResponseTimesSchema } from '../schemas/response-times.schema.js'
import { ReviewSchema, ReviewSummarySchema, ReviewVersionSchema } from '../schemas/review.schema.js'
import { EventRefSchema } from '../schemas/event-ref.schema.js'
import { EventSchema, EventVersionSchema } from '../schemas/event.schema.js'
import { EventFiguresSchema } from '../schemas/event-figures.schema.js'
import { ErasureSchema } from '../schemas/erasure.schema.js'
import { StatedFigureSchema } from '../schemas/figure.schema.js'
import { GoneProblemSchema, TombstoneSchema } from '../schemas/tombstone.schema.js'
import { ThreadEntrySchema, ThreadSchema } from '../schemas/thread.schema.js'
import packageJson from '../../package.json' with { type: 'json' }

/** Schemas that routes refer to by `$id`; they become `components/schemas` in the OpenAPI document. */
const SHARED_SCHEMAS = [
  ProblemSchema,
  TombstoneSchema,
  GoneProblemSchema,
  PartyRefSchema,
  PartySchema,
  PartyVersionSchema,
  EventRefSchema,
  EventSchema,
  EventVersionSchema,
  EventFiguresSchema,
  ReviewSummarySchema,
  FigureSchema,
  StatedFigureSchema,
  ClaimSchema,
  ClaimVersionSchema,
  LinkSchema,
  LinkVersionSchema,
  RebuttalSchema,
  RebuttalSummarySchema,
  DisputeSchema,
  MatrixSchema,
  ThreadEntrySchema,
  ThreadSchema,
  ReviewSchema,
  ReviewVersionSchema,
  ResponseTimesSchema,
  ResponseTimesListSchema,
  ApiKeySchema,
  CreatedApiKeySchema,
  ErasureSchema,
]

interface GeneratedOperation {
  parameters?: Array<Record<string, unknown>>
  responses?: Record<
    string,
    {
      headers?: Record<
        string,
        { schema?: { required?: unknown; type?: string }; required?: boolean; description?: string }
      >
    }
  >
}

const CONSISTENCY_DESCRIPTION =
  'Read-your-writes, when the service reads from replicas (DATABASE_READ_URL): the database position after a write, ' +
  'which a later read may send back to see that write (see the HTTP contract, "Reading your own writes").'

/**
 * Counterclaim-Consistency is taken by every read of the API and answered by every successful write (with read
 * replicas), so it is written into each operation here rather than into each route.
 */
function documentConsistencyHeader<T extends { paths?: object }>(document: T): T {
  for (const [path, item] of Object.entries(document.paths ?? {}) as Array<
    [string, Record<string, GeneratedOperation>]
  >) {
    if (!path.startsWith('/v1/')) continue
    for (const [method, operation] of Object.entries(item)) {
      if (method === 'get') {
        operation.parameters = [
          ...(operation.parameters ?? []),
          {
            name: 'counterclaim-consistency',
            in: 'header',
            required: false,
            description: `${CONSISTENCY_DESCRIPTION} A value the service did not answer is a 400.`,
            schema: { type: 'string', pattern: '^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$', examples: ['0/3A1C2F8'] },
          },
        ]
      } else if (['post', 'patch', 'delete'].includes(method)) {
        for (const [status, response] of Object.entries(operation.responses ?? {})) {
          if (!status.startsWith('2')) continue
          response.headers = {
            ...response.headers,
            'Counterclaim-Consistency': {
              description: `${CONSISTENCY_DESCRIPTION} Answered only with read replicas.`,
              schema: { type: 'string' },
            },
          }
        }
      }
    }
  }
  return document
}

/**
 * A response header is written as one schema in the routes (see `ResponseHeader`), which the generator copies
 * whole into the header's `schema`; whether the header is always present belongs to the header object itself.
 */
function liftRequiredHeaders<T extends { paths?: object }>(document: T): T {
  for (const item of Object.values(document.paths ?? {}) as Array<Record<string, GeneratedOperation>>) {
    for (const operation of Object.values(item)) {
      for (const response of Object.values(operation.responses ?? {})) {
        for (const header of Object.values(response.headers ?? {})) {
          if (header.schema?.required !== true) continue
          delete header.schema.required
          header.required = true
        }
      }
    }
  }
  return document
}

/**
 * Rules of a body that the service checks itself, after validation, to answer in its own words: the document
 * states them as schema keywords of the named body, so that a generated client knows them too.
 */
const DOCUMENTED_RULES: Record<string, object> = { CreateRebuttal: CreateRebuttalAlternatives }

function withDocumentedRules<T extends { components?: { schemas?: Record<string, object> } }>(document: T): T {
  for (const [name, rule] of Object.entries(DOCUMENTED_RULES)) {
    const schema = document.components?.schemas?.[name]
    if (schema === undefined) throw new Error(`the document has no ${name} to state its rule in`)
    Object.assign(schema, structuredClone(rule))
  }
  return document
}

/**
 * The OpenAPI 3.1 document is generated from the route schemas, served at /openapi.json, and browsable at
 * /docs. `npm run openapi` writes it to openapi/openapi.json, and a test fails when that copy drifts.
 */
export interface OpenApiOptions {
  /** Where clients reach the service (PUBLIC_URL): the document's server. Unset: `/`, wherever it is fetched. */
  publicUrl?: string | undefined
}

/**
 * The document changes only when the service is deployed anew: caches keep it, and ask each time whether their copy
 * is still current, which its ETag answers with a 304.
 */
const DOCUMENT_CACHE_CONTROL = 'public, no-cache'

export default fp<OpenApiOptions>(
  async function openapi(fastify: FastifyInstance, { publicUrl }) {
    for (const schema of SHARED_SCHEMAS) fastify.addSchema(schema)

    // The problems any route may answer with are added to each route's responses here, once for all, so that
    // they are documented (and serialised) like the problems each route lists itself.
    const everyRouteProblems = problemResponses(...EVERY_ROUTE_PROBLEMS)
    // Fastify reads a body sent with any method but GET and HEAD, whether the route takes one or not (a DELETE
    // may carry one): so such a route can refuse a body that is malformed, too large, or of another media type.
    const bodyProblems = problemResponses(400, 413, 415)
    fastify.addHook('onRoute', (route) => {
      const responses = route.schema?.response as Record<string, unknown> | undefined
      if (responses === undefined || route.schema?.hide) return
      for (const [status, problem] of Object.entries(everyRouteProblems)) responses[status] ??= problem
      if ([route.method].flat().some((method) => method !== 'GET' && method !== 'HEAD')) {
        for (const [status, problem] of Object.entries(bodyProblems)) responses[status] ??= problem
      }
    })

    await fastify.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Counterclaim API',
          version: packageJson.version,
          description:
            'Records claims made by parties and the rebuttals and supporting statements of other parties, and ' +
            'answers which claims are disputed, by whom and since when. Errors are RFC 9457 problem details.',
          license: { name: 'MIT', identifier: 'MIT' },
        },
        servers: [publicUrl === undefined ? { url: '/', description: 'This server' } : { url: publicUrl }],
        // Each operation says whether it takes a key (the auth plugin sets `security` on it); none is the default.
        security: [],
        components: {
          securitySchemes: {
            apiKey: {
              type: 'http',
              scheme: 'bearer',
              description:
                'An API key (`cck_…`) as a bearer token. Writes need one with the `write` scope; reads need none ' +
                'unless the server sets READS_REQUIRE_KEY. A missing or bad key is a 401, a missing scope or a ' +
                'record another key created a 403. `npm run keys -- create` makes the first one.',
            },
          },
        },
        tags: [
          { name: 'parties', description: 'Who speaks: states, ministries, media, fact-checkers.' },
          { name: 'events', description: 'The incidents that claims are about: a strike, a shelling, a toll.' },
          { name: 'claims', description: 'What a party asserted, with its sources and versions.' },
          { name: 'links', description: 'Claims answering claims of other parties: rebuttals and supports.' },
          {
            name: 'disputes',
            description: 'Which claims are disputed, by whom and since when; the exchange around a claim.',
          },
          { name: 'reviews', description: "Fact-checkers' verdicts on claims, also served as schema.org ClaimReview." },
          {
            name: 'tombstones',
            description: 'Deleted records, as their 410 answers describe them: to carry deletions elsewhere.',
          },
          { name: 'import', description: 'Bulk import of parties, claims, links, reviews and deletions from NDJSON.' },
          { name: 'keys', description: 'API keys and their scopes; for admin keys.' },
          { name: 'operations', description: 'Health, readiness and the API description.' },
        ],
      },
      transformObject: (generated) =>
        'openapiObject' in generated
          ? discriminateProblems(
              withDocumentedRules(
                nameTitledSchemas(documentConsistencyHeader(liftRequiredHeaders(generated.openapiObject))),
              ),
            )
          : generated.swaggerObject,
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
      },
    })
    await fastify.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } })

    let documentTag: string | undefined
    fastify.get(
      '/openapi.json',
      {
        schema: {
          hide: true,
          operationId: 'getOpenApiDocument',
          summary: 'The OpenAPI 3.1 document of this API',
          tags: ['operations'],
          response: { 200: { type: 'object', additionalProperties: true }, 304: { type: 'null' } },
        },
      },
      async (request, reply) => {
        const document = fastify.swagger()
        documentTag ??= etagOf(document)
        reply.header('etag', documentTag).header('cache-control', DOCUMENT_CACHE_CONTROL)
        const held = String(request.headers['if-none-match'] ?? '')
        const tags = held.split(',').map((tag) => tag.trim().replace(/^W\//, ''))
        if (tags.includes(documentTag) || tags.includes('*')) return reply.code(304).send()
        return document
      },
    )
  },
  { name: 'openapi' },
)
