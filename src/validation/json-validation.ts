import type { ErrorObject, Options } from 'ajv'
import { Ajv2019 } from 'ajv/dist/2019.js'
import addFormats from 'ajv-formats'
import { fullFormats } from 'ajv-formats/dist/formats.js'
import type { FieldError } from '../errors/problems.js'
import { isStorableInstant, UUID_SHAPE } from '../schemas/common.schema.js'
import { PARTIAL_DATE_TIME_FORMAT, parsePartialDateTime } from '../schemas/time.schema.js'

/** An Ajv instance with the formats as the service reads them; `options` say how it treats types and defaults. */
export function createAjv(options: Options): Ajv2019 {
  // Draft 2019-09, for keywords such as dependentRequired (a location's lat needs its lon).
  const ajv = new Ajv2019({ allErrors: true, removeAdditional: false, strict: true, ...options })
  addFormats.default(ajv)
  // Stricter than the RFCs where PostgreSQL is: ajv's uuid also takes a `urn:uuid:` prefix, and its date-time
  // takes leap seconds and instants outside years 0001 to 9999 in UTC, which the database, JavaScript's Date or
  // the RFC 3339 text the API answers with could not hold.
  ajv.addFormat('uuid', UUID_SHAPE)
  ajv.addFormat('date-time', { type: 'string', validate: isStorableDateTime })
  ajv.addFormat(PARTIAL_DATE_TIME_FORMAT, {
    type: 'string',
    validate: (value: string) => parsePartialDateTime(value) !== undefined,
  })
  return ajv
}

const rfc3339DateTime = (fullFormats['date-time'] as { validate: (value: string) => boolean }).validate

function isStorableDateTime(value: string): boolean {
  return rfc3339DateTime(value) && isStorableInstant(Date.parse(value))
}

/**
 * JSON must arrive exactly as documented: no type coercion ("1" stays a string and fails an integer field) and no
 * stripping of unknown fields (they fail).
 */
const jsonAjv = createAjv({ coerceTypes: false, useDefaults: false })

/** A validator for JSON: a request body, a line of an import, a data set file. */
export const compileJsonValidator = (schema: object) => jsonAjv.compile(schema)

/** Ajv's errors, one per bad field, named the way a client writes them (`sources[0].url`). */
export function fieldErrorsOf(errors: ErrorObject[], location: FieldError['in']): FieldError[] {
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
      return { path: fieldPath([...segments, String(params.missingProperty)]), message: 'is required' }
    case 'additionalProperties':
      return { path: fieldPath([...segments, String(params.additionalProperty)]), message: 'is not a known field' }
    case 'enum':
      return {
        path: fieldPath(segments),
        message: `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`,
      }
    case 'format':
      return { path: fieldPath(segments), message: `must be a valid ${String(params.format)}` }
    default:
      return { path: fieldPath(segments), message: error.message ?? 'is not valid' }
  }
}

/** A path into JSON written the way a client names a field: `sources[0].url`. */
export function fieldPath(segments: string[]): string {
  return segments.reduce((path, segment) => {
    if (/^\d+$/.test(segment)) return `${path}[${segment}]`
    return path.length > 0 ? `${path}.${segment}` : segment
  }, '')
}
