import { type IncomingMessage, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildTestApp, call } from './helpers/test-app.js'

/**
 * A CORS preflight, sent over a socket: a preflight is no operation of the API, and the OpenAPI document (which
 * every `inject` of a test app is checked against) does not describe it.
 */
async function preflight(app: FastifyInstance, origin: string, method = 'PATCH', headers = 'authorization, if-match') {
  if (!app.server.listening) await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  return new Promise<IncomingMessage>((resolve, reject) => {
    const sent = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'OPTIONS',
        path: '/v1/claims/5eed0000-0000-4000-8000-000000000001',
        agent: false,
        headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
      },
      (response) => {
        response.resume()
        response.on('end', () => resolve(response))
      },
    )
    sent.on('error', reject)
    sent.end()
  })
}

type Asserts = Pick<typeof t, 'equal'>

const listOf = (value: unknown) =>
  String(value ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean)

t.test('security headers', async (t) => {
  const { app } = await buildTestApp(t)

  const assertApiHeaders = (t: Asserts, headers: object) => {
    const h = headers as Record<string, string>
    t.equal(h['content-security-policy'], "default-src 'none';frame-ancestors 'none'", 'nothing may run or frame')
    t.equal(h['x-content-type-options'], 'nosniff')
    t.equal(h['x-frame-options'], 'DENY')
    t.equal(h['referrer-policy'], 'no-referrer')
    t.equal(h['strict-transport-security'], 'max-age=31536000', 'HSTS for this host, not its subdomains')
    t.equal(h['cross-origin-resource-policy'], 'same-origin', 'no page of another site may embed it')
    t.equal(h['x-xss-protection'], undefined, 'nothing that only a page, or an old browser, heeds')
    t.equal(h['cross-origin-opener-policy'], undefined)
  }

  t.test('on a JSON answer', async (t) => {
    const response = await call(app, 'GET', '/v1/parties')
    t.equal(response.status, 200)
    assertApiHeaders(t, response.headers)
  })

  t.test('on problems, the route-less ones included', async (t) => {
    const notFound = await call(app, 'GET', '/v1/no-such-route')
    t.equal(notFound.status, 404)
    assertApiHeaders(t, notFound.headers)
    const invalid = await call(app, 'GET', '/v1/parties?limit=201')
    t.equal(invalid.status, 400)
    assertApiHeaders(t, invalid.headers)
  })

  t.test(
    'the /docs page still loads: its policy admits its own scripts and styles, and it has no inline script',
    async (t) => {
      const redirect = await app.inject({ method: 'GET', url: '/docs' })
      let url = '/docs'
      let page = redirect
      if (redirect.statusCode >= 300 && redirect.statusCode < 400) {
        url = new URL(String(redirect.headers.location), 'http://localhost/docs').pathname
        page = await app.inject({ method: 'GET', url })
      }
      t.equal(page.statusCode, 200)
      t.match(page.headers['content-type'], /^text\/html\b/)
      const csp = String(page.headers['content-security-policy'])
      t.match(csp, /(^|;)\s*script-src 'self'(;|$)/, 'scripts from the service only')
      t.match(csp, /(^|;)\s*style-src 'self'/, 'styles from the service')
      t.match(csp, /(^|;)\s*connect-src 'self'(;|$)/, 'it may fetch the document and try requests')
      t.notMatch(csp, /upgrade-insecure-requests/, 'it also works over plain HTTP')
      t.notMatch(csp, /default-src 'none'/)
      t.equal(page.headers['x-frame-options'], 'SAMEORIGIN')
      t.equal(page.headers['cross-origin-opener-policy'], 'same-origin', 'a page gets the headers a page heeds')

      const scripts = [...page.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)]
      t.ok(scripts.length > 0, 'the page has scripts')
      const sources: string[] = []
      for (const [, attributes = '', inline = ''] of scripts) {
        const src = /\bsrc="([^"]+)"/.exec(attributes)?.[1]
        t.ok(
          src !== undefined && inline.trim() === '',
          'a script is a file, not inline code (which the policy refuses)',
        )
        if (src !== undefined) sources.push(src)
      }
      const styles = [...page.body.matchAll(/<link\b[^>]*rel="stylesheet"[^>]*href="([^"]+)"/gi)].map(
        ([, href]) => href!,
      )
      t.ok(styles.length > 0, 'the page has stylesheets')
      for (const asset of [...sources, ...styles]) {
        const resolved = new URL(asset, `http://localhost${url}`)
        t.equal(resolved.origin, 'http://localhost', `${asset} is on the same origin`)
        const loaded = await app.inject({ method: 'GET', url: resolved.pathname })
        t.equal(loaded.statusCode, 200, `${resolved.pathname} loads`)
      }
      const document = await app.inject({ method: 'GET', url: '/docs/json' })
      t.equal(document.statusCode, 200, 'the document the page fetches')
    },
  )
})

t.test('CORS, by default open to every origin (no credentials are ever involved)', async (t) => {
  const { app } = await buildTestApp(t)

  t.test('an answer names the headers a page may read', async (t) => {
    const response = await call(app, 'GET', '/v1/parties', undefined, { origin: 'https://anywhere.example' })
    t.equal(response.headers['access-control-allow-origin'], '*')
    t.equal(response.headers['access-control-allow-credentials'], undefined)
    const exposed = listOf(response.headers['access-control-expose-headers'])
    for (const name of [
      'claim-etag',
      'etag',
      'link',
      'location',
      'retry-after',
      'ratelimit-limit',
      'ratelimit-remaining',
      'ratelimit-reset',
      'x-request-id',
    ]) {
      t.ok(exposed.includes(name), `exposes ${name}`)
    }
  })

  t.test('a preflight is answered at once, allows the headers the API takes, and is cached', async (t) => {
    const response = await preflight(app, 'https://anywhere.example', 'PATCH', 'authorization, if-match, content-type')
    t.equal(response.statusCode, 204)
    t.equal(response.headers['access-control-allow-origin'], '*')
    const methods = listOf(response.headers['access-control-allow-methods'])
    for (const method of ['get', 'post', 'patch', 'delete']) t.ok(methods.includes(method), `allows ${method}`)
    const allowed = listOf(response.headers['access-control-allow-headers'])
    for (const name of ['authorization', 'content-type', 'if-match', 'if-none-match', 'idempotency-key']) {
      t.ok(allowed.includes(name), `allows ${name}`)
    }
    t.equal(response.headers['access-control-max-age'], '7200')
  })
})

t.test('CORS limited to configured origins', async (t) => {
  const allowedOrigin = 'https://app.example.org'
  const { app, keys } = await buildTestApp(t, {
    CORS_ORIGINS: `${allowedOrigin}, https://admin.example.org`,
    RATE_LIMIT_PER_KEY: '2',
  })

  t.test('a preflight from an allowed origin is allowed', async (t) => {
    const response = await preflight(app, allowedOrigin)
    t.equal(response.statusCode, 204)
    t.equal(response.headers['access-control-allow-origin'], allowedOrigin)
    t.match(response.headers.vary, /\bOrigin\b/, 'caches keep the answers of each origin apart')
  })

  t.test('a preflight from another origin is refused: no Access-Control-Allow-Origin', async (t) => {
    const response = await preflight(app, 'https://evil.example.net')
    t.equal(response.headers['access-control-allow-origin'], undefined)
  })

  t.test('a simple request from another origin gets its answer without CORS headers', async (t) => {
    const response = await call(app, 'GET', '/v1/parties', undefined, { origin: 'https://evil.example.net' })
    t.equal(response.status, 200, 'the browser, not the server, withholds it from the page')
    t.equal(response.headers['access-control-allow-origin'], undefined)
  })

  t.test('refusals carry the CORS headers, so that a page can read them', async (t) => {
    const headers = { origin: allowedOrigin, authorization: `Bearer ${keys.read}` }
    await call(app, 'GET', '/v1/parties', undefined, headers)
    await call(app, 'GET', '/v1/parties', undefined, headers)
    const refused = await call(app, 'GET', '/v1/parties', undefined, headers)
    t.equal(refused.status, 429)
    t.equal(refused.headers['access-control-allow-origin'], allowedOrigin)
    t.ok(listOf(refused.headers['access-control-expose-headers']).includes('retry-after'))
  })
})

t.test('with a list of origins, every negotiated answer varies on both Origin and Accept', async (t) => {
  const origin = 'http://a.example'
  const { app } = await buildTestApp(t, { CORS_ORIGINS: `${origin}, http://b.example` })
  const created = async (url: string, body: unknown) => {
    const response = await call(app, 'POST', url, body)
    if (response.status !== 201) throw new Error(`POST ${url}: ${response.status} ${response.raw}`)
    return response.body as { id: string }
  }
  await created('/v1/parties', { slug: 'claimant', name: 'Claimant', kind: 'official' })
  await created('/v1/parties', { slug: 'checker', name: 'Checker', kind: 'fact-checker' })
  const claim = await created('/v1/claims', {
    party: 'claimant',
    text: 'It happened.',
    stated_at: '2020-09-27T10:00:00Z',
  })
  const review = await created(`/v1/claims/${claim.id}/reviews`, {
    reviewer: 'checker',
    verdict: 'false',
    rating_label: 'False',
    published_at: '2020-09-28T08:00:00Z',
    url: 'https://checker.example/it-happened',
  })

  const negotiated = [
    '/v1/parties',
    '/v1/claims',
    `/v1/claims/${claim.id}`,
    '/v1/links',
    '/v1/disputes',
    '/v1/disputes/matrix',
    '/v1/response-times',
    `/v1/claims/${claim.id}/reviews`,
    '/v1/reviews',
    `/v1/reviews/${review.id}`,
  ]
  const accepts: Record<string, string[]> = {
    '/v1/disputes/matrix': ['application/json', 'text/csv'],
    [`/v1/claims/${claim.id}`]: ['application/json', 'application/ld+json'],
    [`/v1/reviews/${review.id}`]: ['application/json', 'application/ld+json'],
  }
  for (const url of negotiated) {
    for (const accept of accepts[url] ?? ['application/json', 'text/csv', 'application/x-ndjson']) {
      const response = await app.inject({ method: 'GET', url, headers: { origin, accept } })
      t.equal(response.statusCode, 200, `${url} as ${accept}`)
      const vary = listOf(response.headers.vary)
      t.ok(vary.includes('origin'), `${url} as ${accept} varies on Origin (vary: ${response.headers.vary})`)
      t.ok(vary.includes('accept'), `${url} as ${accept} varies on Accept (vary: ${response.headers.vary})`)
      t.equal(new Set(vary).size, vary.length, `${url} as ${accept} names each header once`)
    }
  }
})

t.test('CORS_ALLOWED_HEADERS sets the request headers a preflight allows', async (t) => {
  const { app: traced } = await buildTestApp(t)
  const byDefault = await preflight(traced, 'https://anywhere.example', 'GET', 'traceparent, tracestate, baggage')
  const allowed = listOf(byDefault.headers['access-control-allow-headers'])
  for (const name of ['traceparent', 'tracestate', 'baggage', 'sentry-trace']) t.ok(allowed.includes(name), name)
  const { app } = await buildTestApp(t, { CORS_ALLOWED_HEADERS: 'X-Custom' })
  const custom = await preflight(app, 'https://anywhere.example', 'GET', 'x-custom')
  const customAllowed = listOf(custom.headers['access-control-allow-headers'])
  for (const name of ['authorization', 'if-match', 'idempotency-key', 'x-custom']) t.ok(customAllowed.includes(name))
  t.notOk(customAllowed.includes('traceparent'), 'the value replaces the tracing headers, not those of the API')
})

t.test('a plain OPTIONS on a known path answers 204 with Allow, with CORS or without', async (t) => {
  const origin = 'https://app.example.org'
  for (const env of [{}, { CORS_ORIGINS: origin }, { CORS_ORIGINS: 'none' }]) {
    const { app } = await buildTestApp(t, env)
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as AddressInfo
    const options = (path: string) =>
      new Promise<IncomingMessage>((resolve, reject) => {
        const headers = { origin }
        const sent = httpRequest(
          { host: '127.0.0.1', port, method: 'OPTIONS', path, headers, agent: false },
          (response) => {
            response.resume()
            response.on('end', () => resolve(response))
          },
        )
        sent.on('error', reject)
        sent.end()
      })
    const corsOn = env.CORS_ORIGINS !== 'none'
    const claim = await options('/v1/claims/5eed0000-0000-4000-8000-000000000001')
    t.equal(claim.statusCode, 204, JSON.stringify(env))
    t.same(listOf(claim.headers.allow), ['delete', 'get', 'head', 'options', 'patch'])
    // Answered after the protective headers and the CORS ones, as every other answer is.
    t.equal(claim.headers['x-content-type-options'], 'nosniff', JSON.stringify(env))
    t.match(claim.headers['content-security-policy'], /default-src 'none'/)
    if (corsOn) t.ok(claim.headers['access-control-allow-origin'], 'a page of an allowed origin may read it')
    else t.equal(claim.headers['access-control-allow-origin'], undefined, 'no CORS headers with CORS off')
    if (env.CORS_ORIGINS === origin) t.equal(claim.headers['access-control-allow-origin'], origin)
    const list = await options('/v1/claims')
    t.same(listOf(list.headers.allow), ['get', 'head', 'options', 'post'])
    t.equal(list.headers['x-content-type-options'], 'nosniff')
    // With CORS on, its preflight route answers OPTIONS on every path, known or not.
    if (!corsOn) t.equal((await options('/v1/no-such-thing')).statusCode, 404, 'no methods to name')
  }
})

t.test('CORS_ORIGINS=none sends no CORS headers, and OPTIONS is no method of the API', async (t) => {
  const { app } = await buildTestApp(t, { CORS_ORIGINS: 'none' })
  const response = await call(app, 'GET', '/v1/parties', undefined, { origin: 'https://app.example.org' })
  t.equal(response.headers['access-control-allow-origin'], undefined)
  const options = await preflight(app, 'https://app.example.org')
  t.equal(options.statusCode, 405)
  t.match(options.headers['content-type'], /^application\/problem\+json\b/)
})
