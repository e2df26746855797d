import type { ErrorObject, Options, ValidateFunction } from 'ajv'
import { Ajv2019 } from 'ajv/dist/2019.js'
import addFormats from 'ajv-formats'
import { fullFormats } from 'ajv-formats/dist/formats.js'
import type { FastifyRequest, FastifySchemaCompiler } from 'fastify'
import { isStorableInstant, UUID_SHAPE } from '../schemas/common.schema.js'
import { ApiError, type FieldError } from './problem-details.js'

/**
 * Request validation with two Ajv instances. Bodies are JSON and must arrive exactly as documented: no type
 * coercion ("1" stays a string and fails an integer field) and no stripping of unknown fields (they fail).
 * Query strings and path parameters are text by nature, so they are coerced to the documented types and get
 * their defaults; unknown query parameters still fail, so that a misspelt filter is not silently ignored.
 */
function createAjv(options: Options): Ajv2019 {
  // Draft 2019-09, for keywords such as dependentRequired (a location's lat needs its lon).
  const ajv = new Ajv2019({ allErrors: true, removeAdditional: false, strict: true, ...options })
  addFormats.default(ajv)
  // Stricter than the RFCs where PostgreSQL is: ajv's uuid also takes a `urn:uuid:` prefix, and its date-time
  // takes leap seconds and instants outside years 0001 to 9999 in UTC, which the database, JavaScript's Date or
  // the RFC 3339 text the API answers with could not hold.
  ajv.addFormat('uuid', UUID_SHAPE)
  ajv.addFormat('date-time', { type: 'string', validate: isStorableDateTime })
  return ajv
}

const rfc3339DateTime = (fullFormats['date-time'] as { validate: (value: string) => boolean }).validate

function isStorableDateTime(value: string): boolean {
  return rfc3339DateTime(value) && isStorableInstant(Date.parse(value))
}

const bodyAjv = createAjv({ coerceTypes: false, useDefaults: false })
const textAjv = createAjv({ coerceTypes: 'array', useDefaults: true })

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  httpPart === 'body' ? bodyAjv.compile(schema) : refusingNonFiniteNumbers(textAjv.compile(schema))

/**
 * Ajv coerces text such as `Infinity` or `1e400` to an infinite number, takes that for an integer, and checks
 * `minimum` and `maximum` on finite numbers only: `?limit=Infinity` passed, and reached the database (or a loop).
 * No parameter means an infinite number, so one that coercion made is refused like any value of the wrong type.
 */
function refusingNonFiniteNumbers(validate: ValidateFunction): ValidateFunction {
  const checked = ((data: unknown, context?: Parameters<ValidateFunction>[1]) => {
    if (!validate(data, context)) {
      checked.errors = validate.errors
      return false
    }
    const path = pathToNonFiniteNumber(data)
    checked.errors =
      path === undefined
        ? null
        : [{ instancePath: path, schemaPath: '#', keyword: 'type', params: {}, message: 'must be a finite number' }]
    return path === undefined
  }) as ValidateFunction
  // Fastify hands an Ajv validator the parent of the data (to coerce a root value) when it sees this.
  checked.schemaEnv = validate.schemaEnv
  return checked
}

/** The JSON pointer to the first number in query or path values that is not finite (they are shallow). */
function pathToNonFiniteNumber(value: unknown, path = ''): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path
  if (value === null || typeof value !== 'object') return undefined
  for (const [key, item] of Object.entries(value)) {
    const found = pathToNonFiniteNumber(item, `${path}/${key}`)
    if (found !== undefined) return found
  }
  return undefined
}

/** A validator for JSON that arrives other than as a request body (a data set file), as strict as for bodies. */
export const compileJsonValidator = (schema: object) => bodyAjv.compile(schema)

const LOCATIONS: Record<string, FieldError['in']> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
}

/** Ajv's errors, one per bad field, named the way a client writes them (`sources[0].url`). */
export function fieldErrorsOf(errors: ErrorObject[], context: string | undefined): FieldError[] {
  const location = LOCATIONS[context ?? 'body'] ?? 'body'
  const seen = new Set<string>()
  const fieldErrors: FieldError[] = []
  for (const error of errors) {
    const { path, message } = describe(error)
    const field = path.length > 0 ? path : location
    const key = `${field}\u0000${message}`
    if (seen.has(key)) continue
    seen.add(key)
    fieldErrors.push({ in: location, field, message })
  }
  return fieldErrors
}

function describe(error: ErrorObject): { path: string; message: string } {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'required':
    case 'dependentRequired':
      return { path: join([...segments, String(params.missingProperty)]), message: 'is required' }
    case 'additionalProperties':
      return { path: join([...segments, String(params.additionalProperty)]), message: 'is not a known field' }
    case 'enum':
      return {
        path: join(segments),
        message: `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`,
      }
    case 'format':
      return { path: join(segments), message: `must be a valid ${String(params.format)}` }
    default:
      return { path: join(segments), message: error.message ?? 'is not valid' }
  }
}

function join(segments: string[]): string {
  return segments.reduce((path, segment) => {
    if (/^\d+$/.test(segment)) return `${path}[${segment}]`
    return path.length > 0 ? `${path}.${segment}` : segment
  }, '')
}

const NUL = '\u0000'

/**
 * PostgreSQL text cannot hold the NUL character, so a string carrying one would fail in the database. Caught
 * here, before validation, for the body, the query string and the path alike, and named like any bad field.
 * A query string or path parameters that the route does not read (it has no schema for them: a health probe)
 * are left alone, as the route leaves anything else in them.
 */
export async function rejectNulCharacters(request: FastifyRequest): Promise<void> {
  const schema = request.routeOptions.schema
  const parts: Array<[FieldError['in'], unknown]> = [
    ['path', schema?.params === undefined ? undefined : request.params],
    ['query', schema?.querystring === undefined ? undefined : request.query],
    ['body', request.body],
  ]
  for (const [location, value] of parts) {
    const path = pathToNul(value)
    if (path !== undefined) {
      const field = join(path) || location
      const message = 'must not contain the NUL character (U+0000)'
      throw new ApiError('validation-failed', `${field} ${message}`, { errors: [{ in: location, field, message }] })
    }
  }
}

/** The path to the first string (or key) holding a NUL, walked without recursion: bodies may nest deeply. */
function pathToNul(root: unknown): string[] | undefined {
  interface Step {
    value: unknown
    key?: string
    parent?: Step
  }
  const pathOf = (step: Step) => {
    const path: string[] = []
    for (let at: Step | undefined = step; at?.key !== undefined; at = at.parent) path.unshift(at.key)
    return path
  }
  const pending: Step[] = [{ value: root }]
  for (let step = pending.pop(); step !== undefined; step = pending.pop()) {
    const { value } = step
    if (typeof value === 'string') {
      if (value.includes(NUL)) return pathOf(step)
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        const child = { value: item, key, parent: step }
        if (key.includes(NUL)) return pathOf(child)
        pending.push(child)
      }
    }
  }
  return undefined
}
