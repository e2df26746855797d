import { sql } from 'kysely'
import pg from 'pg'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openServerDatabase } from '../src/db/database.js'
import { deleteExpiredRecords } from '../src/repositories/idempotency.repository.js'
import { bearer, buildTestApp, call, callRaw } from './helpers/test-app.js'
import { databaseUrl, serverUrl } from './helpers/test-database.js'

const { app, database, keys } = await buildTestApp(t)
const db = database.db

const idempotent = (key: string, headers: Record<string, string | undefined> = {}) => ({
  'idempotency-key': key,
  ...headers,
})

const party = await call(app, 'POST', '/v1/parties', { slug: 'idem-speaker', name: 'Speaker', kind: 'official' })
const claimBody = (text: string) => ({ party: 'idem-speaker', text, stated_at: '2021-03-01T12:00:00Z' })

async function claimsWithText(text: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM claims WHERE text = ${text}`.execute(db)
  return rows[0]!.n
}

async function partyCount(): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM parties`.execute(db)
  return rows[0]!.n
}

/** The record of an Idempotency-Key, whoever's key sent it. */
async function recordOf(key: string) {
  const { rows } = await sql<{ state: string; response_status: number | null; has_body: boolean }>`
    SELECT state, response_status, response_body IS NOT NULL AS has_body
    FROM idempotency_records WHERE idempotency_key = ${key}`.execute(db)
  return rows
}

t.test('the speaker of the claims below exists', async (t) => {
  t.equal(party.status, 201)
})

t.test('a retry with the same key and body replays the first answer, and stores nothing twice', async (t) => {
  const body = { slug: 'idem-replayed', name: 'Replayed', kind: 'media' }
  const before = await partyCount()
  const first = await call(app, 'POST', '/v1/parties', body, idempotent('create-replayed'))
  t.equal(first.status, 201)
  t.equal(first.headers['idempotent-replayed'], undefined, 'the first answer is no replay')

  const retry = await call(app, 'POST', '/v1/parties', body, idempotent('create-replayed'))
  t.equal(retry.status, 201)
  t.equal(retry.headers['idempotent-replayed'], 'true')
  t.equal(retry.raw, first.raw, 'the same body, byte for byte')
  t.equal(retry.headers.location, first.headers.location)
  t.equal(retry.headers.etag, first.headers.etag)
  t.equal(retry.headers['content-type'], first.headers['content-type'])
  t.not(retry.headers['x-request-id'], first.headers['x-request-id'], 'the replay has a request id of its own')

  // The draft's form of the key (a Structured Fields string) names the same key; so does the same body written
  // with other spacing and member order.
  const quoted = await call(app, 'POST', '/v1/parties', body, idempotent('"create-replayed"'))
  t.equal(quoted.headers['idempotent-replayed'], 'true')
  const reordered = await callRaw(
    app,
    'POST',
    '/v1/parties',
    '{ "kind": "media",\n  "name": "Replayed", "slug": "idem-replayed" }',
    idempotent('create-replayed', { 'content-type': 'application/json' }),
  )
  t.equal(reordered.status, 201)
  t.equal(reordered.headers['idempotent-replayed'], 'true')
  t.equal(await partyCount(), before + 1, 'one party')
})

t.test('the same key for another request is refused with 422, and runs nothing', async (t) => {
  const first = await call(app, 'POST', '/v1/claims', claimBody('Reused key, first.'), idempotent('reused'))
  t.equal(first.status, 201)
  const otherBody = await call(app, 'POST', '/v1/claims', claimBody('Reused key, second.'), idempotent('reused'))
  t.equal(otherBody.status, 422)
  t.match(otherBody.body, { code: 'idempotency-key-reused', status: 422 })
  t.equal(await claimsWithText('Reused key, second.'), 0)

  const otherRoute = await call(
    app,
    'POST',
    '/v1/parties',
    { slug: 'idem-x', name: 'X', kind: 'media' },
    idempotent('reused'),
  )
  t.equal(otherRoute.status, 422, 'another route with the same key')
  t.match(otherRoute.body, { code: 'idempotency-key-reused' })
  const otherPath = await call(
    app,
    'POST',
    `/v1/claims/${first.body.id}/rebuttals`,
    { claim: claimBody('Reused key, rebuttal.'), note: 'n' },
    idempotent('reused'),
  )
  t.equal(otherPath.status, 422, 'another route and path with the same key')
  t.equal(await claimsWithText('Reused key, rebuttal.'), 0)
})

t.test('a counter-claim posted twice with one key is recorded once, and the replay gives both its ETags', async (t) => {
  await call(app, 'POST', '/v1/parties', { slug: 'idem-answerer', name: 'Answerer', kind: 'official' })
  const target = await call(app, 'POST', '/v1/claims', claimBody('Said, then answered.'))
  const body = { claim: { ...claimBody('An answer, posted twice.'), party: 'idem-answerer' }, note: 'n' }
  const path = `/v1/claims/${target.body.id}/rebuttals`
  const first = await call(app, 'POST', path, body, idempotent('rebuttal-replayed'))
  t.equal(first.status, 201)
  t.ok(first.headers['claim-etag'])
  const retry = await call(app, 'POST', path, body, idempotent('rebuttal-replayed'))
  t.equal(retry.headers['idempotent-replayed'], 'true')
  t.equal(retry.raw, first.raw, 'the link and the claim, byte for byte')
  for (const name of ['location', 'etag', 'claim-etag']) t.equal(retry.headers[name], first.headers[name], name)
  t.equal(await claimsWithText('An answer, posted twice.'), 1)
})

t.test('keys belong to their API key: the same key from two API keys are two requests', async (t) => {
  const body = claimBody('Two API keys, one Idempotency-Key.')
  const mine = await call(app, 'POST', '/v1/claims', body, idempotent('shared-name'))
  const theirs = await call(app, 'POST', '/v1/claims', body, idempotent('shared-name', bearer(keys.otherWrite)))
  t.equal(mine.status, 201)
  t.equal(theirs.status, 201)
  t.equal(theirs.headers['idempotent-replayed'], undefined, 'not a replay of the other key’s request')
  t.not(theirs.body.id, mine.body.id)
  t.equal(await claimsWithText(body.text), 2)
  const again = await call(app, 'POST', '/v1/claims', body, idempotent('shared-name', bearer(keys.otherWrite)))
  t.equal(again.body.id, theirs.body.id, 'each key replays its own request')
})

t.test('a request refused before its handler runs records nothing: corrected, it may reuse the key', async (t) => {
  const invalid = await call(app, 'POST', '/v1/claims', { party: 'idem-speaker' }, idempotent('corrected'))
  t.equal(invalid.status, 400)
  t.match(invalid.body, { code: 'validation-failed' })
  const unauthenticated = await call(app, 'POST', '/v1/claims', claimBody('x'), idempotent('corrected', bearer(null)))
  t.equal(unauthenticated.status, 401)
  t.same(await recordOf('corrected'), [])

  const corrected = await call(app, 'POST', '/v1/claims', claimBody('Corrected.'), idempotent('corrected'))
  t.equal(corrected.status, 201, 'not a 422: the refused request did not use the key')
})

t.test('a problem the handler answers is kept and replayed, even once its cause is gone', async (t) => {
  const body = { party: 'idem-later', text: 'Said before the party existed.', stated_at: '2021-03-01T12:00:00Z' }
  const first = await call(app, 'POST', '/v1/claims', body, idempotent('unknown-party'))
  t.equal(first.status, 422)
  t.match(first.body, { code: 'unprocessable-entity' })
  t.same(await recordOf('unknown-party'), [{ state: 'completed', response_status: 422, has_body: true }])

  t.equal((await call(app, 'POST', '/v1/parties', { slug: 'idem-later', name: 'Later', kind: 'media' })).status, 201)
  const retry = await call(app, 'POST', '/v1/claims', body, idempotent('unknown-party'))
  t.equal(retry.status, 422, 'what that request came to: a new attempt takes a new key')
  t.equal(retry.headers['idempotent-replayed'], 'true')
  t.equal(retry.raw, first.raw)
  t.equal(await claimsWithText(body.text), 0)
  const fresh = await call(app, 'POST', '/v1/claims', body, idempotent('unknown-party, second attempt'))
  t.equal(fresh.status, 201)
})

t.test('a server error is not kept: the key is given back, and a retry runs', async (t) => {
  await sql`CREATE FUNCTION idem_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'refused for the test'; END $$`.execute(db)
  await sql`CREATE TRIGGER idem_refuse BEFORE INSERT ON parties FOR EACH ROW EXECUTE FUNCTION idem_refuse()`.execute(db)
  const body = { slug: 'idem-after-failure', name: 'After failure', kind: 'media' }
  try {
    const failed = await call(app, 'POST', '/v1/parties', body, idempotent('server-error'))
    t.equal(failed.status, 500)
    t.same(await recordOf('server-error'), [], 'no record left')
  } finally {
    await sql`DROP TRIGGER idem_refuse ON parties`.execute(db)
    await sql`DROP FUNCTION idem_refuse()`.execute(db)
  }
  const retry = await call(app, 'POST', '/v1/parties', body, idempotent('server-error'))
  t.equal(retry.status, 201)
  t.equal(retry.headers['idempotent-replayed'], undefined, 'it ran')
})

t.test('concurrent requests with one key: exactly one runs, the others get 409 or its replay', async (t) => {
  const body = claimBody('Sent eight times at once.')
  const answers = await Promise.all(
    Array.from({ length: 8 }, () => call(app, 'POST', '/v1/claims', body, idempotent('concurrent'))),
  )
  const ran = answers.filter((answer) => answer.status === 201 && answer.headers['idempotent-replayed'] === undefined)
  t.equal(ran.length, 1, 'one ran')
  for (const answer of answers) {
    if (answer === ran[0]) continue
    if (answer.status === 409) {
      t.match(answer.body, { code: 'idempotency-key-in-use' })
      t.match(answer.headers['retry-after'], /^\d+$/)
    } else {
      t.equal(answer.status, 201)
      t.equal(answer.headers['idempotent-replayed'], 'true')
      t.equal(answer.body.id, ran[0]!.body.id)
    }
  }
  t.equal(await claimsWithText(body.text), 1)
})

/** Sets the record of a key as a test needs it, straight in the database. */
async function setRecord(key: string, change: ReturnType<typeof sql>) {
  await sql`UPDATE idempotency_records SET ${change} WHERE idempotency_key = ${key}`.execute(db)
}

t.test('a record in progress answers 409; abandoned (its lease run out), a retry takes it over', async (t) => {
  const body = claimBody('Its process died.')
  t.equal((await call(app, 'POST', '/v1/claims', body, idempotent('abandoned'))).status, 201)
  // As if the request were still running: completed records do not go back to this, crashed ones stay so.
  await setRecord(
    'abandoned',
    sql`state = 'in-progress', response_status = NULL, response_headers = NULL, response_body = NULL,
        locked_until = now() + interval '1 hour'`,
  )
  const running = await call(app, 'POST', '/v1/claims', body, idempotent('abandoned'))
  t.equal(running.status, 409)
  t.match(running.body, { code: 'idempotency-key-in-use' })
  t.equal(running.headers['retry-after'], '2')
  const otherBody = await call(app, 'POST', '/v1/claims', claimBody('Another.'), idempotent('abandoned'))
  t.equal(otherBody.status, 422, 'another request with the key is refused, in progress or not')

  await setRecord('abandoned', sql`locked_until = now() - interval '1 second'`)
  const stillOther = await call(app, 'POST', '/v1/claims', claimBody('Another.'), idempotent('abandoned'))
  t.equal(stillOther.status, 422, 'an abandoned record is taken over only by the same request')
  const takeover = await call(app, 'POST', '/v1/claims', body, idempotent('abandoned'))
  t.equal(takeover.status, 201)
  t.equal(takeover.headers['idempotent-replayed'], undefined, 'it ran again')
  // The gap docs/http-contract.md states: had the first request's write committed before its process died, it is made twice.
  t.equal(await claimsWithText(body.text), 2)
  const replay = await call(app, 'POST', '/v1/claims', body, idempotent('abandoned'))
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.equal(replay.body.id, takeover.body.id)
})

t.test('records are kept at least 24 hours; expired ones are ignored, then deleted', async (t) => {
  t.equal((await call(app, 'POST', '/v1/claims', claimBody('Kept a day.'), idempotent('expiring'))).status, 201)
  const { rows } = await sql<{ kept: boolean }>`
    SELECT expires_at >= now() + interval '24 hours' - interval '1 minute' AS kept
    FROM idempotency_records WHERE idempotency_key = 'expiring'`.execute(db)
  t.same(rows, [{ kept: true }])

  await setRecord(
    'expiring',
    sql`created_at = created_at - interval '25 hours', expires_at = now() - interval '1 hour'`,
  )
  const reused = await call(app, 'POST', '/v1/claims', claimBody('A day later.'), idempotent('expiring'))
  t.equal(reused.status, 201, 'an expired key is free again, whatever it was for')
  t.equal(reused.headers['idempotent-replayed'], undefined)

  t.equal((await call(app, 'POST', '/v1/claims', claimBody('Soon gone.'), idempotent('pruned'))).status, 201)
  await setRecord('pruned', sql`expires_at = now() - interval '1 second'`)
  t.ok((await deleteExpiredRecords(db)) >= 1)
  t.same(await recordOf('pruned'), [])
  t.equal((await recordOf('reused')).length, 1, 'live records stay')
})

t.test('an import takes a key: the spooled body is what a retry must repeat', async (t) => {
  const NDJSON = { 'content-type': 'application/x-ndjson' }
  const lines = [
    { type: 'party', ref: 'idem-import-party', slug: 'idem-imported', name: 'Imported', kind: 'media' },
    {
      type: 'claim',
      ref: 'idem-import-claim',
      party: { ref: 'idem-import-party' },
      text: 'Imported once.',
      stated_at: '2021-04-01T00:00:00Z',
    },
  ]
  const body = lines.map((line) => JSON.stringify(line)).join('\n') + '\n'
  const first = await callRaw(app, 'POST', '/v1/import', body, idempotent('import', NDJSON))
  t.equal(first.status, 200, first.raw)
  t.match(first.body.counts, { parties: { created: 1 }, claims: { created: 1 } })
  const retry = await callRaw(app, 'POST', '/v1/import', body, idempotent('import', NDJSON))
  t.equal(retry.status, 200)
  t.equal(retry.headers['idempotent-replayed'], 'true')
  t.equal(retry.raw, first.raw, 'the counts of the first run, not "unchanged"')

  const otherBody = await callRaw(
    app,
    'POST',
    '/v1/import',
    body.replace('once', 'twice'),
    idempotent('import', NDJSON),
  )
  t.equal(otherBody.status, 422)
  t.match(otherBody.body, { code: 'idempotency-key-reused' })
  const otherMode = await callRaw(app, 'POST', '/v1/import?mode=best-effort', body, idempotent('import', NDJSON))
  t.equal(otherMode.status, 422, 'the query is part of the request')
  const sameModeSpelledOut = await callRaw(
    app,
    'POST',
    '/v1/import?mode=all-or-nothing',
    body,
    idempotent('import', NDJSON),
  )
  t.equal(sameModeSpelledOut.headers['idempotent-replayed'], 'true', 'the default mode, named, is the same request')
  t.equal(await claimsWithText('Imported twice.'), 0)

  const bad = '{"type": "claim", "ref": "idem-bad"}\n'
  const rejected = await callRaw(app, 'POST', '/v1/import', bad, idempotent('import-rejected', NDJSON))
  t.equal(rejected.status, 422)
  t.match(rejected.body, { code: 'import-rejected', line_error_count: 1 })
  const rejectedAgain = await callRaw(app, 'POST', '/v1/import', bad, idempotent('import-rejected', NDJSON))
  t.equal(rejectedAgain.headers['idempotent-replayed'], 'true')
  t.equal(rejectedAgain.raw, rejected.raw)

  const notNdjson = await callRaw(app, 'POST', '/v1/import', '{}', idempotent('import-415'))
  t.equal(notNdjson.status, 415)
  t.same(await recordOf('import-415'), [], 'refused before the body was read: nothing recorded')
  const badKey = await callRaw(app, 'POST', '/v1/import', body, idempotent('', NDJSON))
  t.equal(badKey.status, 400)
})

t.test('a new API key’s token is never stored: a retry learns the key was made, not its token', async (t) => {
  const body = { name: 'made once', scopes: ['read'] }
  const admin = bearer(keys.admin)
  const created = await call(app, 'POST', '/v1/keys', body, idempotent('new-key', admin))
  t.equal(created.status, 201)
  t.match(created.body.token, /^cck_/)
  t.same(await recordOf('new-key'), [{ state: 'completed', response_status: 201, has_body: false }])
  const retry = await call(app, 'POST', '/v1/keys', body, idempotent('new-key', admin))
  t.equal(retry.status, 409)
  t.match(retry.body, { code: 'idempotency-key-used', detail: new RegExp(created.headers.location as string) })
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM api_keys WHERE name = 'made once'`.execute(db)
  t.equal(rows[0]!.n, 1)
})

t.test('a bad Idempotency-Key is refused with 400 naming the header, before anything runs', async (t) => {
  const before = await partyCount()
  const bad = ['', ' ', 'x'.repeat(256), 'clé', 'tab\there', '"unterminated', '"bad \\escape"', '""']
  for (const key of bad) {
    const answer = await call(
      app,
      'POST',
      '/v1/parties',
      { slug: 'idem-bad-key', name: 'B', kind: 'media' },
      idempotent(key),
    )
    t.equal(answer.status, 400, JSON.stringify(key))
    t.match(answer.body, {
      code: 'validation-failed',
      errors: [{ in: 'header', field: 'idempotency-key' }],
    })
  }
  const twice = await app.inject({
    method: 'POST',
    url: '/v1/parties',
    headers: {
      ...bearer(keys.write),
      'content-type': 'application/json',
      'idempotency-key': ['one', 'two'],
    } as Record<string, string | string[]>,
    payload: JSON.stringify({ slug: 'idem-bad-key', name: 'B', kind: 'media' }),
  })
  t.equal(twice.statusCode, 400, 'the header sent twice')
  t.equal(await partyCount(), before)

  const longest = await call(app, 'POST', '/v1/claims', claimBody('Longest key.'), idempotent('k'.repeat(255)))
  t.equal(longest.status, 201)
  const escaped = await call(app, 'POST', '/v1/claims', claimBody('Escaped key.'), idempotent('"a \\"quoted\\" key"'))
  t.equal(escaped.status, 201)
  t.equal((await recordOf('a "quoted" key')).length, 1, 'stored unquoted')
  const read = await call(app, 'GET', '/v1/parties', undefined, idempotent(''))
  t.equal(read.status, 200, 'reads ignore the header')
})

t.test('the OpenAPI document describes the header and its answers on every POST', async (t) => {
  const document = (await call(app, 'GET', '/openapi.json')).body as {
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: Array<{ in: string; name: string; required?: boolean }>
          responses: Record<string, { headers?: Record<string, unknown> }>
        }
      >
    >
  }
  let posts = 0
  for (const [path, item] of Object.entries(document.paths)) {
    const post = item.post
    if (post === undefined) continue
    posts++
    const header = post.parameters?.find(
      (parameter) => parameter.in === 'header' && parameter.name === 'idempotency-key',
    )
    t.match(header, { name: 'idempotency-key', required: false }, `${path}: the optional request header`)
    t.ok(post.responses['409']?.headers?.['retry-after'], `${path}: 409 with Retry-After`)
    t.ok(post.responses['422'], `${path}: 422`)
    for (const [status, response] of Object.entries(post.responses)) {
      if (/^[234]/.test(status))
        t.ok(response.headers?.['idempotent-replayed'], `${path} ${status}: Idempotent-Replayed`)
    }
  }
  t.equal(posts, 11, 'every POST')
})

const oneSession = 'the embedded database has one session: no other transaction can hold a lock meanwhile'

t.test(
  'a retry while the first request still runs gets 409, then the replay',
  { skip: serverUrl ? false : oneSession },
  async (t) => {
    const { rows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(db)
    const session = new pg.Client({ connectionString: databaseUrl(serverUrl!, rows[0]!.name) })
    await session.connect()
    t.teardown(() => session.end())
    const body = { slug: 'idem-held', name: 'Held', kind: 'media' }

    // Parties can be read but not written while this lock is held: the first request waits in its handler.
    await session.query('BEGIN')
    await session.query('LOCK TABLE parties IN EXCLUSIVE MODE')
    const first = call(app, 'POST', '/v1/parties', body, idempotent('held'))
    for (;;) {
      const waiting = await session.query<{ waiting: boolean }>(
        `SELECT exists (SELECT FROM pg_stat_activity WHERE datname = current_database()
         AND pid <> pg_backend_pid() AND wait_event_type = 'Lock') AS waiting`,
      )
      if (waiting.rows[0]?.waiting) break
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const retries = await Promise.all(
      Array.from({ length: 4 }, () => call(app, 'POST', '/v1/parties', body, idempotent('held'))),
    )
    for (const retry of retries) {
      t.equal(retry.status, 409)
      t.match(retry.body, { code: 'idempotency-key-in-use' })
      t.equal(retry.headers['retry-after'], '2')
    }
    const other = await call(app, 'POST', '/v1/parties', { ...body, name: 'Other' }, idempotent('held'))
    t.equal(other.status, 422)
    await session.query('COMMIT')

    const done = await first
    t.equal(done.status, 201)
    const replay = await call(app, 'POST', '/v1/parties', body, idempotent('held'))
    t.equal(replay.headers['idempotent-replayed'], 'true')
    t.equal(replay.body.id, done.body.id)
    const { rows: held } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM parties WHERE slug = 'idem-held'`.execute(db)
    t.equal(held[0]!.n, 1)
  },
)

t.test(
  'two instances on one database share the records',
  { skip: serverUrl === undefined && 'needs DATABASE_URL: two apps cannot share one embedded database' },
  async (t) => {
    const { rows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(db)
    const url = databaseUrl(serverUrl!, rows[0]!.name)
    // The second instance opens its own pool on the same database, as a second process would.
    const second = await buildApp({
      config: { ...loadConfig({ DATABASE_URL: url, MAX_EVENT_LOOP_DELAY_MS: '0' }), migrateOnStart: false },
      database: openServerDatabase({ url, poolMax: 2, statementTimeoutMs: 10_000 }),
      logger: false,
    })
    t.teardown(() => second.close())

    const body = claimBody('Sent to two instances.')
    const first = await call(app, 'POST', '/v1/claims', body, idempotent('two-instances', bearer(keys.write)))
    t.equal(first.status, 201)
    const retry = await call(second, 'POST', '/v1/claims', body, idempotent('two-instances', bearer(keys.write)))
    t.equal(retry.status, 201)
    t.equal(retry.headers['idempotent-replayed'], 'true', 'the other instance replays it')
    t.equal(retry.body.id, first.body.id)
    const other = await call(
      second,
      'POST',
      '/v1/claims',
      claimBody('Else.'),
      idempotent('two-instances', bearer(keys.write)),
    )
    t.equal(other.status, 422)
    t.equal(await claimsWithText(body.text), 1)
  },
)
