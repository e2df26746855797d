import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ClaimSchema, ClaimVersionSchema } from '../schemas/claim.schema.js'
import { ProblemSchema } from '../schemas/common.schema.js'
import { DisputeSchema, MatrixSchema, RebuttalSummarySchema } from '../schemas/dispute.schema.js'
import { LinkSchema, RebuttalSchema } from '../schemas/link.schema.js'
import { PartyRefSchema, PartySchema } from '../schemas/party.schema.js'
import { ReviewSchema, ReviewSummarySchema, ReviewVersionSchema } from '../schemas/review.schema.js'
import { ThreadEntrySchema, ThreadSchema } from '../schemas/thread.schema.js'
import packageJson from '../../package.json' with { type: 'json' }

/** Schemas that routes refer to by `$id`; they become `components/schemas` in the OpenAPI document. */
const SHARED_SCHEMAS = [
  ProblemSchema,
  PartyRefSchema,
  PartySchema,
  ReviewSummarySchema,
  ClaimSchema,
  ClaimVersionSchema,
  LinkSchema,
  RebuttalSchema,
  RebuttalSummarySchema,
  DisputeSchema,
  MatrixSchema,
  ThreadEntrySchema,
  ThreadSchema,
  ReviewSchema,
  ReviewVersionSchema,
]

/**
 * The OpenAPI 3.1 document is generated from the route schemas, served at /openapi.json, and browsable at
 * /docs. `npm run openapi` writes it to openapi/openapi.json, and a test fails when that copy drifts.
 */
export default fp(
  async function openapi(fastify: FastifyInstance) {
    for (const schema of SHARED_SCHEMAS) fastify.addSchema(schema)

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
        servers: [{ url: '/', description: 'This server' }],
        // Every operation is open for now; API keys for writes come with the authentication work.
        security: [],
        tags: [
          { name: 'parties', description: 'Who speaks: states, ministries, media, fact-checkers.' },
          { name: 'claims', description: 'What a party asserted, with its sources and versions.' },
          { name: 'links', description: 'Claims answering claims of other parties: rebuttals and supports.' },
          {
            name: 'disputes',
            description: 'Which claims are disputed, by whom and since when; the exchange around a claim.',
          },
          { name: 'reviews', description: "Fact-checkers' verdicts on claims, also served as schema.org ClaimReview." },
          { name: 'import', description: 'Bulk import of parties, claims, links and reviews from NDJSON.' },
          { name: 'operations', description: 'Health, readiness and the API description.' },
        ],
      },
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
      },
    })
    await fastify.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } })

    fastify.get(
      '/openapi.json',
      {
        schema: {
          hide: true,
          operationId: 'getOpenApiDocument',
          summary: 'The OpenAPI 3.1 document of this API',
          tags: ['operations'],
          response: { 200: { type: 'object', additionalProperties: true } },
        },
      },
      async () => fastify.swagger(),
    )
  },
  { name: 'openapi' },
)
