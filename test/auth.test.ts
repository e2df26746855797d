import { Writable } from 'node:stream'
import { sql } from 'kysely'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createApiKey } from '../src/services/api-key.service.js'
import { bearer, buildTestApp, call, callRaw } from './helpers/test-app.js'
import { openTestDatabase } from './helpers/test-database.js'
import type { ApiKey } from './helpers/wire-types.js'

const { app, database, keys } = await buildTestApp(t)

const PARTY = { slug: 'auth-party', name: 'Auth party', kind: 'military' }
const OTHER_PARTY = { slug: 'auth-other', name: 'Auth other', kind: 'military' }
const CHECKER = { slug: 'auth-checker', name: 'Auth checker', kind: 'fact-checker' }
const STATED = '2020-10-06T12:00:00Z'

async function created(url: string, body: unknown, token = keys.write) {
  const response = await call(app, 'POST', url, body, bearer(token))
  if (response.status !== 201) throw new Error(`POST ${url}: ${response.status} ${response.raw}`)
  // Any created record: every one has an id, and a party a slug too.
  return response.body as { id: string; slug?: string }
}

/** The tables that hold what the API records (not keys, counters or other bookkeeping). */
const RECORD_TABLES = [
  'parties',
  'party_versions',
  'claims',
  'claim_versions',
  'links',
  'link_versions',
  'rebuttal_pairs',
  'support_pairs',
  'reviews',
  'review_versions',
  'import_refs',
]

/** Every row of the tables named (by default all of them), as text: what a dump of the database would show. */
async function databaseText(only?: string[]): Promise<string> {
  const { rows } = await sql<{ name: string }>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(database.db)
  const tables = rows.filter(({ name }) => only === undefined || only.includes(name))
  let text = ''
  for (const { name } of tables) {
    const dump = await sql<{ row: string }>`SELECT t::text AS row FROM ${sql.table(name)} t ORDER BY 1`.execute(
      database.db,
    )
    text += dump.rows.map((r) => r.row).join('\n')
  }
  return text
}

t.test('writes need a key: 401 with a Bearer challenge, before the body is even read', async (t) => {
  const none = await call(app, 'POST', '/v1/parties', PARTY, bearer(null))
  t.equal(none.status, 401)
  t.match(none.headers['content-type'], /^application\/problem\+json/)
  t.match(none.body, { code: 'unauthorized', status: 401 })
  t.equal(none.headers['www-authenticate'], 'Bearer realm="counterclaim"')

  const badBody = await callRaw(app, 'POST', '/v1/parties', '{not json', {
    ...bearer(null),
    'content-type': 'application/json',
  })
  t.equal(badBody.status, 401, 'a malformed body from a caller without a key is not looked at')

  const unknown = await call(app, 'POST', '/v1/parties', PARTY, bearer(`cck_${'A'.repeat(43)}`))
  t.equal(unknown.status, 401)
  t.match(unknown.headers['www-authenticate'], /error="invalid_token"/)

  for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer two tokens', keys.write]) {
    const odd = await call(app, 'POST', '/v1/parties', PARTY, { authorization: header })
    t.equal(odd.status, 401, `Authorization: ${header.slice(0, 12)}… is refused`)
  }
  t.equal(await countParties(PARTY.slug), 0, 'nothing was written')
})

async function countParties(slug: string): Promise<number> {
  const row = await database.db
    .selectFrom('parties')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('slug', '=', slug)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

t.test('reads are open; a key that is sent is checked even there', async (t) => {
  t.equal((await call(app, 'GET', '/v1/claims', undefined, bearer(null))).status, 200)
  t.equal((await call(app, 'GET', '/v1/claims', undefined, bearer(keys.read))).status, 200)
  const bad = await call(app, 'GET', '/v1/claims', undefined, bearer(`cck_${'B'.repeat(43)}`))
  t.equal(bad.status, 401, 'a client with a mistyped key hears of it')
  t.equal((await call(app, 'GET', '/healthz', undefined, bearer('garbage'))).status, 200, 'probes ignore keys')
})

t.test('a read key cannot write: 403 naming the scope', async (t) => {
  const response = await call(app, 'POST', '/v1/parties', PARTY, bearer(keys.read))
  t.equal(response.status, 403)
  t.match(response.body, { code: 'forbidden' })
  t.match(response.headers['www-authenticate'], /error="insufficient_scope", scope="write"/)
})

t.test('READS_REQUIRE_KEY: reads need a key with the read scope; probes and docs stay open', async (t) => {
  const closed = await buildApp({
    config: { ...loadConfig({ READS_REQUIRE_KEY: 'true' }), migrateOnStart: false },
    database: await openTestDatabase(),
    logger: false,
  })
  t.teardown(() => closed.close())
  const { token } = await createApiKey(closed.db, { name: 'reader', scopes: ['read'] })
  const anonymous = await callRaw(closed, 'GET', '/v1/claims')
  t.equal(anonymous.status, 401)
  t.equal(anonymous.headers['www-authenticate'], 'Bearer realm="counterclaim"')
  t.equal((await callRaw(closed, 'GET', '/v1/claims', undefined, bearer(token))).status, 200)
  t.equal((await callRaw(closed, 'GET', '/healthz')).status, 200)
  t.equal((await callRaw(closed, 'GET', '/openapi.json')).status, 200)
})

t.test('a write key changes only what it created; an admin key anything', async (t) => {
  const party = await created('/v1/parties', PARTY)
  const path = `/v1/parties/${PARTY.slug}`
  const foreign = await call(app, 'PATCH', path, { name: 'Taken over' }, bearer(keys.otherWrite))
  t.equal(foreign.status, 403)
  t.match(foreign.body, { code: 'forbidden', detail: /created with another API key/ })
  t.equal((await call(app, 'DELETE', path, undefined, bearer(keys.otherWrite))).status, 403)
  t.equal((await call(app, 'GET', path)).body.name, PARTY.name, 'the party is as it was')

  const stale = await call(app, 'PATCH', path, { name: 'x' }, { ...bearer(keys.otherWrite), 'if-match': '"stale"' })
  t.equal(stale.status, 403, 'ownership is checked before the entity tag: a stranger learns nothing from it')

  t.equal((await call(app, 'PATCH', path, { name: 'Renamed by owner' })).status, 200)
  t.equal((await call(app, 'PATCH', path, { name: 'Renamed by admin' }, bearer(keys.admin))).status, 200)
  t.equal(party.slug, PARTY.slug)
})

t.test("keys of one team change each other's records; other teams and keys of no team do not", async (t) => {
  const adminKey = bearer(keys.admin)
  const makeKey = async (name: string, team?: string) => {
    const response = await call(app, 'POST', '/v1/keys', { name, scopes: ['write'], team }, adminKey)
    t.equal(response.status, 201, `${name} is created`)
    t.equal(response.body.team, team ?? null, `${name} reads its team`)
    return response.body as ApiKey & { token: string }
  }
  const alice = await makeKey('desk a, alice', 'desk-a')
  const bob = await makeKey('desk a, bob', 'desk-a')
  const carol = await makeKey('desk b, carol', 'desk-b')
  const dave = await makeKey('no desk, dave')
  t.equal((await call(app, 'GET', `/v1/keys/${alice.id}`, undefined, adminKey)).body.team, 'desk-a')
  const badTeam = await call(app, 'POST', '/v1/keys', { name: 'x', scopes: ['write'], team: 'Desk A' }, adminKey)
  t.equal(badTeam.status, 400, 'a team is a slug')

  const speaker = await created('/v1/parties', { slug: 'team-speaker', name: 'Speaker', kind: 'official' }, alice.token)
  const answerer = await created(
    '/v1/parties',
    { slug: 'team-answerer', name: 'Answerer', kind: 'official' },
    alice.token,
  )
  await created('/v1/parties', { slug: 'team-checker', name: 'Checker', kind: 'fact-checker' }, alice.token)
  const claim = await created(
    '/v1/claims',
    { party: speaker.id, text: 'At least 500 dead.', stated_at: STATED },
    alice.token,
  )
  const answer = await created('/v1/claims', { party: answerer.id, text: 'Fewer.', stated_at: STATED }, alice.token)
  const link = await created(
    '/v1/links',
    { from_claim_id: answer.id, to_claim_id: claim.id, kind: 'rebuts' },
    alice.token,
  )
  const review = await created(
    `/v1/claims/${claim.id}/reviews`,
    { reviewer: 'team-checker', verdict: 'unproven', rating_label: 'Unproven', published_at: STATED },
    alice.token,
  )
  const edits = [
    ['a party', `/v1/parties/${speaker.id}`, { description: 'Edited.' }],
    ['a claim', `/v1/claims/${claim.id}`, { text: 'At least 471 dead.', edit_note: 'Figure revised.' }],
    ['a review', `/v1/reviews/${review.id}`, { rating_label: 'Not proven' }],
  ] as const
  for (const [what, path, body] of edits) {
    for (const [who, key] of [
      ['another team', carol],
      ['a key of no team', dave],
    ] as const) {
      const refused = await call(app, 'PATCH', path, body, bearer(key.token))
      t.equal(refused.status, 403, `${who} may not change ${what} of desk-a`)
      t.equal((await call(app, 'DELETE', path, undefined, bearer(key.token))).status, 403, `nor delete it (${who})`)
    }
    t.equal((await call(app, 'PATCH', path, body, bearer(bob.token))).status, 200, `a teammate changes ${what}`)
  }
  for (const [who, key] of [
    ['another team', carol],
    ['a key of no team', dave],
  ] as const) {
    t.equal(
      (await call(app, 'DELETE', `/v1/links/${link.id}`, undefined, bearer(key.token))).status,
      403,
      `${who}: link`,
    )
  }
  const history = await call(app, 'GET', `/v1/claims/${claim.id}/history`)
  t.same(
    history.body.data.map((v: { recorded_by: { name: string } | null }) => v.recorded_by?.name),
    ['desk a, bob', 'desk a, alice'],
    'the history names who on the desk made each version',
  )

  // A team shares only what its keys made: not the records of a key of no team, nor another team's.
  const davesParty = await created('/v1/parties', { slug: 'dave-party', name: 'Dave', kind: 'official' }, dave.token)
  t.equal((await call(app, 'PATCH', `/v1/parties/${davesParty.id}`, { name: 'x' }, bearer(alice.token))).status, 403)
  const carolsParty = await created(
    '/v1/parties',
    { slug: 'carol-party', name: 'Carol', kind: 'official' },
    carol.token,
  )
  t.equal((await call(app, 'PATCH', `/v1/parties/${carolsParty.id}`, { name: 'x' }, bearer(alice.token))).status, 403)
  const otherNoTeam = await call(app, 'PATCH', `/v1/parties/${davesParty.id}`, { name: 'x' }, bearer(keys.write))
  t.equal(otherNoTeam.status, 403, 'keys of no team are not one team')
  t.equal((await call(app, 'PATCH', `/v1/parties/${davesParty.id}`, { name: 'y' }, adminKey)).status, 200, 'admin')

  t.equal((await call(app, 'DELETE', `/v1/links/${link.id}`, undefined, bearer(bob.token))).status, 204, 'teammate')
  // A revoked teammate's records stay the team's.
  t.equal((await call(app, 'DELETE', `/v1/keys/${alice.id}`, undefined, adminKey)).status, 204)
  t.equal((await call(app, 'DELETE', `/v1/reviews/${review.id}`, undefined, bearer(bob.token))).status, 204)
})

t.test('API keys over HTTP: admin only; the token is shown once and never stored', async (t) => {
  const forbidden = await call(app, 'POST', '/v1/keys', { name: 'nope', scopes: ['write'] })
  t.equal(forbidden.status, 403, 'a write key cannot make keys')
  t.equal((await call(app, 'GET', '/v1/keys')).status, 403)

  const made = await call(app, 'POST', '/v1/keys', { name: 'ingest bot', scopes: ['write'] }, bearer(keys.admin))
  t.equal(made.status, 201)
  t.equal(made.headers.location, `/v1/keys/${made.body.id}`)
  t.equal(made.headers['cache-control'], 'no-store')
  const token = made.body.token as string
  t.match(token, /^cck_[A-Za-z0-9_-]{43}$/)
  t.equal(made.body.prefix, token.slice(0, 12))
  t.same(made.body.scopes, ['write'])

  const read = await call(app, 'GET', `/v1/keys/${made.body.id}`, undefined, bearer(keys.admin))
  t.equal(read.status, 200)
  t.notOk('token' in read.body, 'a key read back has no token')
  t.equal(read.body.last_used_at, null)
  const list = await call(app, 'GET', '/v1/keys?limit=200', undefined, bearer(keys.admin))
  t.ok(list.body.data.some((key: ApiKey) => key.id === made.body.id))
  t.notOk(list.raw.includes(token), 'no token in a list')

  // The new key works, and its use is recorded.
  t.equal((await call(app, 'POST', '/v1/parties', OTHER_PARTY, bearer(token))).status, 201)
  const used = await call(app, 'GET', `/v1/keys/${made.body.id}`, undefined, bearer(keys.admin))
  t.type(used.body.last_used_at, 'string', 'last use is recorded')

  t.equal((await call(app, 'DELETE', `/v1/keys/${made.body.id}`, undefined, bearer(keys.admin))).status, 204)
  const revoked = await call(app, 'PATCH', `/v1/parties/${OTHER_PARTY.slug}`, { name: 'x' }, bearer(token))
  t.equal(revoked.status, 401, 'a revoked key is refused at once')
  t.match(revoked.headers['www-authenticate'], /invalid_token/)
  const after = await call(app, 'GET', `/v1/keys/${made.body.id}`, undefined, bearer(keys.admin))
  t.type(after.body.revoked_at, 'string')
  t.equal((await call(app, 'DELETE', `/v1/keys/${made.body.id}`, undefined, bearer(keys.admin))).status, 204)
  t.equal((await call(app, 'GET', `/v1/keys/${crypto.randomUUID()}`, undefined, bearer(keys.admin))).status, 404)

  t.notOk((await databaseText()).includes(token), 'the token is nowhere in the database, only its hash')
  for (const other of Object.values(keys)) t.notOk((await databaseText()).includes(other))
})

t.test('no key ever reaches the logs', async (t) => {
  let logs = ''
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logs += String(chunk)
      done()
    },
  })
  const logged = await buildApp({
    config: { ...loadConfig({}), migrateOnStart: false },
    database: await openTestDatabase(),
    logger: { level: 'trace', stream },
  })
  t.teardown(() => logged.close())
  const { token: admin } = await createApiKey(logged.db, { name: 'admin', scopes: ['admin'] })
  const made = await callRaw(logged, 'POST', '/v1/keys', JSON.stringify({ name: 'logged', scopes: ['write'] }), {
    ...bearer(admin),
    'content-type': 'application/json',
  })
  const token = made.body.token as string
  await callRaw(logged, 'POST', '/v1/parties', JSON.stringify(PARTY), {
    ...bearer(token),
    'content-type': 'application/json',
  })
  await callRaw(logged, 'GET', '/v1/claims?limit=1', undefined, bearer(`${token}x`))
  t.ok(logs.includes('"reqId"'), 'requests were logged')
  t.notOk(logs.includes(token), 'not the created token')
  t.notOk(logs.includes(admin), 'not the admin token')
  t.notOk(logs.includes(token.slice(4)), 'not even in part')
})

t.test('a claim others answered or reviewed is deleted only by an admin key: their work is theirs', async (t) => {
  await created('/v1/parties', { slug: 'cascade-a', name: 'Cascade A', kind: 'military' })
  await created('/v1/parties', { slug: 'cascade-b', name: 'Cascade B', kind: 'military' }, keys.otherWrite)
  const claim = await created('/v1/claims', { party: 'cascade-a', text: 'Said.', stated_at: STATED })
  const answer = await created(
    '/v1/claims',
    { party: 'cascade-b', text: 'Denied.', stated_at: STATED },
    keys.otherWrite,
  )
  const link = await created(
    '/v1/links',
    { from_claim_id: answer.id, to_claim_id: claim.id, kind: 'rebuts' },
    keys.otherWrite,
  )
  const refused = await call(app, 'DELETE', `/v1/claims/${claim.id}`)
  t.equal(refused.status, 409, "its creator may not take the other key's link with it")
  t.match(refused.body.detail, /1 link\(s\) and 0 review\(s\) made with other API keys/)
  t.equal((await call(app, 'GET', `/v1/links/${link.id}`)).status, 200, 'the link is still there')

  t.equal((await call(app, 'DELETE', `/v1/links/${link.id}`, undefined, bearer(keys.otherWrite))).status, 204)
  t.equal((await call(app, 'DELETE', `/v1/claims/${claim.id}`)).status, 204, 'once it is gone, the claim may go')

  const again = await created('/v1/claims', { party: 'cascade-a', text: 'Said again.', stated_at: STATED })
  await created('/v1/links', { from_claim_id: answer.id, to_claim_id: again.id, kind: 'rebuts' }, keys.otherWrite)
  t.equal((await call(app, 'DELETE', `/v1/claims/${again.id}`, undefined, bearer(keys.admin))).status, 204)
})

/**
 * The security matrix: every route that changes something, called with every kind of key that must not succeed
 * against a record that key did not create. Any 2xx is an unauthorised success; the records are compared after.
 */
t.test(
  'security matrix: no key, a bad or revoked key, a read key or another writer never changes a record',
  async (t) => {
    const owner = keys.write
    const party = await created('/v1/parties', { slug: 'matrix-party', name: 'Matrix party', kind: 'military' })
    await created('/v1/parties', { slug: 'matrix-rival', name: 'Matrix rival', kind: 'military' })
    await created('/v1/parties', { ...CHECKER })
    const claim = await created('/v1/claims', { party: 'matrix-party', text: 'Said.', stated_at: STATED })
    const answer = await created('/v1/claims', { party: 'matrix-rival', text: 'Denied.', stated_at: STATED })
    const link = await created('/v1/links', { from_claim_id: answer.id, to_claim_id: claim.id, kind: 'rebuts' })
    const review = await created(`/v1/claims/${claim.id}/reviews`, {
      reviewer: CHECKER.slug,
      verdict: 'unproven',
      rating_label: 'Unproven',
      published_at: STATED,
    })
    const spare = await call(app, 'POST', '/v1/keys', { name: 'spare', scopes: ['write'] }, bearer(keys.admin))
    const revoked = spare.body.token as string
    await call(app, 'DELETE', `/v1/keys/${spare.body.id}`, undefined, bearer(keys.admin))

    const callers: Array<[string, string | null]> = [
      ['no key', null],
      ['a malformed key', 'not-a-key'],
      ['an unknown key', `cck_${'C'.repeat(43)}`],
      ['a revoked key', revoked],
      ['a read key', keys.read],
      ['another writer', keys.otherWrite],
    ]
    const newClaim = { party: 'matrix-party', text: 'New.', stated_at: STATED }
    const mutations: Array<{ method: 'POST' | 'PATCH' | 'DELETE'; url: string; body?: unknown; creates?: boolean }> = [
      { method: 'PATCH', url: `/v1/parties/${party.id}`, body: { name: 'Hijacked' } },
      { method: 'DELETE', url: `/v1/parties/${CHECKER.slug}` },
      { method: 'PATCH', url: `/v1/claims/${claim.id}`, body: { text: 'Hijacked.' } },
      { method: 'DELETE', url: `/v1/claims/${claim.id}` },
      { method: 'PATCH', url: `/v1/links/${link.id}`, body: { note: 'Hijacked.', edit_note: 'Hijacked.' } },
      { method: 'DELETE', url: `/v1/links/${link.id}` },
      { method: 'PATCH', url: `/v1/reviews/${review.id}`, body: { verdict: 'true' } },
      { method: 'DELETE', url: `/v1/reviews/${review.id}` },
      { method: 'POST', url: '/v1/keys', body: { name: 'escalate', scopes: ['admin'] } },
      { method: 'DELETE', url: `/v1/keys/${spare.body.id}` },
      // Creates: anyone with a write key may create, so only keyless, bad and read keys are expected to fail.
      { method: 'POST', url: '/v1/parties', body: { slug: 'matrix-new', name: 'New', kind: 'media' }, creates: true },
      { method: 'POST', url: '/v1/claims', body: newClaim, creates: true },
      { method: 'POST', url: `/v1/claims/${claim.id}/rebuttals`, body: { claim_id: answer.id }, creates: true },
      {
        method: 'POST',
        url: '/v1/links',
        body: { from_claim_id: claim.id, to_claim_id: answer.id, kind: 'supports' },
        creates: true,
      },
    ]
    const before = await databaseText(RECORD_TABLES)
    let attempts = 0
    let unauthorisedSuccesses = 0
    for (const [who, token] of callers) {
      for (const mutation of mutations) {
        if (mutation.creates === true && who === 'another writer') continue
        attempts++
        const response = await call(app, mutation.method, mutation.url, mutation.body, bearer(token))
        if (response.status < 400) unauthorisedSuccesses++
        t.ok(
          response.status === 401 || response.status === 403,
          `${who}: ${mutation.method} ${mutation.url} is ${response.status}`,
        )
      }
    }
    // An import as another writer: lines that would change the owner's records are refused.
    const importLine = JSON.stringify({
      type: 'party',
      ref: 'hijack',
      slug: 'matrix-party',
      name: 'Hijacked',
      kind: 'military',
    })
    const imported = await callRaw(app, 'POST', '/v1/import', `${importLine}\n`, {
      ...bearer(keys.otherWrite),
      'content-type': 'application/x-ndjson',
    })
    attempts++
    t.equal(imported.status, 422, 'an import cannot change what another key created')
    t.match(imported.body.line_errors, [{ line: 1, problem: { code: 'forbidden' } }])
    t.equal(await databaseText(RECORD_TABLES), before, 'not a row changed')
    t.equal(unauthorisedSuccesses, 0, `0 unauthorised successes in ${attempts} attempts`)
    t.comment(`security matrix: ${attempts} attempts, ${unauthorisedSuccesses} unauthorised successes`)

    // The owner and an admin can do what the others could not.
    t.equal((await call(app, 'PATCH', `/v1/claims/${claim.id}`, { text: 'Edited.' }, bearer(owner))).status, 200)
    t.equal((await call(app, 'DELETE', `/v1/reviews/${review.id}`, undefined, bearer(keys.admin))).status, 204)
  },
)
