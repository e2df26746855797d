import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifySchemaCompiler } from 'fastify'
import { ApiError } from '../errors/problems.js'
import type { ConcurrencySlots } from '../http/concurrency-slots.js'
import { validatorCompiler } from '../http/validation.js'
import { problemResponses } from '../schemas/common.schema.js'
import { ImportLineSchema, ImportQuery, ImportRejectedSchema, ImportResultSchema } from '../schemas/import.schema.js'
import { importRecords } from '../services/import/import.service.js'
import { openSpoolDirectory } from '../services/import/spool-directory.js'

const NDJSON = 'application/x-ndjson'

export interface ImportRoutesOptions {
  bodyLimitBytes: number
  /** The base of the import spool directories (IMPORT_SPOOL_DIR); the system's temp directory when undefined. */
  spoolDirectory: string | undefined
  /** Imports running at once (IMPORT_CONCURRENCY): each holds a pooled connection until it ends. */
  importSlots: ConcurrencySlots
}

// The body schema documents one line; the lines are checked one by one as they arrive, not as a whole body.
const skipBodyValidation: FastifySchemaCompiler<object> = (route) =>
  route.httpPart === 'body' ? () => true : validatorCompiler(route)

const importRoutes: FastifyPluginAsyncTypebox<ImportRoutesOptions> = async (fastify, options) => {
  // Only NDJSON, and left unread: the service reads the request itself, spooling it to a file as it arrives.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser(NDJSON, (_request, _payload, done) => done(null))
  // At start, not at the first import: what a killed process spooled is removed as soon as the service is back.
  fastify.addHook('onReady', async () => {
    await openSpoolDirectory(options.spoolDirectory).catch((error: unknown) =>
      fastify.log.warn({ err: error }, 'the import spool directory could not be prepared; imports will answer 503'),
    )
  })

  fastify.post(
    '/v1/import',
    {
      validatorCompiler: skipBodyValidation,
      // The body is read here, not by Fastify: an Idempotency-Key is claimed once it is in (see below).
      config: { idempotentBody: 'read-by-handler' },
      schema: {
        operationId: 'importRecords',
        summary: 'Import parties, claims, links, reviews and deletions from NDJSON',
        description:
          'One JSON object per line, each with a `type` (party, claim, link, review or deletion) and a `ref`, ' +
          'and otherwise the fields the API takes to create that record. A reference to another record is what ' +
          'the API takes (a party id or slug, a claim id) or `{"ref": …}`, naming a record by the ref an earlier ' +
          'line or import gave it. A known ref updates its record to what the line says (an optional field left ' +
          'out is cleared); an unknown ref creates the record; a party line with a new ref and the slug of a live ' +
          'party, a link line for two claims already linked so, and a review line for a claim its reviewer ' +
          'already reviewed, adopt that record. A deletion line (`of` a kind, and the `ref` of such a record) ' +
          'deletes that record as DELETE does, at its `deleted_at`: a record deleted already is unchanged. The ' +
          'body streams, in one transaction: every bad line is reported with its number. all-or-nothing (the ' +
          'default) then writes nothing and answers 422; best-effort keeps the good lines.',
        tags: ['import'],
        querystring: ImportQuery,
        body: { content: { [NDJSON]: { schema: ImportLineSchema } } },
        response: {
          200: { ...ImportResultSchema, description: 'The import was applied (in best-effort mode, its good lines).' },
          ...problemResponses(400, 413, 415, 503),
          422: {
            description: 'All-or-nothing, and some lines are bad: nothing was imported; the bad lines are listed.',
            content: { 'application/problem+json': { schema: ImportRejectedSchema } },
          },
        },
      },
    },
    async (request, reply) => {
      const type = String(request.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim()
        .toLowerCase()
      if (type !== NDJSON) {
        throw new ApiError('unsupported-media-type', `the body must be ${NDJSON}, one JSON object per line`)
      }
      // Taken before the body is read, so that an import refused for want of a slot is refused at once.
      const giveSlotBack = options.importSlots.take()
      try {
        const result = await importRecords(fastify.db, request.raw, {
          mode: request.query.mode ?? 'all-or-nothing',
          bodyLimitBytes: options.bodyLimitBytes,
          spoolDirectory: options.spoolDirectory,
          key: request.apiKey,
          // A retry of an import is recognised by the digest of its body, taken as it was spooled.
          beforeApply: (bodySha256) => fastify.claimIdempotencyKey(request, reply, bodySha256),
        })
        // Undefined: the answer to the same import, made earlier with the same Idempotency-Key, was sent again.
        return result ?? reply
      } finally {
        giveSlotBack()
      }
    },
  )
}

export default importRoutes
