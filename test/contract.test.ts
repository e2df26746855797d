import { readFile } from 'node:fs/promises'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { FastifyInstance, RouteOptions } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { PROBLEMS } from '../src/errors/problems.js'
import { nameTitledSchemas } from '../src/http/openapi-components.js'
import { LINK_ASPECTS } from '../src/schemas/aspect.schema.js'
import { CLAIM_CERTAINTIES, CLAIM_STANDINGS } from '../src/schemas/claim.schema.js'
import { LINK_KINDS } from '../src/schemas/link.schema.js'
import { PARTY_KINDS } from '../src/schemas/party.schema.js'
import { VERDICTS } from '../src/schemas/review.schema.js'
import { TIME_PRECISIONS } from '../src/schemas/time.schema.js'
import {
  assertMatchesContract,
  contractViolations,
  type Exchange,
  isUndocumented,
  schemaViolations,
} from './helpers/contract.js'
import { buildTestApp, call, callRaw } from './helpers/test-app.js'
import { openTestDatabase } from './helpers/test-database.js'

const { app } = await buildTestApp(t)

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

/** `METHOD /path/{param}` for every operation of the committed document. */
async function documentedOperations(): Promise<Set<string>> {
  const document = JSON.parse(await readFile(new URL('../openapi/openapi.json', import.meta.url), 'utf8'))
  const operations = new Set<string>()
  for (const [path, item] of Object.entries<Record<string, unknown>>(document.paths)) {
    for (const method of Object.keys(item)) {
      if (HTTP_METHODS.includes(method)) operations.add(`${method.toUpperCase()} ${path}`)
    }
  }
  return operations
}

/**
 * `METHOD /path/{param}` for every route a freshly built app registers, seen by an onRoute hook that is in place
 * before the first plugin registers: Fastify announces each new instance on a diagnostics channel.
 */
async function registeredRoutes(t: Test): Promise<Set<string>> {
  const routes: RouteOptions[] = []
  const addRouteHook = (message: unknown) => {
    const { fastify } = message as { fastify: FastifyInstance }
    fastify.addHook('onRoute', (route) => void routes.push(route))
  }
  subscribe('fastify.initialization', addRouteHook)
  let observed: FastifyInstance
  try {
    observed = await buildApp({
      config: { ...loadConfig({}), migrateOnStart: false },
      database: await openTestDatabase(),
      logger: false,
    })
  } finally {
    unsubscribe('fastify.initialization', addRouteHook)
  }
  t.teardown(() => observed.close())

  const operations = new Set<string>()
  for (const route of routes) {
    const path = route.url.replace(/:(\w+)/g, '{$1}')
    for (const method of [route.method].flat()) operations.add(`${method} ${path}`)
  }
  return operations
}

t.test('the routes the app registers are the operations of the OpenAPI document', async (t) => {
  const registered = await registeredRoutes(t)
  const documented = await documentedOperations()
  const served = [...registered].filter((operation) => {
    const [method = '', path = ''] = operation.split(' ')
    // Fastify answers HEAD for every GET route, as HTTP defines it; the document describes the GET.
    if (method === 'HEAD' && registered.has(`GET ${path}`)) return false
    return !isUndocumented(method, path)
  })
  t.ok(served.length >= 20, `found ${served.length} documented routes`)
  t.same(served.filter((operation) => !documented.has(operation)).sort(), [], 'every route is in the document')
  t.same(
    [...documented].filter((operation) => !registered.has(operation)).sort(),
    [],
    'every operation of the document is a route',
  )
})

t.test('the document declares what the service honours, so that a typed client can send it', async (t) => {
  const document = JSON.parse(await readFile(new URL('../openapi/openapi.json', import.meta.url), 'utf8'))
  type Operation = {
    parameters?: Array<{ in: string; name: string; required?: boolean }>
    requestBody?: { content: Record<string, unknown> }
    responses: Record<string, unknown>
  }
  const headersOf = (operation: Operation) =>
    (operation.parameters ?? []).filter((p) => p.in === 'header' && p.required !== true).map((p) => p.name)
  let revalidated = 0
  let guarded = 0
  let patches = 0
  for (const [path, item] of Object.entries<Record<string, Operation>>(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const name = `${method.toUpperCase()} ${path}`
      if ('304' in operation.responses) {
        revalidated++
        t.ok(headersOf(operation).includes('if-none-match'), `${name} takes If-None-Match`)
      }
      if ('412' in operation.responses) {
        guarded++
        t.ok(headersOf(operation).includes('if-match'), `${name} takes If-Match`)
        t.ok(headersOf(operation).includes('if-none-match'), `${name} takes If-None-Match`)
      }
      if (method === 'patch') {
        patches++
        const content = operation.requestBody?.content ?? {}
        t.same(Object.keys(content).sort(), ['application/json', 'application/merge-patch+json'], `${name} bodies`)
        t.same(content['application/merge-patch+json'], content['application/json'], `${name}: one schema for both`)
      }
    }
  }
  t.ok(revalidated >= 6 && guarded >= 8 && patches >= 4, 'found the conditional operations')
  t.same(document.components.schemas.ProblemCode.enum, Object.keys(PROBLEMS), 'Problem.code lists every code')
})

type JsonSchema = Record<string, unknown>

/** Every schema of the document with where it is: operations' parameters, bodies and responses, and components. */
function* schemasOf(document: {
  paths: Record<string, Record<string, unknown>>
  components: { schemas: Record<string, JsonSchema> }
}): Generator<[where: string, schema: JsonSchema]> {
  function* within(where: string, schema: unknown): Generator<[string, JsonSchema]> {
    if (typeof schema !== 'object' || schema === null) return
    if (Array.isArray(schema)) {
      for (const [i, item] of schema.entries()) yield* within(`${where}/${i}`, item)
      return
    }
    yield [where, schema as JsonSchema]
    for (const [keyword, value] of Object.entries(schema)) {
      if (['properties', 'patternProperties', '$defs'].includes(keyword) && typeof value === 'object' && value) {
        for (const [key, nested] of Object.entries(value)) yield* within(`${where}/${keyword}/${key}`, nested)
      } else if (['items', 'additionalProperties', 'not', 'anyOf', 'oneOf', 'allOf', 'prefixItems'].includes(keyword)) {
        yield* within(`${where}/${keyword}`, value)
      }
    }
  }
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item as Record<string, OperationShape>)) {
      const at = `${method.toUpperCase()} ${path}`
      for (const parameter of operation.parameters ?? []) yield* within(`${at} ?${parameter.name}`, parameter.schema)
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
        yield* within(`${at} body ${type}`, media.schema)
      }
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        for (const [type, media] of Object.entries(response.content ?? {})) {
          yield* within(`${at} ${status} ${type}`, media.schema)
        }
        for (const [name, header] of Object.entries(response.headers ?? {})) {
          yield* within(`${at} ${status} header ${name}`, header.schema)
        }
      }
    }
  }
  for (const [name, schema] of Object.entries(document.components.schemas)) yield* within(`#${name}`, schema)
}
interface OperationShape {
  parameters?: Array<{ name: string; schema?: unknown }>
  requestBody?: { content: Record<string, { schema?: unknown }> }
  responses?: Record<
    string,
    { content?: Record<string, { schema?: unknown }>; headers?: Record<string, { schema?: unknown }> }
  >
}

t.test(
  'named types: each titled schema is a component that uses refer to, each shared enum defined once',
  async (t) => {
    const document = JSON.parse(await readFile(new URL('../openapi/openapi.json', import.meta.url), 'utf8'))
    const components = document.components.schemas as Record<string, JsonSchema>
    const inlineTitles: string[] = []
    const enums = new Map<string, string[]>()
    for (const [where, schema] of schemasOf(document)) {
      const isComponent = /^#\w+$/.test(where)
      if (typeof schema.title === 'string' && !isComponent) inlineTitles.push(`${where}: ${schema.title}`)
      if (isComponent) t.equal(schema.title ?? where.slice(1), where.slice(1), `${where} is named by its title`)
      const values = Array.isArray(schema.enum) ? schema.enum.filter((value) => value !== null) : []
      if (values.length > 1) enums.set(values.join('|'), [...(enums.get(values.join('|')) ?? []), where])
    }
    t.same(inlineTitles, [], 'no titled schema is written inline: each is a component')
    t.same(
      [...enums].filter(([, places]) => places.length > 1),
      [],
      'no list of values is written twice: a shared enum is one component',
    )
    t.same(
      [...enums].filter(([, [where = '']]) => !/^#\w+$/.test(where)),
      [],
      'every enum of more than one value is a component of its own',
    )

    const shared: Record<string, readonly string[]> = {
      PartyKind: PARTY_KINDS,
      Verdict: VERDICTS,
      LinkKind: LINK_KINDS,
      Standing: CLAIM_STANDINGS,
      Aspect: LINK_ASPECTS,
      Certainty: CLAIM_CERTAINTIES,
      TimePrecision: TIME_PRECISIONS,
      ProblemCode: Object.keys(PROBLEMS),
    }
    for (const [name, values] of Object.entries(shared)) {
      t.same(components[name], { title: name, type: 'string', enum: values }, `${name} is a component`)
    }

    // The bodies and pages a generated client names: each is a reference to a component of that name.
    const bodies = ['CreateParty', 'UpdateParty', 'CreateClaim', 'UpdateClaim', 'CreateRebuttal', 'CreateLink']
    const pages = ['PartyPage', 'ClaimPage', 'DisputePage', 'LinkPage', 'ReviewPage', 'EventPage', 'TombstonePage']
    for (const name of [...bodies, ...pages, 'Source', 'FigureInput', 'ImportLine', 'ImportResult', 'ImportRejected']) {
      t.ok(components[name], `${name} is a component`)
    }
    for (const [path, item] of Object.entries<Record<string, OperationShape>>(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const schemas = [
          ...Object.values(operation.requestBody?.content ?? {}),
          ...Object.values(operation.responses ?? {}).flatMap((response) => Object.values(response.content ?? {})),
        ].map((media) => media.schema as JsonSchema | undefined)
        for (const schema of schemas) {
          if (schema?.type === 'object' && schema.properties !== undefined) {
            t.fail(`${method.toUpperCase()} ${path}: a body or response object is written inline`)
          }
        }
      }
    }
    // A nullable enum is the enum or null, so that a client has one type for it.
    t.match((components.Claim?.properties as Record<string, unknown>).event_at_precision, {
      anyOf: [{ $ref: '#/components/schemas/TimePrecision' }, { type: 'null' }],
    })
  },
)

t.test('two different schemas under one title fail the document, rather than one standing for both', async (t) => {
  const document = (body: object, page: object) => ({
    paths: {
      '/a': {
        post: {
          requestBody: { content: { 'application/json': { schema: body } } },
          responses: { 200: { content: { 'application/json': { schema: page } } } },
        },
      },
    },
  })
  const kind = { title: 'Kind', type: 'string', enum: ['a', 'b'] }
  const named = nameTitledSchemas(
    document(
      { title: 'Body', type: 'object', properties: { kind: { ...kind, description: 'Its kind.' } } },
      { type: 'object', properties: { kind: { ...kind, type: ['string', 'null'], enum: ['a', 'b', null] } } },
    ),
  ) as unknown as { paths: Record<string, any>; components: { schemas: Record<string, unknown> } }
  t.same(named.components.schemas, {
    Body: {
      title: 'Body',
      type: 'object',
      properties: { kind: { $ref: '#/components/schemas/Kind', description: 'Its kind.' } },
    },
    Kind: kind,
  })
  t.same(named.paths['/a'].post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/Body' })
  t.same(named.paths['/a'].post.responses[200].content['application/json'].schema.properties.kind, {
    anyOf: [{ $ref: '#/components/schemas/Kind' }, { type: 'null' }],
  })
  t.throws(
    () => nameTitledSchemas(document({ ...kind }, { ...kind, enum: ['a', 'c'] })),
    /different schemas have one title: Kind/,
  )
})

t.test("an import's 422 tells its bad lines from other problems by code, as its discriminator says", async (t) => {
  const document = JSON.parse(await readFile(new URL('../openapi/openapi.json', import.meta.url), 'utf8'))
  const schema = document.paths['/v1/import'].post.responses['422'].content['application/problem+json'].schema
  const rejected = '#/components/schemas/ImportRejected'
  const problem = '#/components/schemas/Problem'
  t.equal(schema.discriminator.propertyName, 'code')
  const { 'import-rejected': forRejected, ...others } = schema.discriminator.mapping as Record<string, string>
  t.equal(forRejected, rejected, 'import-rejected: the bad lines')
  t.same(
    Object.keys(others).sort(),
    Object.keys(PROBLEMS)
      .filter((code) => code !== 'import-rejected')
      .sort(),
  )
  t.ok(
    Object.values(others).every((ref) => ref === problem),
    'any other code: a problem',
  )

  const ndjson = { 'content-type': 'application/x-ndjson', 'idempotency-key': 'discriminated' }
  const bad = await callRaw(app, 'POST', '/v1/import', '{"type":"party","ref":"x"}\n', ndjson)
  t.equal(bad.status, 422)
  t.equal(schema.discriminator.mapping[bad.body.code], rejected)
  t.same(schemaViolations({ $ref: rejected }, bad.body), [], 'read as the schema its code names')
  const reused = await callRaw(app, 'POST', '/v1/import', '{"type":"party","ref":"y"}\n', ndjson)
  t.equal(reused.status, 422)
  t.equal(schema.discriminator.mapping[reused.body.code], problem, `${reused.body.code}: a problem`)
  t.same(schemaViolations({ $ref: problem }, reused.body), [])
  t.ok(schemaViolations({ $ref: rejected }, reused.body).length > 0, 'which is not the bad lines')
})

t.test('the conditional headers the document declares work as it says', async (t) => {
  const created = await call(app, 'POST', '/v1/parties', { slug: 'conditional', name: 'Conditional', kind: 'media' })
  const etag = String(created.headers.etag)
  const notModified = await call(app, 'GET', '/v1/parties/conditional', undefined, { 'if-none-match': etag })
  t.equal(notModified.status, 304)
  const patched = await callRaw(app, 'PATCH', '/v1/parties/conditional', JSON.stringify({ name: 'Renamed' }), {
    'content-type': 'application/merge-patch+json',
    'if-match': etag,
  })
  t.equal(patched.status, 200, 'a merge patch under its own media type')
  const stale = await call(app, 'DELETE', '/v1/parties/conditional', undefined, { 'if-match': etag })
  t.equal(stale.status, 412, 'a stale If-Match deletes nothing')
})

t.test('/openapi.json is cached by its ETag, and names PUBLIC_URL as its server when set', async (t) => {
  const first = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(first.statusCode, 200)
  t.match(first.headers.etag, /^"[\w-]+"$/)
  t.equal(first.headers['cache-control'], 'public, no-cache', 'caches keep it and revalidate it')
  t.same(first.json().servers, [{ url: '/', description: 'This server' }])
  const etag = String(first.headers.etag)
  const again = await app.inject({ method: 'GET', url: '/openapi.json', headers: { 'if-none-match': etag } })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '')
  t.equal(again.headers.etag, etag)
  const other = await app.inject({ method: 'GET', url: '/openapi.json', headers: { 'if-none-match': '"other"' } })
  t.equal(other.statusCode, 200)

  const { app: behindProxy } = await buildTestApp(t, { PUBLIC_URL: 'https://api.example.org/counterclaim/' })
  const named = await behindProxy.inject({ method: 'GET', url: '/openapi.json' })
  t.same(named.json().servers, [{ url: 'https://api.example.org/counterclaim' }])
  t.not(named.headers.etag, etag, 'another document, another tag')
})

t.test('a trailing slash is ignored, as the contract says: answered, never redirected', async (t) => {
  const created = await call(app, 'POST', '/v1/parties/', { slug: 'slashed', name: 'Slashed', kind: 'media' })
  t.equal(created.status, 201)
  t.equal(created.headers.location, `/v1/parties/${created.body.id}`, 'the Location has no trailing slash')
  const read = await call(app, 'GET', '/v1/parties/slashed/')
  t.equal(read.status, 200)
  t.equal(read.headers.etag, (await call(app, 'GET', '/v1/parties/slashed')).headers.etag, 'the same resource')
  const patched = await call(app, 'PATCH', '/v1/parties/slashed/', { name: 'Still slashed' })
  t.equal(patched.status, 200)
})

/** A real response of the app, as the checker sees it, for the tests below to spoil one part of. */
async function exchange(method: 'GET' | 'POST', url: string, body?: unknown): Promise<Exchange> {
  const response = await call(app, method, url, body)
  return { method, url, status: response.status, headers: { ...response.headers }, body: response.raw }
}

t.test('the checker refuses what the document does not describe', async (t) => {
  const created = await exchange('POST', '/v1/parties', { slug: 'contract-party', name: 'Contract', kind: 'state' })
  t.same(contractViolations(created), [], 'a real creation passes')
  const read = await exchange('GET', '/v1/parties/contract-party')
  t.same(contractViolations(read), [], 'a real read passes')

  t.test('a body that does not match its schema', async (t) => {
    const body = JSON.stringify({ ...JSON.parse(String(read.body)), kind: 'planet', created_at: 'yesterday' })
    t.throws(
      () => assertMatchesContract({ ...read, body }),
      /^GET \/v1\/parties\/contract-party answered 200, .*the body does not match its schema: \/kind must be equal to one of the allowed values; \/created_at must match format "date-time"/,
    )
  })

  t.test('a status the operation does not document', async (t) => {
    t.throws(
      () => assertMatchesContract({ ...read, status: 418 }),
      /^GET \/v1\/parties\/contract-party answered 418, .*status 418 is not documented for GET \/v1\/parties\/\{party\}/,
    )
  })

  t.test('a required header that is missing, or does not match its schema', async (t) => {
    const { location: _location, ...withoutLocation } = created.headers
    t.throws(
      () => assertMatchesContract({ ...created, headers: withoutLocation }),
      /^POST \/v1\/parties answered 201, .*the required header location is missing$/,
    )
    const unavailable = {
      method: 'GET',
      url: '/v1/parties',
      status: 503,
      headers: { 'content-type': 'application/problem+json', 'retry-after': 'soon' },
      body: JSON.stringify({ type: 'urn:x', title: 'T', status: 503, detail: 'd', code: 'service-unavailable' }),
    }
    t.match(contractViolations(unavailable), [/^header retry-after: "soon" \(root\) must be integer$/])
    t.same(contractViolations({ ...unavailable, headers: { ...unavailable.headers, 'retry-after': '2' } }), [])
  })

  t.test('a media type the status does not document, and a body where there is none', async (t) => {
    const html = { ...read, headers: { ...read.headers, 'content-type': 'text/html' } }
    t.match(contractViolations(html), [/^content-type text\/html is not one of application\/json$/])
    const deleted = { method: 'DELETE', url: '/v1/parties/contract-party', status: 204, headers: {}, body: '{}' }
    t.match(contractViolations(deleted), [/^a DELETE 204 with a body$/])
  })

  t.test('exports that break their format: a bare LF in CSV, an NDJSON line unlike the JSON items', async (t) => {
    const csv = {
      method: 'GET',
      url: '/v1/claims?format=csv',
      status: 200,
      headers: { 'content-type': 'text/csv; charset=utf-8; header=present' },
      body: 'id,text\r\n1,"two\nlines"\r\n2,two\nlines\r\n',
    }
    t.match(contractViolations(csv), [/^a bare CR or LF outside a quoted CSV field/])
    t.same(contractViolations({ ...csv, body: 'id,text\r\n1,"two\nlines"\r\n' }), [], 'inside quotes it may')
    const ndjson = { ...csv, headers: { 'content-type': 'application/x-ndjson' }, body: '{"id":"1"}\n' }
    t.match(contractViolations(ndjson), [/^NDJSON line 1 does not match the page's items: \(root\) must have required/])
  })

  t.test('answers outside every operation: an unknown path is a 404 problem, another method a 405', async (t) => {
    const notFound = { method: 'GET', url: '/v1/nowhere', status: 200, headers: read.headers, body: read.body }
    t.match(contractViolations(notFound), [/expected 400 or 404/, /not application\/problem\+json/])
    const notAllowed = await exchange('GET', '/v1/parties')
    t.match(contractViolations({ ...notAllowed, method: 'PUT', status: 405, headers: { allow: 'GET' } }), [
      /content-type/,
      /Allow is "GET" but the document has GET, HEAD, POST for \/v1\/parties/,
    ])
  })
})

t.test('every inject of every app a test builds is checked: an undocumented route fails the request', async (t) => {
  const { app: extended } = await buildTestApp(t)
  const direct = await buildApp({
    config: { ...loadConfig({}), migrateOnStart: false },
    database: await openTestDatabase(),
    logger: false,
  })
  t.teardown(() => direct.close())
  for (const [name, built] of Object.entries({ buildTestApp: extended, buildApp: direct })) {
    built.get('/v1/undocumented', async () => ({ hidden: true }))
    await t.rejects(
      built.inject({ method: 'GET', url: '/v1/undocumented' }),
      /^GET \/v1\/undocumented answered 200, which the OpenAPI document does not allow: the path has no such operation/,
      `an app from ${name}`,
    )
  }
  const injected = await new Promise<Error | undefined>((resolve) =>
    extended.inject({ method: 'GET', url: '/v1/undocumented' }, (error) => resolve(error)),
  )
  t.match(injected?.message, /^GET \/v1\/undocumented answered 200/, 'the callback form too')
})
