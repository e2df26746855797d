import type { ValidateFunction } from 'ajv'
import type { FastifyRequest, FastifySchemaCompiler } from 'fastify'
import { type FieldError, invalidField } from '../errors/problems.js'
import { compileJsonValidator, createAjv, fieldPath } from '../validation/json-validation.js'

/**
 * Request validation with two Ajv instances. Bodies are JSON and are held to it as strictly as any other JSON the
 * service reads. Query strings and path parameters are text by nature, so they are coerced to the documented types
 * and get their defaults; unknown query parameters still fail, so that a misspelt filter is not silently ignored.
 */
const textAjv = createAjv({ coerceTypes: 'array', useDefaults: true })

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  httpPart === 'body' ? compileJsonValidator(schema) : refusingNonFiniteNumbers(textAjv.compile(schema))

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

const LOCATIONS: Record<string, FieldError['in']> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
}

/** Where a failed validation looked, named for the client, from Fastify's name of the request part. */
export const fieldLocation = (context: string | undefined): FieldError['in'] => LOCATIONS[context ?? 'body'] ?? 'body'

/** What a string (or a key) may not hold, because PostgreSQL could not store it, and how a field error says so. */
const UNSTORABLE_TEXT: Array<{ found: (text: string) => boolean; message: string }> = [
  { found: (text) => text.includes('\u0000'), message: 'must not contain the NUL character (U+0000)' },
  {
    // A JSON string may escape half of a surrogate pair alone ("\ud800"): no UTF-8 text holds it, so PostgreSQL
    // refuses it in JSON and a text column would turn it into U+FFFD.
    found: (text) => LONE_SURROGATE.test(text),
    message: 'must not contain a lone UTF-16 surrogate (U+D800 to U+DFFF outside a pair): it cannot be stored',
  },
]

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * Text PostgreSQL cannot hold (the NUL character, a lone surrogate) would fail in the database. Caught here,
 * before validation, for the body, the query string and the path alike, and named like any bad field. A query
 * string or path parameters that the route does not read (it has no schema for them: a health probe) are left
 * alone, as the route leaves anything else in them.
 */
export async function rejectUnstorableText(request: FastifyRequest): Promise<void> {
  const schema = request.routeOptions.schema
  const parts: Array<[FieldError['in'], unknown]> = [
    ['path', schema?.params === undefined ? undefined : request.params],
    ['query', schema?.querystring === undefined ? undefined : request.query],
    ['body', request.body],
  ]
  for (const [location, value] of parts) {
    const found = unstorableText(value)
    if (found !== undefined) {
      const field = fieldPath(found.path) || location
      throw invalidField(location, field, found.message)
    }
  }
}

/**
 * The path to the first string (or key) holding unstorable text, and what is wrong with it. Walked without
 * recursion, each value once, and the path built only for the value found: the work is linear in the body.
 */
function unstorableText(root: unknown): { path: string[]; message: string } | undefined {
  interface Step {
    value: unknown
    key?: string
    parent?: Step
  }
  const found = (step: Step, message: string) => {
    const path: string[] = []
    for (let at: Step | undefined = step; at?.key !== undefined; at = at.parent) path.push(at.key)
    return { path: path.reverse(), message }
  }
  const problemOf = (text: string) => UNSTORABLE_TEXT.find((check) => check.found(text))?.message
  const pending: Step[] = [{ value: root }]
  for (let step = pending.pop(); step !== undefined; step = pending.pop()) {
    const { value } = step
    if (typeof value === 'string') {
      const message = problemOf(value)
      if (message !== undefined) return found(step, message)
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        const child = { value: item, key, parent: step }
        const message = problemOf(key)
        if (message !== undefined) return found(child, message)
        pending.push(child)
      }
    }
  }
  return undefined
}

/** How deeply arrays and objects may nest in a JSON body: far more than any record of the API needs. */
export const MAX_JSON_DEPTH = 64

/**
 * Where JSON text nests arrays and objects deeper than `maxDepth`, found in one pass over the text before it is
 * parsed: a deep body would otherwise be parsed whole and then walked by every check that follows. Says which
 * member of the top-level object holds the deep value (`''` when the text is not an object); undefined when
 * nothing nests too deep. Brackets inside strings do not count; the text need not be valid JSON (the parser
 * says so afterwards).
 */
export function tooDeeplyNested(text: string, maxDepth: number): { member: string } | undefined {
  let depth = 0
  let inString = false
  let rootIsObject = false
  // The latest string at depth 1, and the one a colon made a member name: the member that is being read.
  let lastString = { start: 0, end: 0 }
  let member = { start: 0, end: 0 }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // a backslash: the next character is escaped
      else if (c === 0x22) {
        inString = false
        if (depth === 1) lastString.end = i + 1
      }
    } else if (c === 0x22) {
      inString = true
      if (depth === 1) lastString = { start: i, end: i }
    } else if (c === 0x3a) {
      if (depth === 1) member = lastString
    } else if (c === 0x7b || c === 0x5b) {
      if (depth === 0) rootIsObject = c === 0x7b
      if (++depth > maxDepth) return { member: rootIsObject ? memberName(text.slice(member.start, member.end)) : '' }
    } else if (c === 0x7d || c === 0x5d) {
      depth--
    }
  }
  return undefined
}

function memberName(quoted: string): string {
  try {
    const name: unknown = JSON.parse(quoted)
    return typeof name === 'string' ? name : ''
  } catch {
    return ''
  }
}
