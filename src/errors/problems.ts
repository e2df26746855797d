import { PROBLEM_CODES, PROBLEM_TYPE_PREFIX } from '../schemas/common.schema.js'

/**
 * Every error the API answers with, in one place: a stable code, its HTTP status and title. Services and
 * repositories throw them; the HTTP layer writes each as an RFC 9457 `application/problem+json` body.
 */
export const PROBLEMS = {
  'validation-failed': { status: 400, title: 'The request is not valid' },
  'malformed-request': { status: 400, title: 'The request could not be read' },
  unauthorized: { status: 401, title: 'Authentication is required' },
  forbidden: { status: 403, title: 'Not allowed' },
  'not-found': { status: 404, title: 'Not found' },
  'route-not-found': { status: 404, title: 'No such route' },
  gone: { status: 410, title: 'The record was deleted' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'not-acceptable': { status: 406, title: 'No acceptable representation' },
  conflict: { status: 409, title: 'Conflict with the current state' },
  'review-is-draft': { status: 409, title: 'The review is a draft' },
  'idempotency-key-in-use': { status: 409, title: 'A request with this Idempotency-Key is still running' },
  'idempotency-key-used': { status: 409, title: 'The request with this Idempotency-Key was already applied' },
  'duplicate-claim': { status: 409, title: 'The claim closely matches a recorded one' },
  'request-timeout': { status: 408, title: 'Request timed out' },
  'precondition-failed': { status: 412, title: 'Precondition failed' },
  'payload-too-large': { status: 413, title: 'Request body too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'unprocessable-entity': { status: 422, title: 'The request cannot be applied' },
  'out-of-time-order': { status: 422, title: 'A response cannot be stated before the claim it answers' },
  'idempotency-key-reused': { status: 422, title: 'The Idempotency-Key was used for another request' },
  'import-rejected': { status: 422, title: 'The import was rejected' },
  'too-many-requests': { status: 429, title: 'Too many requests' },
  'headers-too-large': { status: 431, title: 'Request headers too large' },
  'internal-error': { status: 500, title: 'Internal server error' },
  'service-unavailable': { status: 503, title: 'Service temporarily unavailable' },
} as const satisfies Record<ProblemCode, { status: number; title: string }>

export type ProblemCode = (typeof PROBLEM_CODES)[number]

/** One bad input, named so that a client can point at it: `in` is body, query, path or header. */
export interface FieldError {
  in: 'body' | 'query' | 'path' | 'header'
  field: string
  message: string
}

/** An error a handler, service or repository throws on purpose; the error handler sends it as problem+json. */
export class ApiError extends Error {
  readonly status: number

  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extras: {
      errors?: FieldError[]
      headers?: Record<string, string>
      /** Extension members of the problem, beside the standard ones (RFC 9457, section 3.2). */
      members?: Record<string, unknown>
    } = {},
  ) {
    super(detail)
    this.status = PROBLEMS[code].status
  }
}

export interface ProblemBody {
  type: string
  title: string
  status: number
  detail: string
  code: ProblemCode
  instance?: string
  errors?: FieldError[]
  errors_omitted?: number
}

/**
 * A problem's size is bounded whatever the request held: at most MAX_LISTED_ERRORS field errors are listed (the
 * others counted in `errors_omitted`), and a field name, message or detail longer than its bound is cut short.
 */
export const MAX_LISTED_ERRORS = 50
const MAX_FIELD_CHARACTERS = 200
const MAX_DETAIL_CHARACTERS = 1000

/** The text cut to `max` characters, the last one an ellipsis; a surrogate pair is never cut in half. */
export function truncated(text: string, max: number): string {
  if (text.length <= max) return text
  const end = /[\ud800-\udbff]/.test(text.charAt(max - 2)) ? max - 2 : max - 1
  return `${text.slice(0, end)}\u2026`
}

/**
 * The RFC 9457 problem details object of an error: the body of an error response, or an entry of an import's
 * report. `instance` is the request id, which is also in the logs.
 */
export function problemBody(error: ApiError, instance: string): ProblemBody {
  const { title } = PROBLEMS[error.code]
  const { errors, members } = error.extras
  const listed = errors?.slice(0, MAX_LISTED_ERRORS).map((e) => ({
    in: e.in,
    field: truncated(e.field, MAX_FIELD_CHARACTERS),
    message: truncated(e.message, MAX_FIELD_CHARACTERS),
  }))
  const omitted = (errors?.length ?? 0) - (listed?.length ?? 0)
  return {
    ...members,
    type: PROBLEM_TYPE_PREFIX + error.code,
    title,
    status: error.status,
    detail: truncated(error.detail, MAX_DETAIL_CHARACTERS),
    code: error.code,
    instance,
    ...(listed ? { errors: listed } : {}),
    ...(omitted > 0 ? { errors_omitted: omitted } : {}),
  }
}

export const notFound = (what: string) => new ApiError('not-found', `${what} does not exist`)

/** A well-formed field whose value the current state does not allow: a rule of the domain, not of syntax. */
export const unprocessableField = (location: FieldError['in'], field: string, message: string) =>
  new ApiError('unprocessable-entity', `${field} ${message}`, { errors: [{ in: location, field, message }] })

/** A reference inside the request (a party slug in a claim body, say) that points at nothing. */
export const unknownReference = (location: FieldError['in'], field: string, message: string) =>
  new ApiError('unprocessable-entity', message, { errors: [{ in: location, field, message }] })

export const invalidField = (location: FieldError['in'], field: string, message: string) =>
  new ApiError('validation-failed', `${field} ${message}`, { errors: [{ in: location, field, message }] })

export const RETRY_AFTER_SECONDS = 2

/** A 503 the client may retry after RETRY_AFTER_SECONDS. */
export function unavailable(detail: string): ApiError {
  return new ApiError('service-unavailable', detail, { headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } })
}
