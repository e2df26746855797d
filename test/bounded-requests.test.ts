import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { PROBLEM_TYPE_PREFIX } from '../src/schemas/common.schema.js'
import { startServerProcess } from './helpers/project-process.js'
import { prepareServerDatabase } from './helpers/server-process-database.js'
import { bearer, buildTestApp, call, callRaw } from './helpers/test-app.js'

const party = (slug: string) => ({ slug, name: `Party ${slug}`, kind: 'organisation' })

/** A JSON object nested `depth` levels deep (`{"a":{"a":…}}`), with `innermost` at the bottom. */
function nested(depth: number, innermost: string): string {
  return '{"a":'.repeat(depth) + innermost + '}'.repeat(depth)
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

// The machine may be busy: a server process and 100 uploads of 3 MB take a while.
t.setTimeout(600_000)

// One app for the whole file: building one takes seconds, and these tests create nothing another reads.
const { app, keys } = await buildTestApp(t)
await app.ready()

t.test('a deeply nested body is refused before any walk over it, in bounded time and size', async (t) => {
  // 500,000 levels with a NUL at the bottom held the event loop for 15-20 s and answered 3 MB.
  const started = Date.now()
  // (Arrays, to stay within the 1 MiB body limit.)
  const levels = 500_000
  const body = `{"a":${'['.repeat(levels)}"\\u0000"${']'.repeat(levels)}}`
  const deep = await callRaw(app, 'POST', '/v1/parties', body, { 'content-type': 'application/json' })
  const tookMs = Date.now() - started
  t.equal(deep.status, 400)
  t.match(deep.body, {
    type: `${PROBLEM_TYPE_PREFIX}validation-failed`,
    errors: [{ in: 'body', field: 'a', message: /more than 64 levels deep/ }],
  })
  t.ok(deep.raw.length < 2000, `the answer is small (${deep.raw.length} bytes)`)
  t.ok(tookMs < 5000, `answered in ${tookMs} ms (not the 15 s of a walk quadratic in the depth)`)

  const merge = await callRaw(app, 'PATCH', '/v1/parties/no-such-party', nested(65, '1'), {
    'content-type': 'application/merge-patch+json',
  })
  t.equal(merge.status, 400, 'JSON Merge Patch bodies too')
  t.match(merge.body, { errors: [{ message: /64 levels/ }] })

  // At the limit, the body is read and checked as usual: the NUL is found and named, path and all.
  const atLimit = await callRaw(app, 'POST', '/v1/parties', nested(64, '"\\u0000"'), {
    'content-type': 'application/json',
  })
  t.equal(atLimit.status, 400)
  t.match(atLimit.body.errors[0].message, /NUL/)
  t.ok(atLimit.body.errors[0].field.startsWith('a.a.a.'), 'the field is named by its path')

  const array = await callRaw(app, 'POST', '/v1/parties', `${'['.repeat(100)}${']'.repeat(100)}`, {
    'content-type': 'application/json',
  })
  t.match(array.body, { errors: [{ field: 'body', message: /64 levels/ }] }, 'no member: the body is named')

  // Brackets inside strings are text, not nesting.
  const brackets = await call(app, 'POST', '/v1/parties', { ...party('brackets'), description: '[{'.repeat(200) })
  t.equal(brackets.status, 201)
})

t.test('a problem lists at most 50 field errors, says how many more, and cuts long names short', async (t) => {
  const body: Record<string, unknown> = party('many-errors')
  for (let i = 0; i < 10_000; i++) body[`unknown_${i}`] = i
  const many = await call(app, 'POST', '/v1/parties', body)
  t.equal(many.status, 400)
  t.equal(many.body.errors.length, 50)
  t.equal(many.body.errors_omitted, 9_950)
  t.match(many.body.detail, /^unknown_0 is not a known field; .*; and \d+ more$/)
  t.ok(many.raw.length < 20_000, `the answer is bounded (${many.raw.length} bytes)`)

  const longName = 'x'.repeat(100_000)
  const long = await call(app, 'POST', '/v1/parties', { ...party('long-name'), [longName]: 1 })
  t.equal(long.status, 400)
  t.equal(long.body.errors[0].field.length, 200)
  t.ok(long.body.errors[0].field.endsWith('\u2026'), 'the cut is marked')
  t.ok(long.body.detail.length <= 1000)
  t.equal(long.body.errors_omitted, undefined, 'nothing omitted: no count')
})

t.test('a lone UTF-16 surrogate is a validation problem naming its field', async (t) => {
  const lone = await call(app, 'POST', '/v1/parties', { ...party('lone-surrogate'), name: 'Before \ud800 after' })
  t.equal(lone.status, 400)
  t.match(lone.body, {
    code: 'validation-failed',
    errors: [{ in: 'body', field: 'name', message: /lone UTF-16 surrogate/ }],
  })
  const trailing = await call(app, 'POST', '/v1/parties', { ...party('lone-low'), description: 'end \udc00' })
  t.match(trailing.body, { status: 400, errors: [{ field: 'description' }] })

  const paired = await call(app, 'POST', '/v1/parties', { ...party('paired'), name: 'A flag \ud83c\udff3 flies' })
  t.equal(paired.status, 201, 'a surrogate pair is an ordinary character')
  t.equal(paired.body.name, 'A flag \ud83c\udff3 flies')
})

t.test('a compressed body is refused with 415, saying what is accepted', async (t) => {
  const gzipped = await callRaw(app, 'POST', '/v1/parties', gzipSync(JSON.stringify(party('gzipped'))), {
    'content-type': 'application/json',
    'content-encoding': 'gzip',
  })
  t.equal(gzipped.status, 415)
  t.equal(gzipped.headers['accept-encoding'], 'identity')
  t.match(gzipped.body, { code: 'unsupported-media-type', detail: /Content-Encoding: gzip/ })
  t.equal((await call(app, 'GET', '/v1/parties/gzipped')).status, 404, 'nothing was created')

  const identity = await callRaw(app, 'POST', '/v1/parties', JSON.stringify(party('identity')), {
    'content-type': 'application/json',
    'content-encoding': 'identity',
  })
  t.equal(identity.status, 201, 'identity is no encoding')
})

t.test('a body over the limit, sent with fetch to a server process, reads its 413 problem every time', async (t) => {
  // A process of its own: the client and the server in one event loop take turns too tidily for the race
  // (the server closing while the client still writes) to show.
  const { env, token } = await prepareServerDatabase(t)
  const { base } = await startServerProcess(t, { ...env, RATE_LIMIT_PER_KEY: '0' })

  const body = JSON.stringify({ ...party('too-large'), description: 'x'.repeat(3 * 1024 * 1024) })
  const send = async () => {
    try {
      const response = await fetch(`${base}/v1/parties`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
      })
      const problem = (await response.json()) as { code?: string }
      return `${response.status} ${problem.code}`
    } catch (error) {
      return `failed: ${String((error as Error).cause ?? error)}`
    }
  }
  const outcomes: string[] = []
  for (let round = 0; round < 10; round++) outcomes.push(...(await Promise.all(Array.from({ length: 10 }, send))))
  const counts = outcomes.reduce<Record<string, number>>((all, o) => ({ ...all, [o]: (all[o] ?? 0) + 1 }), {})
  t.same(counts, { '413 payload-too-large': 100 }, '100 requests, ten at a time: 100 problems read')
})

t.test('over a real connection', async (t) => {
  const base = await listen(app)
  const url = new URL('/v1/parties', base)

  /** A request sent `Expect: 100-continue`: whether the server asked for the body, and its answer. */
  const expectContinue = (headers: Record<string, string>, body: string) =>
    new Promise<{ continued: boolean; status: number; text: string }>((resolve, reject) => {
      let continued = false
      const request = httpRequest(url, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', expect: '100-continue' },
      })
      request.on('continue', () => {
        continued = true
        request.end(body)
      })
      request.on('response', (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (text += chunk))
        response.on('end', () => resolve({ continued, status: response.statusCode ?? 0, text }))
      })
      request.on('error', reject)
      request.flushHeaders()
    })

  t.test('Expect: 100-continue is answered 401 without 100 Continue when there is no key', async (t) => {
    const body = JSON.stringify(party('expecting'))
    const refused = await expectContinue({}, body)
    t.equal(refused.continued, false, 'not invited to upload')
    t.equal(refused.status, 401)
    t.match(JSON.parse(refused.text), { code: 'unauthorized' })

    const accepted = await expectContinue(bearer(keys.write) as Record<string, string>, body)
    t.equal(accepted.continued, true, 'with a key, asked for the body')
    t.equal(accepted.status, 201)
  })
})
