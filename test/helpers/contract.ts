import { subscribe } from 'node:diagnostics_channel'
import { readFileSync } from 'node:fs'
import type { ErrorObject, ValidateFunction } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { parse as parseCsv } from 'csv-parse/sync'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { PARTIAL_DATE_TIME_FORMAT, parsePartialDateTime } from '../../src/schemas/time.schema.js'

/**
 * The contract every response of the test suite is held to: the committed OpenAPI document, the one clients
 * generate their code from. A response the document does not describe (an undocumented status, media type or
 * body shape, a required header missing) throws, naming the request, so the test that made it fails.
 */

/**
 * Paths deliberately left out of the document, whose answers are not checked. Each is a prefix of the request
 * path, matched at a segment boundary.
 */
export const UNDOCUMENTED_PATHS = [
  // The browsable reference: HTML, scripts and styles of the swagger UI, which hides its own routes.
  '/docs',
  // The document itself: describing it in itself would tell a client generated from it nothing.
  '/openapi.json',
  // The dispute explorer's pages and assets, and `/`, which sends a browser there: pages of the service, not the API.
  '/explore',
  '/',
  // Routes that a test adds to its own app to provoke errors no real route raises on demand.
  '/test-only',
]

/**
 * Methods deliberately left out of the document, on every path: OPTIONS, which the CORS plugin answers for any
 * path as the preflight a browser sends before a cross-origin request. The document describes the operations,
 * not the preflights in front of them.
 */
export const UNDOCUMENTED_METHODS = ['OPTIONS']

/** Whether requests of this method to this path are deliberately outside the document. */
export function isUndocumented(method: string, path: string): boolean {
  if (UNDOCUMENTED_METHODS.includes(method.toUpperCase())) return true
  return UNDOCUMENTED_PATHS.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))
}

interface HeaderObject {
  required?: boolean
  schema?: object
}

interface ResponseObject {
  headers?: Record<string, HeaderObject>
  content?: Record<string, { schema?: object }>
}

interface Operation {
  responses: Record<string, ResponseObject>
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, object> }
}

const DOCUMENT_URL = new URL('../../openapi/openapi.json', import.meta.url)
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']
/** The id the components are registered under, so that `#/components/schemas/X` refers into them. */
const COMPONENTS_ID = 'urn:counterclaim:openapi-components'

let loaded: { document: OpenApiDocument; ajv: Ajv2020; headerAjv: Ajv2020 } | undefined
const validators = new Map<string, ValidateFunction>()

/** The committed document, parsed once, and the Ajv instances its schemas compile with. */
function contract() {
  if (loaded !== undefined) return loaded
  const document = JSON.parse(readFileSync(DOCUMENT_URL, 'utf8')) as OpenApiDocument
  // Bodies are checked as they are, with no type coercion; headers are text, so their values are coerced to
  // the type their schema names (a Retry-After of "2" is the integer 2).
  const components = document.components?.schemas ?? {}
  const ajv = createAjv(components, false)
  const headerAjv = createAjv(components, true)
  loaded = { document, ajv, headerAjv }
  return loaded
}

function createAjv(components: Record<string, object>, coerceTypes: boolean): Ajv2020 {
  // OpenAPI 3.1 schemas are JSON Schema 2020-12; strict, so that a keyword the document misspells is an error.
  const ajv = new Ajv2020({ allErrors: true, strict: true, coerceTypes })
  addFormats.default(ajv)
  ajv.addFormat(PARTIAL_DATE_TIME_FORMAT, (value: string) => parsePartialDateTime(value) !== undefined)
  // OpenAPI's discriminator tells a client which member to read a body as; the members themselves are checked.
  ajv.addKeyword({ keyword: 'discriminator', schemaType: 'object' })
  // The shared schemas as the $defs of one schema; references to them are rewritten to point there.
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: retargetReferences(components) })
  return ajv
}

/** A deep copy of a schema whose `#/components/schemas/X` references name the registered components. */
function retargetReferences<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema), (key, value) =>
    key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')
      ? `${COMPONENTS_ID}#/$defs/${value.slice('#/components/schemas/'.length)}`
      : value,
  ) as T
}

function validatorFor(key: string, schema: object, ajv: Ajv2020): ValidateFunction {
  let validate = validators.get(key)
  if (validate === undefined) {
    validate = ajv.compile(retargetReferences(schema))
    validators.set(key, validate)
  }
  return validate
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((error) => `${error.instancePath || '(root)'} ${error.message}`).join('; ')
}

/** The path template of the document that a request path falls under, preferring literal segments. */
function templateOf(document: OpenApiDocument, path: string): string | undefined {
  const segments = path.split('/')
  let best: { template: string; literals: number } | undefined
  for (const template of Object.keys(document.paths)) {
    const parts = template.split('/')
    if (parts.length !== segments.length) continue
    let literals = 0
    const matches = parts.every((part, i) => {
      // Any segment, an empty one too, as Fastify's router has it: `/v1/claims//reviews` has an empty id.
      if (/^\{[^}]+\}$/.test(part)) return true
      literals++
      return part === segments[i]
    })
    if (matches && (best === undefined || literals > best.literals)) best = { template, literals }
  }
  return best?.template
}

/** The methods the document has operations for on a path; HEAD comes with every GET, as HTTP defines it. */
function documentedMethods(document: OpenApiDocument, template: string): string[] {
  const methods = Object.keys(document.paths[template] ?? {})
    .filter((key) => HTTP_METHODS.includes(key))
    .map((method) => method.toUpperCase())
  if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD')
  return methods.sort()
}

function responseFor(operation: Operation, status: number): [string, ResponseObject] | undefined {
  const responses = operation.responses
  for (const key of [String(status), `${String(status)[0]}XX`, 'default']) {
    const response = responses[key]
    if (response !== undefined) return [key, response]
  }
  return undefined
}

/** The media type of a Content-Type header, without its parameters, in lower case. */
function essenceOf(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase()
}

function documentedMediaType(content: Record<string, unknown>, essence: string): string | undefined {
  const [type] = essence.split('/')
  return Object.keys(content).find((key) => {
    const documented = essenceOf(key)
    return documented === essence || documented === `${type}/*` || documented === '*/*'
  })
}

const isJsonMediaType = (essence: string) => /^application\/([\w.-]+\+)?json$/.test(essence)

/** One request and the response it got, as the checker needs them. */
export interface Exchange {
  method: string
  /** The request target as sent: the path and the query string. */
  url: string
  status: number
  headers: Record<string, string | string[] | number | undefined>
  body: Buffer | string
}

/** Throws when the response of an exchange is not one the document describes. */
export function assertMatchesContract(exchange: Exchange): void {
  const problems = contractViolations(exchange)
  if (problems.length > 0) {
    const { method, url, status } = exchange
    throw new Error(
      `${method} ${url} answered ${status}, which the OpenAPI document does not allow: ${problems.join('; ')}`,
    )
  }
}

/** What is wrong with an exchange according to the document; empty when nothing is. */
export function contractViolations(exchange: Exchange): string[] {
  const { document } = contract()
  const method = exchange.method.toUpperCase()
  const rawPath = exchange.url.split('?')[0] ?? '/'
  // Fastify ignores a trailing slash, so the document's paths answer with one too.
  const path = rawPath.length > 1 ? rawPath.replace(/\/+$/, '') : rawPath
  if (isUndocumented(method, path)) return []

  const template = templateOf(document, path)
  if (template === undefined) {
    // No operation can document a path that does not exist; the service's rule for them is a 404 problem, or
    // a 400 for a path that cannot be decoded at all.
    return [...expectStatus(exchange, [400, 404]), ...problemViolations(exchange)]
  }
  // A HEAD is answered as the GET would be, without the body.
  const operation = document.paths[template]?.[method === 'HEAD' ? 'get' : method.toLowerCase()]
  if (operation === undefined) {
    // A path that cannot be decoded is refused before any route is looked for, whatever the method.
    if (!decodes(path)) return [...expectStatus(exchange, [400]), ...problemViolations(exchange)]
    // Neither can an operation document a method it does not have: that is a 405 problem whose Allow header
    // names exactly the methods the document has for the path.
    const allow = String(exchange.headers.allow ?? '')
    const allowed = allow
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean)
      .sort()
    const documented = documentedMethods(document, template)
    const violations = [...expectStatus(exchange, [405]), ...problemViolations(exchange)]
    if (allowed.join() !== documented.join()) {
      violations.push(`Allow is "${allow}" but the document has ${documented.join(', ')} for ${template}`)
    }
    return violations
  }
  return operationViolations(exchange, method, template, operation)
}

function decodes(path: string): boolean {
  try {
    decodeURIComponent(path)
    return true
  } catch {
    return false
  }
}

function expectStatus(exchange: Exchange, statuses: number[]): string[] {
  return statuses.includes(exchange.status) ? [] : [`the path has no such operation, expected ${statuses.join(' or ')}`]
}

/** A response outside every operation is still a problem, as the document's Problem schema describes it. */
function problemViolations(exchange: Exchange): string[] {
  const { document, ajv } = contract()
  const essence = essenceOf(String(exchange.headers['content-type'] ?? ''))
  if (essence !== 'application/problem+json') return [`content-type is "${essence}", not application/problem+json`]
  if (document.components?.schemas?.Problem === undefined) return ['the document has no Problem schema']
  // A HEAD is answered with the headers of the problem the GET would get, and no body.
  if (exchange.method.toUpperCase() === 'HEAD') return exchange.body.length > 0 ? ['a HEAD answer with a body'] : []
  return bodyViolations(exchange, 'Problem', { $ref: '#/components/schemas/Problem' }, ajv, 'the problem')
}

function operationViolations(exchange: Exchange, method: string, template: string, operation: Operation): string[] {
  const { headerAjv } = contract()
  const documented = responseFor(operation, exchange.status)
  if (documented === undefined) {
    const statuses = Object.keys(operation.responses).join(', ')
    return [`status ${exchange.status} is not documented for ${method} ${template} (documented: ${statuses})`]
  }
  const [statusKey, response] = documented
  const operationKey = `${template} ${method === 'HEAD' ? 'GET' : method} ${statusKey}`
  const violations: string[] = []

  for (const [name, header] of Object.entries(response.headers ?? {})) {
    // OpenAPI ignores a Content-Type among the headers: the content map describes it.
    if (name.toLowerCase() === 'content-type') continue
    const value = exchange.headers[name.toLowerCase()]
    if (value === undefined) {
      if (header.required) violations.push(`the required header ${name} is missing`)
      continue
    }
    if (header.schema === undefined) continue
    const validate = validatorFor(`${operationKey} header ${name}`, header.schema, headerAjv)
    for (const one of Array.isArray(value) ? value : [String(value)]) {
      if (!validate(one)) violations.push(`header ${name}: "${one}" ${describeErrors(validate.errors)}`)
    }
  }

  const body = Buffer.isBuffer(exchange.body) ? exchange.body : Buffer.from(exchange.body)
  const contentType = exchange.headers['content-type']
  const content = response.content ?? {}
  const bodiless = method === 'HEAD' || exchange.status === 204 || exchange.status === 304
  if (bodiless || Object.keys(content).length === 0) {
    if (body.length > 0) violations.push(`a ${bodiless ? `${method} ${exchange.status}` : 'response'} with a body`)
    // A HEAD answers with the headers of the GET, the content type included.
    if (method !== 'HEAD' || contentType === undefined) return violations
  }
  if (contentType === undefined) {
    violations.push(`no content-type, where the document has ${Object.keys(content).join(', ')}`)
    return violations
  }
  const essence = essenceOf(String(contentType))
  const mediaType = documentedMediaType(content, essence)
  if (mediaType === undefined) {
    violations.push(`content-type ${essence} is not one of ${Object.keys(content).join(', ') || 'none'}`)
    return violations
  }
  const schema = content[mediaType]?.schema
  if (method === 'HEAD' || schema === undefined) return violations
  const key = `${operationKey} ${mediaType}`

  if (isJsonMediaType(essence)) {
    violations.push(...bodyViolations({ ...exchange, body }, key, schema, contract().ajv, 'the body'))
  } else if (essence === 'application/x-ndjson') {
    violations.push(...ndjsonViolations(body.toString('utf8'), key, operation))
  } else if (essence === 'text/csv') {
    violations.push(...csvViolations(body.toString('utf8')))
  }
  return violations
}

function bodyViolations(exchange: Exchange, key: string, schema: object, ajv: Ajv2020, what: string): string[] {
  let value: unknown
  try {
    value = JSON.parse(exchange.body.toString())
  } catch {
    return [`${what} is not JSON`]
  }
  const validate = validatorFor(key, schema, ajv)
  return validate(value) ? [] : [`${what} does not match its schema: ${describeErrors(validate.errors)}`]
}

/**
 * The document can give an NDJSON export only a string schema and words (OpenAPI 3.1 has no schema for each
 * line of a stream): "one item per line, as in the data of the JSON page". So the checker holds each line to
 * what NDJSON itself requires (one JSON value, ended by a line feed) and to what the words say, when the
 * operation's JSON representation is such a page: each line matches the schema of the page's `data` items.
 */
/**
 * What is wrong with a value by a schema of the committed document (`{ $ref: '#/components/schemas/X' }`, or one
 * written in it): nothing when it is valid. For the tests that hold requests, not only answers, to the document.
 */
export function schemaViolations(schema: object, value: unknown): string[] {
  const validate = validatorFor(`value of ${JSON.stringify(schema)}`, schema, contract().ajv)
  return validate(value)
    ? []
    : (validate.errors ?? []).map((error) => `${error.instancePath || '(root)'} ${error.message}`)
}

/** A schema, or the component it refers to when it is a `#/components/schemas/X` reference. */
function resolved(schema: object | undefined): object | undefined {
  const ref = (schema as { $ref?: unknown } | undefined)?.$ref
  if (typeof ref !== 'string' || !ref.startsWith('#/components/schemas/')) return schema
  return contract().document.components?.schemas?.[ref.slice('#/components/schemas/'.length)]
}

function ndjsonViolations(text: string, key: string, operation: Operation): string[] {
  if (text === '') return []
  if (!text.endsWith('\n')) return ['the NDJSON body does not end with a line feed']
  const pageSchema = resolved(operation.responses['200']?.content?.['application/json']?.schema) as
    { properties?: { data?: { items?: object } } } | undefined
  const itemSchema = pageSchema?.properties?.data?.items
  const validate = itemSchema === undefined ? undefined : validatorFor(`${key} line`, itemSchema, contract().ajv)
  const violations: string[] = []
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, index) => {
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch {
        violations.push(`NDJSON line ${index + 1} is not JSON`)
        return
      }
      if (validate !== undefined && !validate(value)) {
        violations.push(`NDJSON line ${index + 1} does not match the page's items: ${describeErrors(validate.errors)}`)
      }
    })
  return violations.slice(0, 5)
}

/**
 * A CSV export's columns are listed only in the words of the document, which the export tests check; the
 * checker holds the body to what the document states as rules: RFC 4180 with CRLF line ends, a header row, and
 * every row as wide as the header.
 */
function csvViolations(text: string): string[] {
  if (text === '') return ['the CSV body has no header row']
  // Outside quoted fields, the only line break is the CRLF that ends a record.
  if (/(^|[^\r])\n|\r(?!\n)/.test(text.replace(/"(?:[^"]|"")*"/g, ''))) {
    return ['a bare CR or LF outside a quoted CSV field, where a record must end with CRLF']
  }
  let rows: string[][]
  try {
    rows = parseCsv(text, { record_delimiter: '\r\n' }) as string[][]
  } catch (error) {
    return [`the CSV body is not RFC 4180: ${(error as Error).message}`]
  }
  const width = rows[0]?.length ?? 0
  const ragged = rows.findIndex((row) => row.length !== width)
  return ragged < 0 ? [] : [`CSV row ${ragged + 1} has ${rows[ragged]?.length} fields, the header ${width}`]
}

const enforced = new WeakSet<FastifyInstance>()
let enforcingEveryApp = false

/**
 * Holds every Fastify app created from now on in this process to the document, however a test builds it
 * (buildTestApp, or buildApp with a configuration of its own): Fastify announces each new instance on a
 * diagnostics channel, before any plugin or route is added.
 */
export function enforceContractOnEveryApp(): void {
  if (enforcingEveryApp) return
  enforcingEveryApp = true
  subscribe('fastify.initialization', (message) => enforceContract((message as { fastify: FastifyInstance }).fastify))
}

/**
 * Makes every `inject` of the app check its response against the document, so that `call`, `callRaw` and
 * direct `app.inject` calls are all held to it. Applying it twice to one app is harmless.
 */
export function enforceContract(app: FastifyInstance): void {
  if (enforced.has(app)) return
  enforced.add(app)
  const inject = app.inject.bind(app) as (...args: unknown[]) => unknown
  const checked = (response: LightMyRequestResponse) => {
    assertMatchesContract({
      method: response.raw.req.method ?? 'GET',
      url: response.raw.req.url ?? '/',
      status: response.statusCode,
      headers: response.headers,
      body: response.rawPayload,
    })
    return response
  }
  function checkedInject(...args: unknown[]): unknown {
    // The chain form (`inject().get(…).end()`) hands out no response to check; the suite does not use it.
    if (args.length === 0) throw new Error('inject() without options is not checked against the OpenAPI document')
    const [options, callback] = args
    if (typeof callback === 'function') {
      return inject(options, (error: Error | undefined, response: LightMyRequestResponse) => {
        if (error) return callback(error)
        let failure: unknown
        try {
          checked(response)
        } catch (violation) {
          failure = violation
        }
        return failure === undefined ? callback(undefined, response) : callback(failure)
      })
    }
    return (inject(options) as Promise<LightMyRequestResponse>).then(checked)
  }
  app.inject = checkedInject as FastifyInstance['inject']
}
