import fc from 'fast-check'
// The Big List of Naughty Strings (github.com/minimaxir/big-list-of-naughty-strings, MIT), as its authors publish it.
import naughtyStrings from 'big-list-of-naughty-strings/blns.json' with { type: 'json' }

/**
 * Generators of bad (and some good) HTTP requests for the fuzz test. The routes, their parameters and their body
 * schemas come from the OpenAPI document the app serves, so every route the app documents is fuzzed, a new one
 * included, with values aimed at its own schema: plausible values (and the ids of real records) to get past
 * validation and into the handlers, and bad ones (wrong types, naughty strings, SQL, huge, unicode) mixed in.
 */

/** The parts of JSON Schema the generators read. */
export interface JsonSchema {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  enum?: unknown[]
  const?: unknown
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  format?: string
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  minItems?: number
  maxItems?: number
  uniqueItems?: boolean
  dependentRequired?: Record<string, string[]>
  examples?: unknown[]
  $ref?: string
}

export interface Parameter {
  name: string
  in: string
  required?: boolean
  schema?: JsonSchema
}

export interface Operation {
  method: string
  /** The path template, as the document writes it: `/v1/claims/{id}`. */
  path: string
  parameters: Parameter[]
  body?: { mediaType: string; schema: JsonSchema }
}

interface DocumentOperation {
  parameters?: Parameter[]
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> }
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, DocumentOperation>>
  components?: { schemas?: Record<string, JsonSchema> }
}

const DOCUMENT_METHODS = ['get', 'post', 'put', 'patch', 'delete']

/** Every operation of the document, with its parameters and the schema of its body. */
export function operationsOf(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = []
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!DOCUMENT_METHODS.includes(method)) continue
      const [mediaType, content] = Object.entries(operation.requestBody?.content ?? {})[0] ?? []
      const body = mediaType !== undefined && content?.schema ? { mediaType, schema: content.schema } : undefined
      operations.push({ method: method.toUpperCase(), path, parameters: operation.parameters ?? [], body })
    }
  }
  return operations
}

/** What the generators aim at: records that exist, and the keys, entity tags and cursors the API handed out. */
export interface Pool {
  /** Ids of live records (and slugs of parties) by the collection a path names them under: `parties`, `claims`… */
  records: Record<string, string[]>
  etags: string[]
  cursors: string[]
  tokens: { read: string; write: string; otherWrite: string; admin: string; revoked: string }
}

/** One generated request, printed in full (long values cut) when it fails, so that it can be sent again. */
export class FuzzRequest {
  constructor(
    readonly category: string,
    readonly method: string,
    readonly url: string,
    readonly headers: Record<string, string>,
    readonly payload: string | undefined,
  ) {}

  describe(limit = 600): string {
    const cut = (text: string) =>
      text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length} characters in all)`
    const headers = Object.fromEntries(Object.entries(this.headers).map(([name, value]) => [name, cut(value)]))
    const payload = this.payload === undefined ? undefined : cut(this.payload)
    return JSON.stringify({ category: this.category, method: this.method, url: cut(this.url), headers, payload })
  }

  [fc.toStringMethod](): string {
    return this.describe()
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Bad values

const naughty = fc.constantFrom(...(naughtyStrings as string[]))

/** SQL and full-text query syntax aimed at the queries behind the filters, ids and bodies. */
const SQL_INJECTION = [
  "' OR '1'='1",
  "' OR 1=1 --",
  "'; DROP TABLE claims; --",
  '1; SELECT pg_sleep(30) --',
  "' UNION SELECT secret_hash::text, NULL FROM api_keys --",
  "'); TRUNCATE parties CASCADE; --",
  '$$; DELETE FROM links; $$',
  "' AND 1=CAST((SELECT version()) AS int) --",
  "' || pg_read_file('/etc/passwd') || '",
  "\\'; SET statement_timeout = 0; --",
  "00000000-0000-0000-0000-000000000000' OR 'a'='a",
  "x'::uuid --",
  '%',
  '_',
  '\\',
  "a' & 'b",
  '!!((a <-> b) & c:* | ',
  'or or or and not not',
  '"unterminated phrase',
  ':*',
  '<->',
]
const sqlInjection = fc.constantFrom(...SQL_INJECTION)

/** Strings of one of these sizes: past every maxLength and, at the top, past the body limit. */
const huge = (lengths: number[]) =>
  fc
    .record({
      length: fc.constantFrom(...lengths),
      unit: fc.constantFrom('x', 'é', '\u{1F984}', '\u202E', 'a\u0301', '%', '"', '\\'),
    })
    .map(({ length, unit }) => unit.repeat(Math.ceil(length / unit.length)))

const anyCodePoints = fc.string({ unit: 'binary', maxLength: 40 })
const controlCharacters = fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 20 })
const graphemes = fc.string({ unit: 'grapheme', maxLength: 30 })
const loneSurrogates = fc.string({
  unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
  minLength: 1,
  maxLength: 4,
})

const SOME_UUID = '5eed0000-0000-4000-8000-000000000001'
const BAD_UUIDS = [
  '',
  ' ',
  'null',
  '0',
  '-1',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  SOME_UUID.toUpperCase(),
  `{${SOME_UUID}}`,
  `urn:uuid:${SOME_UUID}`,
  SOME_UUID.replaceAll('-', ''),
  `${SOME_UUID}0`,
  SOME_UUID.slice(0, -1),
  `${SOME_UUID}\n`,
  ` ${SOME_UUID}`,
  '5eed0000-0000-4000-8000-00000000000g',
  '５eed0000-0000-4000-8000-000000000001',
  '../../../../etc/passwd',
  'g0000000-0000-0000-0000-000000000000',
]
const BAD_DATES = [
  '',
  'yesterday',
  'now',
  '2020-13-01T00:00:00Z',
  '2020-02-30T00:00:00Z',
  '2021-02-29T00:00:00Z',
  '2020-01-01T24:00:00Z',
  '2016-12-31T23:59:60Z',
  '0000-01-01T00:00:00Z',
  '0001-01-01T00:00:00+01:00',
  '9999-12-31T23:59:59-01:00',
  '10000-01-01T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  '2020-01-01',
  '2020-01-01T00:00:00',
  '2020-01-01T00:00:00.123456789Z',
  '2020-01-01t00:00:00z',
  '2020-01-01T00:00:00+99:99',
  '2020-01-01 00:00:00Z',
  '1e10',
  '1600000000',
]
/** Numbers as query strings and path segments carry them. */
const NUMBER_TEXTS = [
  '',
  '0',
  '-1',
  '1.5',
  '201',
  '1001',
  '1e3',
  '1e400',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x10',
  '010',
  ' 5',
  '5 ',
  '٣',
  '2147483648',
  '9007199254740993',
  '-0',
  'true',
  '[]',
]
/** Numbers as JSON carries them, at and past every edge. */
const BAD_NUMBERS = [
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  -(2 ** 63),
  2 ** 31,
  -(2 ** 31) - 1,
  0.1,
  -0,
  5e-324,
  1.17e-38,
  3.5e38,
  90.000001,
  -180.5,
  1_000_001,
]

/** Text that a field, a path segment, a query value or a header may carry, at most about `longest` long. */
function badTextUpTo(longest: number): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: naughty, weight: 6 },
    { arbitrary: sqlInjection, weight: 3 },
    { arbitrary: anyCodePoints, weight: 2 },
    { arbitrary: controlCharacters, weight: 1 },
    { arbitrary: graphemes, weight: 1 },
    { arbitrary: loneSurrogates, weight: 1 },
    { arbitrary: huge([101, 201, 1001, 5001, 10_001, 100_001, 1_100_000].filter((n) => n <= longest)), weight: 1 },
    { arbitrary: fc.constantFrom(...BAD_UUIDS), weight: 2 },
    { arbitrary: fc.constantFrom(...BAD_DATES), weight: 2 },
    { arbitrary: fc.constantFrom(...NUMBER_TEXTS), weight: 1 },
  )
}

/** Bad text for a body, up to past the body limit. */
const badText = badTextUpTo(1_100_000)
/**
 * Bad text for a URL or a header: the HTTP parser refuses a request whose head passes 16 KiB before the app sees
 * it, so longer text could not arrive (and percent-encoding makes text several times longer).
 */
const badHeadText = badTextUpTo(1001)

/** An object whose own `__proto__` (or `constructor.prototype`) member would poison a careless merge. */
const poisoned = fc.constantFrom(
  () => JSON.parse('{"__proto__": {"polluted": "yes"}}') as unknown,
  () => JSON.parse('{"constructor": {"prototype": {"polluted": "yes"}}}') as unknown,
  () => JSON.parse('{"__proto__": null}') as unknown,
)

/** Arrays nested this deep, as a value (deeper ones are sent as text, see `notAnObject`). */
const deeplyNested = fc.constantFrom(10, 100, 1000).map((depth) => {
  let value: unknown = []
  for (let i = 0; i < depth; i++) value = [value]
  return value
})

const ODD_STRUCTURES: Array<() => unknown> = [() => [], () => ({}), () => [null], () => [''], () => [[]], () => [{}]]

/** A JSON value where the schema wants something else: wrong types, edge numbers, bad text, odd structures. */
const badJson: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: badText, weight: 6 },
  { arbitrary: fc.constantFrom(...BAD_NUMBERS), weight: 2 },
  { arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null)), weight: 2 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 2 },
  // Made afresh each time: a shared instance would be changed by the mutations that insert it into a body, and
  // a later one could insert it into itself (a cycle JSON.stringify refuses).
  { arbitrary: fc.constantFrom(...ODD_STRUCTURES).map((make) => make()), weight: 1 },
  { arbitrary: fc.array(badText, { maxLength: 5 }), weight: 1 },
  { arbitrary: poisoned.map((make) => make()), weight: 1 },
  { arbitrary: deeplyNested, weight: 1 },
)

/**
 * A header value as it arrives: the HTTP parser hands on Latin-1 (other text arrives as its UTF-8 bytes, read as
 * Latin-1), without control characters (which it refuses before the app sees the request) or surrounding blanks.
 */
function asHeaderValue(text: string): string {
  return Buffer.from(text, 'utf8')
    .toString('latin1')
    .replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '')
    .trim()
}

/** Percent-encodes all but the unreserved characters (RFC 3986), the way a client puts text in a URL. */
function percentEncode(text: string): string {
  let encoded = ''
  for (const byte of Buffer.from(text, 'utf8')) {
    const character = String.fromCharCode(byte)
    encoded += /[A-Za-z0-9\-._~]/.test(character) ? character : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return encoded
}

/** URL text that is not valid percent-encoding, or is meaningful to a router, sent as it is. */
const RAW_URL_TEXT = [
  '%',
  '%%',
  '%zz',
  '%FF',
  '%C0%AF',
  '%ED%A0%80',
  '%00',
  '%2F',
  '%2e%2e',
  '..',
  '.',
  ';',
  '+',
  '%20',
]

// ---------------------------------------------------------------------------------------------------------------
// Plausible values, from the schemas

/** Fields whose values name parties: aimed at real ones, so that a body gets past the lookups. */
const PARTY_FIELDS = new Set(['party', 'side', 'reviewer', 'rebutted_by', 'reviewed_by'])
/** Fields (uuids) whose values name claims. */
const CLAIM_FIELDS = new Set(['claim_id', 'from_claim_id', 'to_claim_id', 'claim', 'from', 'to'])

export class Generators {
  private readonly allIds: string[]

  constructor(
    private readonly document: OpenApiDocument,
    private readonly pool: Pool,
  ) {
    this.allIds = Object.values(pool.records).flat()
  }

  /** Values of a schema, aimed at real records where the field names one; not always valid (bounds, rules). */
  plausible(schema: JsonSchema, name = ''): fc.Arbitrary<unknown> {
    if (schema.$ref !== undefined) {
      const target = this.document.components?.schemas?.[schema.$ref.split('/').at(-1) ?? '']
      return target === undefined ? fc.jsonValue({ maxDepth: 2 }) : this.plausible(target, name)
    }
    if ('const' in schema) return fc.constant(schema.const)
    if (schema.enum !== undefined) return fc.constantFrom(...schema.enum)
    const variants = schema.anyOf ?? schema.oneOf
    if (variants !== undefined) return fc.oneof(...variants.map((variant) => this.plausible(variant, name)))
    if (Array.isArray(schema.type)) {
      return fc.oneof(...schema.type.map((type) => this.plausible({ ...schema, type }, name)))
    }
    switch (schema.type) {
      case 'object': {
        const model: Record<string, fc.Arbitrary<unknown>> = {}
        for (const [key, property] of Object.entries(schema.properties ?? {})) {
          model[key] = this.plausible(property, key)
        }
        const dependencies = Object.entries(schema.dependentRequired ?? {})
        // A member whose companions are missing is dropped (a rating without its scale), so the rest can pass.
        return fc.record(model, { requiredKeys: schema.required ?? [] }).map((value: Record<string, unknown>) => {
          for (const [member, companions] of dependencies) {
            if (companions.some((companion) => !(companion in value))) delete value[member]
          }
          return value
        })
      }
      case 'array': {
        const item = this.plausible(schema.items ?? {}, name)
        const maxLength = Math.min(schema.maxItems ?? 3, 3)
        const minLength = Math.min(schema.minItems ?? 0, maxLength)
        return schema.uniqueItems
          ? fc.uniqueArray(item, { minLength, maxLength, selector: (value) => JSON.stringify(value) })
          : fc.array(item, { minLength, maxLength })
      }
      case 'string':
        return this.plausibleString(schema, name)
      case 'integer':
        return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 })
      case 'number':
        return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true })
      case 'boolean':
        return fc.boolean()
      case 'null':
        return fc.constant(null)
      default:
        return fc.jsonValue({ maxDepth: 2 })
    }
  }

  private plausibleString(schema: JsonSchema, name: string): fc.Arbitrary<string> {
    const own = stringOfSchema(schema)
    const real =
      name === 'cursor'
        ? this.pool.cursors
        : PARTY_FIELDS.has(name)
          ? (this.pool.records.parties ?? [])
          : schema.format === 'uuid'
            ? CLAIM_FIELDS.has(name)
              ? (this.pool.records.claims ?? [])
              : this.allIds
            : []
    if (real.length === 0) return own
    return fc.oneof({ arbitrary: fc.constantFrom(...real), weight: 4 }, { arbitrary: own, weight: 1 })
  }

  /** A value of a path parameter: a real record of the collection the path names, mostly. */
  private realPathValue(operation: Operation, parameter: Parameter): fc.Arbitrary<string> {
    const segments = operation.path.split('/')
    const collection = segments[segments.indexOf(`{${parameter.name}}`) - 1] ?? ''
    const real = this.pool.records[collection] ?? []
    const own = this.plausible(parameter.schema ?? {}, parameter.name).map(String)
    if (real.length === 0) return own
    return fc.oneof(
      { arbitrary: fc.constantFrom(...real), weight: 5 },
      { arbitrary: fc.constantFrom(...this.allIds), weight: 1 },
      { arbitrary: own, weight: 1 },
    )
  }

  // -------------------------------------------------------------------------------------------------------------
  // The parts of a request

  /** The path, its parameters filled with real ids, bad text, or URL text that does not decode. */
  path(operation: Operation, badness: number): fc.Arbitrary<string> {
    const parameters = operation.parameters.filter((parameter) => parameter.in === 'path')
    if (parameters.length === 0) return fc.constant(operation.path)
    const values = parameters.map((parameter) =>
      fc.oneof(
        { arbitrary: this.realPathValue(operation, parameter).map(percentEncode), weight: 10 - badness },
        { arbitrary: badHeadText.map(percentEncode), weight: badness },
        { arbitrary: fc.constantFrom(...RAW_URL_TEXT), weight: Math.ceil(badness / 3) },
      ),
    )
    return fc
      .tuple(...values)
      .map((filled) =>
        parameters.reduce((path, parameter, i) => path.replace(`{${parameter.name}}`, filled[i] ?? ''), operation.path),
      )
  }

  /** A query string: documented parameters with plausible or bad values, unknown ones, repeats, broken text. */
  query(operation: Operation, badness: number): fc.Arbitrary<string> {
    const parameters = operation.parameters.filter((parameter) => parameter.in === 'query')
    const entries: Array<fc.Arbitrary<Array<[string, string]>>> = parameters.map((parameter) => {
      const plausible = this.plausible(parameter.schema ?? {}, parameter.name).map((value): Array<[string, string]> =>
        (Array.isArray(value) ? value : [value]).map((one) => [parameter.name, String(one)]),
      )
      const bad = fc
        .array(badHeadText, { minLength: 1, maxLength: 3 })
        .map((values): Array<[string, string]> => values.map((value) => [parameter.name, value]))
      return fc.oneof(
        { arbitrary: fc.constant<Array<[string, string]>>([]), weight: 6 },
        { arbitrary: plausible, weight: 10 - badness },
        { arbitrary: bad, weight: badness },
      )
    })
    const unknown = fc.array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom('__proto__', 'constructor', 'prototype', 'page', 'offset', 'sort[]', 'limit[]', ''),
          badHeadText,
        ),
        badHeadText,
      ),
      { maxLength: 2 },
    )
    const raw = fc.array(
      fc.constantFrom(
        ...RAW_URL_TEXT,
        'limit',
        'limit=',
        '=',
        '&&',
        'constructor[prototype][polluted]=1',
        '__proto__[polluted]=1',
        'a[b][c]=d',
        'limit=1&limit=2',
      ),
      { maxLength: 2 },
    )
    return fc
      .record({
        documented: fc.tuple(...entries),
        unknown: fc.oneof(
          { arbitrary: fc.constant<Array<[string, string]>>([]), weight: 10 - badness },
          { arbitrary: unknown, weight: badness },
        ),
        raw: fc.oneof(
          { arbitrary: fc.constant<string[]>([]), weight: 12 - badness },
          { arbitrary: raw, weight: badness },
        ),
      })
      .map(({ documented, unknown, raw }) => {
        const parts = [
          ...documented.flat().map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`),
          ...unknown.map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`),
          ...raw,
        ]
        return parts.length === 0 ? '' : `?${parts.join('&')}`
      })
  }

  /** A body for the operation's schema, valid-looking or mutated, in JSON or NDJSON as it takes. */
  body(operation: Operation, badness: number): fc.Arbitrary<string | undefined> {
    if (operation.body === undefined) {
      return fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 10 },
        { arbitrary: badJson.map((value) => JSON.stringify(value) ?? 'null'), weight: 1 },
      )
    }
    const value = this.plausible(operation.body.schema)
    const mutated = fc
      .tuple(value, fc.array(mutation, { minLength: 1, maxLength: 3 }))
      .map(([original, mutations]) => mutations.reduce(applyMutation, structuredClone(original)))
    const document = fc.oneof({ arbitrary: value, weight: 10 - badness }, { arbitrary: mutated, weight: badness })
    if (operation.body.mediaType === 'application/x-ndjson') return ndjson(document, badness)
    return fc.oneof(
      { arbitrary: document.map((one) => JSON.stringify(one) ?? ''), weight: 10 },
      {
        arbitrary: fc.tuple(document, textDamage).map(([one, damage]) => damage(JSON.stringify(one) ?? '')),
        weight: badness,
      },
      { arbitrary: notAnObject, weight: Math.ceil(badness / 2) },
    )
  }

  /** Authorization: mostly a valid key (so that checks behind authentication run), else none or garbage. */
  authorization(validWeight: number): fc.Arbitrary<string | undefined> {
    const { read, write, otherWrite, admin, revoked } = this.pool.tokens
    const garbage = fc.oneof(
      fc.constantFrom(
        'Bearer',
        'Bearer ',
        'Basic dXNlcjpwYXNzd29yZA==',
        'Digest username="x"',
        `bearer ${write}`,
        `BEARER   ${write}  `,
        `Bearer ${write}x`,
        `Bearer ${write.slice(0, -1)}`,
        `Bearer ${write} ${admin}`,
        `Bearer\t${write}`,
        `Token ${write}`,
        write,
        `Bearer ${revoked}`,
        `Bearer ${write.replace('cck_', 'CCK_')}`,
      ),
      fc.string({ unit: 'binary-ascii', minLength: 43, maxLength: 43 }).map((rest) => `Bearer cck_${rest}`),
      fc.base64String({ minLength: 43, maxLength: 44 }).map((rest) => `Bearer cck_${rest.replaceAll('=', '')}`),
      badHeadText.map((text) => `Bearer ${text}`),
      badHeadText,
    )
    return fc.oneof(
      {
        arbitrary: fc.constantFrom(write, write, admin, otherWrite).map((token) => `Bearer ${token}`),
        weight: validWeight,
      },
      { arbitrary: fc.constant(`Bearer ${read}`), weight: 1 },
      { arbitrary: fc.constant(undefined), weight: 1 },
      { arbitrary: garbage, weight: 2 },
    )
  }

  /** The headers a client may send, each left out, plausible or garbage. */
  headers(operation: Operation, badness: number): fc.Arbitrary<Record<string, string | undefined>> {
    const rare = (plausible: fc.Arbitrary<string>) =>
      fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 12 },
        { arbitrary: plausible, weight: 2 },
        { arbitrary: badHeadText, weight: badness },
      )
    const etag = fc.oneof(
      fc.constantFrom(...this.pool.etags, '*', '""', 'W/"x"', '"x", *', 'W/*'),
      fc.constantFrom(...this.pool.etags).map((tag) => `W/${tag}`),
      fc.array(fc.constantFrom(...this.pool.etags), { minLength: 2, maxLength: 4 }).map((tags) => tags.join(', ')),
    )
    return fc.record({
      'content-type': contentType(operation, badness),
      accept: rare(
        fc.constantFrom(
          'application/json',
          'text/csv',
          'application/x-ndjson',
          'application/ld+json',
          'application/problem+json',
          '*/*',
          'text/html',
          'image/png',
          'text/csv;q=0.5, application/x-ndjson;q=0.5',
          'application/json;q=0',
          'text/*;q=abc',
          '*/*;q=0',
          ',,,',
        ),
      ),
      'if-match': rare(etag),
      'if-none-match': rare(etag),
      // A few keys over and over, so that requests meet keys used before: replays, and keys used for another body.
      'idempotency-key': rare(
        fc.oneof(
          fc.constantFrom('fuzz-1', 'fuzz-2', '"fuzz-3"'),
          fc.uuid(),
          fc.string({ minLength: 1, maxLength: 300 }),
        ),
      ),
      'x-request-id': rare(fc.oneof(fc.uuid(), fc.stringMatching(/^[\w.:-]{1,140}$/))),
      origin: rare(fc.constantFrom('https://example.org', 'null', 'http://localhost:3000', 'file://')),
      'access-control-request-method': rare(fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'TRACE')),
      'accept-encoding': rare(fc.constantFrom('gzip', 'br, deflate', 'identity;q=0', '*;q=0')),
      'content-encoding': rare(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'chunked')),
      'accept-language': rare(fc.constantFrom('en', 'hy-AM,az;q=0.8', '*')),
      'x-forwarded-for': rare(fc.constantFrom('10.0.0.1', '::1, 10.0.0.2', 'unknown')),
      range: rare(fc.constantFrom('bytes=0-10', 'bytes=-1', 'items=0-5')),
      'cache-control': rare(fc.constantFrom('no-cache', 'max-age=0', 'only-if-cached')),
    })
  }

  /**
   * One request to an operation. `badness` (0 to 10) weighs bad values against plausible ones in every part;
   * `validKeyWeight` how often a valid key goes with it, against none, a read key or garbage.
   */
  request(
    category: string,
    operation: Operation,
    options: { badness: Partial<Record<'path' | 'query' | 'headers' | 'body', number>>; validKeyWeight: number },
  ): fc.Arbitrary<FuzzRequest> {
    const badness = { path: 0, query: 0, headers: 0, body: 0, ...options.badness }
    return fc
      .record({
        method:
          operation.method === 'GET'
            ? fc.oneof({ arbitrary: fc.constant('GET'), weight: 9 }, { arbitrary: fc.constant('HEAD'), weight: 1 })
            : fc.constant(operation.method),
        path: this.path(operation, badness.path),
        query: this.query(operation, badness.query),
        authorization: this.authorization(options.validKeyWeight),
        headers: this.headers(operation, badness.headers),
        body: this.body(operation, badness.body),
      })
      .map(({ method, path, query, authorization, headers, body }) =>
        assemble(category, method, `${path}${query}`, { ...headers, authorization }, body),
      )
  }

  /** Requests outside the routes: unknown paths, methods a path does not have, paths that do not decode. */
  offRoute(category: string, operations: Operation[]): fc.Arbitrary<FuzzRequest> {
    const known = fc.constantFrom(...operations)
    const filled = fc.oneof(...operations.map((operation) => this.path(operation, 3)))
    const path = fc.oneof(
      filled,
      fc.tuple(filled, badHeadText).map(([one, text]) => `${one}/${percentEncode(text)}`),
      known.map((operation) => operation.path.toUpperCase()),
      known.map((operation) => operation.path.replaceAll('/', '//')),
      fc.constantFrom('/', '/v1', '/v1/', '/v2/claims', '/v1/claims.json', '/v1/claims;x=1', '/%2e%2e/v1/claims'),
      fc.constantFrom(...RAW_URL_TEXT).map((text) => `/v1/${text}`),
      badHeadText.map((text) => `/v1/${percentEncode(text)}`),
    )
    return fc
      .record({
        method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND'),
        path,
        authorization: this.authorization(4),
        body: fc.option(badJson.map((value) => JSON.stringify(value) ?? 'null')),
      })
      .map(({ method, path, authorization, body }) =>
        assemble(category, method, path, { authorization, 'content-type': 'application/json' }, body ?? undefined),
      )
  }
}

function stringOfSchema(schema: JsonSchema): fc.Arbitrary<string> {
  const maxLength = Math.min(schema.maxLength ?? 40, 40)
  if (schema.format === 'uuid') return fc.uuid()
  if (schema.format === 'date-time') {
    return fc
      .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
      .map((date) => date.toISOString())
  }
  if (schema.format === 'partial-date-time') {
    // A time at any precision: cut from an instant to a year, month, day or local minute, or whole.
    return fc
      .tuple(
        fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.constantFrom(4, 7, 10, 16, 24),
      )
      .map(([date, length]) => date.toISOString().slice(0, length))
  }
  if (schema.format === 'uri') {
    return fc.oneof(
      fc.constantFrom('https://example.org/report', 'http://example.com/a?b=c#d'),
      fc.webUrl({ validSchemes: ['https', 'http'] }),
    )
  }
  const own =
    schema.pattern !== undefined
      ? fc.stringMatching(new RegExp(schema.pattern), { maxLength })
      : fc.string({ unit: 'grapheme', minLength: Math.min(schema.minLength ?? 0, maxLength), maxLength })
  const examples = (schema.examples ?? []).filter((example): example is string => typeof example === 'string')
  return examples.length === 0 ? own : fc.oneof(fc.constantFrom(...examples), own)
}

// ---------------------------------------------------------------------------------------------------------------
// Mutations of a body

type Mutation =
  | { kind: 'set'; at: number; value: unknown }
  | { kind: 'delete'; at: number }
  | { kind: 'add'; at: number; key: string; value: unknown }

/** Names of members a body should not carry, or that mean something to JavaScript or to the storage. */
const STRANGE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'id',
  'version',
  'created_at',
  'deleted_at',
  'created_by',
  'status',
  'rebuttal_count',
  'party_id',
  'search',
  '',
  ' ',
  'text ',
  'TEXT',
]

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: badJson }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('add' as const),
    at: fc.nat(),
    key: fc.oneof(fc.constantFrom(...STRANGE_KEYS), badText),
    value: badJson,
  }),
)

type Path = Array<string | number>

/** Every path into a JSON value, the value itself first; walked without recursion. */
function pathsOf(root: unknown): Path[] {
  const paths: Path[] = []
  const pending: Array<{ value: unknown; path: Path }> = [{ value: root, path: [] }]
  for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
    paths.push(next.path)
    if (paths.length > 200) break
    const { value, path } = next
    if (Array.isArray(value)) value.forEach((item, i) => pending.push({ value: item, path: [...path, i] }))
    else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) pending.push({ value: item, path: [...path, key] })
    }
  }
  return paths
}

function at(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((value, key) => (value as Record<string | number, unknown>)[key], root)
}

/** Sets a member as an own, enumerable property, `__proto__` included, so that JSON.stringify writes it. */
function setMember(target: object, key: string | number, value: unknown) {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

/** Applies a mutation in place (the value is a copy); the value, or its replacement when the root changes. */
function applyMutation(root: unknown, change: Mutation): unknown {
  const paths = pathsOf(root)
  if (change.kind === 'add') {
    const containers = paths.filter((path) => {
      const value = at(root, path)
      return value !== null && typeof value === 'object' && !Array.isArray(value)
    })
    const path = containers[change.at % Math.max(containers.length, 1)]
    if (path === undefined) return { [change.key]: change.value }
    setMember(at(root, path) as object, change.key, change.value)
    return root
  }
  const path = paths[change.at % paths.length] ?? []
  if (path.length === 0) return change.kind === 'set' ? change.value : undefined
  const parent = at(root, path.slice(0, -1)) as Record<string | number, unknown> | unknown[]
  const key = path.at(-1) as string | number
  if (change.kind === 'set') setMember(parent, key, change.value)
  else if (Array.isArray(parent)) parent.splice(key as number, 1)
  else delete parent[key]
  return root
}

// ---------------------------------------------------------------------------------------------------------------
// Bodies as text

/** Damage done to JSON text: cut short, garbage added, quotes changed, JavaScript that is not JSON. */
const textDamage: fc.Arbitrary<(text: string) => string> = fc.oneof(
  fc.nat().map((n) => (text: string) => text.slice(0, n % Math.max(text.length, 1))),
  fc
    .tuple(fc.nat(), fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '\\', '\u0000', '\u0001', '\n', '\u2028', 'x'))
    .map(([n, inserted]) => (text: string) => {
      const i = n % (text.length + 1)
      return text.slice(0, i) + inserted + text.slice(i)
    }),
  fc.constantFrom(
    (text: string) => text.replaceAll('"', "'"),
    (text: string) => `${text},`,
    (text: string) => `${text}}`,
    (text: string) => `${text} garbage`,
    (text: string) => `\uFEFF${text}`,
    (text: string) => `${text}\u0000`,
    (text: string) => text.replace(/:\s*("[^"]*"|[-\d.eE+]+|true|false|null)/, ': NaN'),
    (text: string) => text.replace(/:\s*("[^"]*"|[-\d.eE+]+|true|false|null)/, ': 1e999'),
    (text: string) => text.replace(/:\s*("[^"]*"|[-\d.eE+]+|true|false|null)/, ': undefined'),
    (text: string) => text.replace(/:\s*("[^"]*"|[-\d.eE+]+|true|false|null)/, ': 0x10'),
    (text: string) => text.replace(/:\s*("[^"]*"|[-\d.eE+]+|true|false|null)/, ': -'),
    (text: string) => text.replace('{', '{"text": 1, "text": 2, '),
    (text: string) => text.replace('{', '{"__proto__": {"polluted": "yes"}, '),
    (text: string) => text.replace('{', '{"constructor": {"prototype": {"polluted": "yes"}}, '),
    (text: string) => text.replace(/"([^"\\]*)"/, '"$1\\ud800"'),
    (text: string) => text.replace(/"([^"\\]*)"/, '"$1\\u0000"'),
    (text: string) => text.replace(/"([^"\\]*)"/, '"$1\\x41"'),
    (text: string) => Buffer.from(text, 'utf16le').toString('latin1'),
  ),
)

/** Bodies that are not a JSON object at all. */
const notAnObject: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '\n', 'null', 'true', '0', '-0', '"text"', '[]', '[{}]', '{}', '{', '}', '{"a"}', '1e999'),
  fc.constantFrom(1000, 10_000, 100_000).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
  fc.constantFrom(1000, 10_000).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
  badText,
  fc.jsonValue().map((value) => JSON.stringify(value)),
)

/** An NDJSON body: lines of documents (plausible or mutated), blank lines, broken lines. */
function ndjson(document: fc.Arbitrary<unknown>, badness: number): fc.Arbitrary<string> {
  const line = fc.oneof(
    { arbitrary: document.map((one) => JSON.stringify(one) ?? ''), weight: 10 },
    {
      arbitrary: fc.tuple(document, textDamage).map(([one, damage]) => damage(JSON.stringify(one) ?? '')),
      weight: badness,
    },
    { arbitrary: notAnObject, weight: badness },
    { arbitrary: fc.constant(''), weight: 1 },
  )
  return fc
    .record({
      lines: fc.array(line, { maxLength: 8 }),
      separator: fc.constantFrom('\n', '\r\n', '\r'),
      last: fc.constantFrom('\n', ''),
    })
    .map(({ lines, separator, last }) => lines.join(separator) + last)
}

function contentType(operation: Operation, badness: number): fc.Arbitrary<string | undefined> {
  const documented = operation.body?.mediaType ?? 'application/json'
  const fitting =
    documented === 'application/json'
      ? fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/merge-patch+json')
      : fc.constant(documented)
  const unfit = fc.oneof(
    fc.constantFrom(
      'text/plain',
      'text/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=fuzz',
      'application/xml',
      'application/x-ndjson',
      'application/json',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'APPLICATION/JSON',
      'application/json;',
      'application/json; charset',
      'application/jsonx',
      'application/ld+json',
      'application/problem+json',
      'application/*',
      '*/*',
      ';',
      'application/json, text/plain',
      'image/png',
    ),
    badHeadText,
  )
  return fc.oneof(
    { arbitrary: fitting, weight: 10 },
    { arbitrary: fc.constant(undefined), weight: 1 },
    { arbitrary: unfit, weight: badness },
  )
}

function assemble(
  category: string,
  method: string,
  url: string,
  headers: Record<string, string | undefined>,
  payload: string | undefined,
): FuzzRequest {
  const sent: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    // A content type without a body means nothing, and a header the parser would empty is not sent.
    if (name === 'content-type' && payload === undefined) continue
    const wire = asHeaderValue(value)
    if (wire !== '' || name === 'authorization') sent[name] = wire
  }
  return new FuzzRequest(category, method, url, sent, payload)
}
