import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { StringEnum } from './string-enum.js'

/** `T | null` written as a JSON Schema type list (`["string", "null"]`): one clear validation message, not an anyOf. */
export function Nullable<T extends TSchema & { type: string }>(schema: T) {
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] })
}

export const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_SHAPE.test(value)

/** The instants a timestamp may name: years 0001 to 9999 in UTC, which RFC 3339 and PostgreSQL both write. */
const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z')
const LATEST = Date.parse('9999-12-31T23:59:59.999Z')
export const isStorableInstant = (ms: number) => ms >= EARLIEST && ms <= LATEST

export const Uuid = Type.String({ format: 'uuid', description: 'A UUID.' })
export const DateTime = Type.String({ format: 'date-time', description: 'An RFC 3339 date-time with a time zone.' })

/** Why a change was made, in its editor's words: a PATCH may give one, and the version it makes keeps it. */
export const EditNote = Type.String({
  minLength: 1,
  maxLength: 500,
  description: 'Why this change is made (a typo, a figure the source revised); the version it makes keeps it.',
})

/** Who made a version of a record and why, as every history shows it. */
export const versionAuthorship = {
  recorded_by: Nullable(
    Type.Object(
      { id: Uuid, name: Type.String() },
      {
        description:
          'The API key that made this version; null for versions made from the command line, and for those ' +
          'made before versions recorded their key.',
      },
    ),
  ),
  edit_note: Nullable(Type.String({ description: 'Why this version was made, as its editor said (`edit_note`).' })),
}

/**
 * A schema with other examples, or none. Swagger UI fills each parameter with its example, so a filter's example
 * is one the demo data set matches together with the examples of its list's other filters, or there is none.
 */
export function exampled<T extends TSchema>(schema: T, ...examples: unknown[]): T {
  const copy = { ...schema } as Record<PropertyKey, unknown>
  delete copy.examples
  if (examples.length > 0) copy.examples = examples
  return copy as unknown as T
}

export const SLUG_PATTERN = '^[a-z0-9]+(-[a-z0-9]+)*$'

/** A problem's `type` is this URN followed by its code. */
export const PROBLEM_TYPE_PREFIX = 'urn:counterclaim:problem:'

/**
 * Every code a problem may carry, so that a generated client has them as an enum; the catalogue in
 * src/errors/problems.ts gives each its status and title, and fails to compile when the two lists differ.
 */
export const PROBLEM_CODES = [
  'validation-failed',
  'malformed-request',
  'unauthorized',
  'forbidden',
  'not-found',
  'route-not-found',
  'gone',
  'method-not-allowed',
  'not-acceptable',
  'conflict',
  'review-is-draft',
  'idempotency-key-in-use',
  'idempotency-key-used',
  'duplicate-claim',
  'request-timeout',
  'precondition-failed',
  'payload-too-large',
  'unsupported-media-type',
  'unprocessable-entity',
  'out-of-time-order',
  'idempotency-key-reused',
  'import-rejected',
  'too-many-requests',
  'headers-too-large',
  'internal-error',
  'service-unavailable',
] as const

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ format: 'uri', examples: [`${PROBLEM_TYPE_PREFIX}validation-failed`] }),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String(),
    code: StringEnum(PROBLEM_CODES, {
      title: 'ProblemCode',
      description: 'A stable, machine-readable error code; the last part of `type`. docs/errors.md lists them.',
    }),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(
      Type.Array(
        Type.Object(
          {
            in: StringEnum(['body', 'query', 'path', 'header'] as const, { title: 'FieldLocation' }),
            field: Type.String({ description: 'The field, as a dotted path (`sources[0].url`).' }),
            message: Type.String(),
          },
          { title: 'FieldError', description: 'A bad field of a request, and what is wrong with it.' },
        ),
        { description: 'For validation errors: every bad field, up to 50 of them.' },
      ),
    ),
    duplicates: Type.Optional(
      Type.Array(
        Type.Object(
          {
            id: Type.String({ format: 'uuid' }),
            score: Type.Number({ minimum: 0, maximum: 1, description: 'Trigram similarity of the two texts.' }),
            href: Type.String({ description: 'The path of the claim.' }),
          },
          { title: 'DuplicateMatch', description: 'A live claim that the new one closely matches.' },
        ),
        { description: 'For duplicate-claim: the live claims the new one closely matches, best first.' },
      ),
    ),
    errors_omitted: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Bad fields beyond the 50 listed in `errors`, which are not listed.' }),
    ),
  },
  { $id: 'Problem', title: 'Problem', description: 'An RFC 9457 problem details object.' },
)

export const ProblemRef = Type.Ref(ProblemSchema)
/** The problem of a deleted record, with its tombstone (tombstone.schema.ts defines it, from this one). */
const GoneProblemRef = Type.Ref('GoneProblem') as unknown as typeof ProblemRef

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is malformed or a field is invalid.',
  404: 'No such resource.',
  410: 'The record was deleted: the problem carries its tombstone (what it was, when and by which key it was deleted).',
  406: 'None of the media types in Accept is one this operation answers with; the detail names those it has.',
  409: 'The request conflicts with the current state (a taken slug, a record still in use, a duplicate link).',
  412: 'The If-Match entity tag is stale: the resource changed meanwhile. Nothing was changed.',
  413: 'The body is larger than the limit.',
  415: 'The body is not JSON.',
  422: 'The request is well-formed but cannot be applied: a reference points at nothing, or a rule forbids it.',
  429: 'Too many requests from this client (its API key, or its address without one); retry after Retry-After seconds.',
  500: 'The server failed to answer; the problem carries the request id (`instance`) under which it was logged.',
  503: 'The database is unavailable or slow, or the service is overloaded or shutting down; retry after Retry-After seconds.',
}

/**
 * A response header for the OpenAPI document: its schema, description, and whether every response of its status
 * carries it. The document generator takes all of it as the header's schema; `required` is lifted out to the
 * header itself when the document is written (see the openapi plugin).
 */
export interface ResponseHeader {
  type: 'string' | 'integer'
  description: string
  required?: boolean
  minimum?: number
}

const PROBLEM_HEADERS: Partial<Record<number, Record<string, ResponseHeader>>> = {
  429: {
    'retry-after': { type: 'integer', minimum: 0, required: true, description: 'Seconds until the window ends.' },
  },
  503: {
    'retry-after': { type: 'integer', minimum: 0, required: true, description: 'Seconds to wait before retrying.' },
  },
}

/** The problem+json responses a route can give, for its response schema (and the OpenAPI document). */
export function problemResponses<S extends number>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: PROBLEM_DESCRIPTIONS[status] ?? 'A problem.',
        ...(PROBLEM_HEADERS[status] ? { headers: PROBLEM_HEADERS[status] } : {}),
        content: { 'application/problem+json': { schema: status === 410 ? GoneProblemRef : ProblemRef } },
      },
    ]),
  ) as Record<
    S,
    {
      description: string
      headers?: Record<string, ResponseHeader>
      content: { 'application/problem+json': { schema: typeof ProblemRef } }
    }
  >
}

/**
 * The problems any route may answer with, whatever it does: a failure of the server (500), and overload, a
 * shutdown or a lost database (503). The openapi plugin adds them to every route that does not list them.
 */
export const EVERY_ROUTE_PROBLEMS = [500, 503] as const

export const NotModified = Type.Null({
  description: 'Not modified: the If-None-Match entity tag is current.',
  headers: { etag: { type: 'string', required: true, description: 'The current entity tag.' } },
})

const IfNoneMatch = Type.String({
  description:
    'Entity tags of copies the client holds (or `*`): on a GET or HEAD, 304 when one of them is current; on a ' +
    'PATCH or DELETE, 412 and no change when one of them (or `*`, any) is current.',
})

/** The request headers of a GET of one record: a cached copy is revalidated with its ETag. */
export const ConditionalReadHeaders = Type.Object({ 'if-none-match': Type.Optional(IfNoneMatch) })

/** The request headers of a PATCH or DELETE of one record: the write happens only if the client's copy is current. */
export const ConditionalWriteHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({
      description:
        'The ETag of the copy the change is based on (or `*`); when it is not current, 412 and nothing changes. ' +
        'Optional: without it the last writer wins.',
    }),
  ),
  'if-none-match': Type.Optional(IfNoneMatch),
})

/** The media types a PATCH body is taken in: a JSON Merge Patch, under its own name or as plain JSON. */
export const MERGE_PATCH_MEDIA_TYPES = ['application/json', 'application/merge-patch+json']

export const PAGE_LIMIT_DEFAULT = 50
export const PAGE_LIMIT_MAX = 200
/** The most rows `limit` may ask of a CSV or NDJSON export; without it an export has every matching row. */
export const EXPORT_LIMIT_MAX = 1_000_000

export const PageQuery = {
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: PAGE_LIMIT_MAX,
      default: PAGE_LIMIT_DEFAULT,
      description: `Items per page (1 to ${PAGE_LIMIT_MAX}).`,
    }),
  ),
  cursor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 1000, description: 'The `next_cursor` of the previous page, as given.' }),
  ),
}

/** The paging parameters of a list that also exports: there `limit` may ask for the first N rows of the export. */
export const ExportablePageQuery = {
  ...PageQuery,
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: EXPORT_LIMIT_MAX,
      default: PAGE_LIMIT_DEFAULT,
      description:
        `Items per page (1 to ${PAGE_LIMIT_MAX}); for a CSV or NDJSON export, the first N items ` +
        `(1 to ${EXPORT_LIMIT_MAX.toLocaleString('en')}; without it, every matching item).`,
    }),
  ),
}

export const COUNT_KINDS = ['exact', 'estimated'] as const
export type CountKind = (typeof COUNT_KINDS)[number]

/** `count`: a list's page may also say how many items match, when asked (a count has a cost). */
export const CountQuery = {
  count: Type.Optional(
    StringEnum(COUNT_KINDS, {
      title: 'CountKind',
      description:
        'Also give `total`, the number of matching items: `exact` counts them (up to 100,000: beyond, `total` is ' +
        "100,000 and `total_kind` `at_least`); `estimated` takes the planner's estimate, counting exactly when it " +
        'is under 10,000. Not for CSV or NDJSON exports.',
    }),
  ),
}

export interface ListTotal {
  total: number
  total_kind: 'exact' | 'estimated' | 'at_least'
}

const TotalFields = {
  total: Type.Optional(
    Type.Integer({ minimum: 0, description: 'How many items match the filters (with `count` only; see total_kind).' }),
  ),
  total_kind: Type.Optional(
    StringEnum(['exact', 'estimated', 'at_least'] as const, {
      title: 'TotalKind',
      description:
        'How `total` was found: counted, estimated by the planner, or counted up to the cap (at least that many).',
    }),
  ),
}

/** A page of a keyset-paginated list; the same link is in the `Link: <…>; rel="next"` header. */
export function Page<T extends TSchema>(item: T, title: string) {
  return Type.Object(
    {
      data: Type.Array(item),
      next_cursor: Type.Union([Type.String(), Type.Null()], {
        description: 'Pass as `cursor` to get the next page; null on the last page.',
      }),
    },
    {
      title,
      description: 'A page of the list.',
      headers: { link: { type: 'string', description: '`<…>; rel="next"`: the next page, when there is one.' } },
    },
  )
}

/** A page of a list that takes `count`: with it, the page also says how many items match. */
export function CountedPage<T extends TSchema>(item: T, title: string) {
  return Type.Object(
    {
      ...Page(item, title).properties,
      prev_cursor: Type.Union([Type.String(), Type.Null()], {
        description: 'Pass as `cursor` to get the page before; null on the first page, and by relevance.',
      }),
      ...TotalFields,
    },
    {
      title,
      description: 'A page of the list, with the number of matching items when `count` asked for it.',
      headers: {
        link: {
          type: 'string',
          description: '`<…>; rel="next"` and `<…>; rel="prev"`: the next and previous pages, when there are.',
        },
      },
    },
  )
}

/** Response headers of a single-resource answer, for the OpenAPI document. */
export function resourceHeaders(what: string, options: { created?: boolean } = {}) {
  const etag: ResponseHeader = {
    type: 'string',
    required: true,
    description: `The entity tag of the ${what}, for If-None-Match and If-Match.`,
  }
  const location: ResponseHeader = { type: 'string', required: true, description: `The path of the new ${what}.` }
  return { headers: { etag, ...(options.created ? { location } : {}) } }
}
