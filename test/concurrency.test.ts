import { sql } from 'kysely'
import t from 'tap'
import { loadDataSet, parseDataSet } from '../src/services/data-set.service.js'
import { derivedStateErrors } from './helpers/derived-state.js'
import { buildTestApp, call } from './helpers/test-app.js'
import { serverUrl } from './helpers/test-database.js'
import type { Claim } from './helpers/wire-types.js'

const { app, database } = await buildTestApp(t)

// On a server these requests really overlap (a pool of connections); the embedded database serialises them, so
// there the test only checks the outcome rules, not the locking.
t.comment(serverUrl ? 'concurrent requests on a PostgreSQL server' : 'the embedded database serialises requests')

t.test('a party deleted while claims are created for it never leaves a live claim on a deleted party', async (t) => {
  for (let round = 0; round < 15; round++) {
    const slug = `racing-party-${round}`
    t.equal((await call(app, 'POST', '/v1/parties', { slug, name: slug, kind: 'official' })).status, 201)
    const claim = {
      party: slug,
      text: 'A statement made while the party is deleted.',
      stated_at: '2020-10-01T00:00:00Z',
    }
    const creates = Array.from({ length: 4 }, () => call(app, 'POST', '/v1/claims', claim))
    const results = await Promise.all([...creates, call(app, 'DELETE', `/v1/parties/${slug}`)])
    const deleteStatus = results.at(-1)!.status
    const created = results.slice(0, -1).filter((r) => r.status === 201).length

    t.ok([204, 409].includes(deleteStatus), `the delete answers 204 or 409, not ${deleteStatus}`)
    t.ok(
      results.slice(0, -1).every((r) => r.status === 201 || r.status === 422),
      'each create is 201 or 422',
    )
    const { rows } = await sql<{ live_claims: string; party_deleted: boolean }>`
      SELECT count(c.id) FILTER (WHERE c.deleted_at IS NULL) AS live_claims, p.deleted_at IS NOT NULL AS party_deleted
      FROM parties p LEFT JOIN claims c ON c.party_id = p.id
      WHERE p.slug = ${slug}
      GROUP BY p.id`.execute(database.db)
    const [state] = rows
    if (deleteStatus === 204) {
      t.equal(Number(state?.live_claims), 0, 'a deleted party has no live claims')
      t.ok(state?.party_deleted)
    } else {
      t.equal(Number(state?.live_claims), created, 'the delete was refused because claims exist')
      t.notOk(state?.party_deleted)
    }
  }
})

/**
 * The deadlocks PostgreSQL has detected in this test's database so far (0 on the embedded database, which has one
 * session). Statistics are flushed first, so a deadlock of a request that just ended is counted.
 */
async function deadlocks(): Promise<number> {
  if (!serverUrl) return 0
  await sql`SELECT pg_stat_force_next_flush()`.execute(database.db)
  const { rows } = await sql<{ deadlocks: string }>`
    SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`.execute(database.db)
  return Number(rows[0]?.deadlocks)
}

/** Creates a party per slug, and returns a claim maker that states each claim a minute after the previous one. */
async function claimsOf(...slugs: string[]) {
  for (const slug of slugs) await call(app, 'POST', '/v1/parties', { slug, name: slug, kind: 'official' })
  let minute = 0
  return async (party: string) => {
    minute++
    const stated_at = new Date(Date.UTC(2020, 9, 1, 0, minute)).toISOString()
    const response = await call(app, 'POST', '/v1/claims', { party, text: `Said by ${party}`, stated_at })
    if (response.status !== 201) throw new Error(`creating a claim: ${response.raw}`)
    return response.body as Claim
  }
}

t.test('parallel rebuttals of one claim are all counted', async (t) => {
  const claimBy = await claimsOf('counted-claimant', 'counted-rebutter')
  const target = await claimBy('counted-claimant')
  const existing = await Promise.all(Array.from({ length: 10 }, () => claimBy('counted-rebutter')))
  const results = await Promise.all([
    // Half link existing claims, half record a counter-claim with its link in the same call.
    ...existing.map((rebuttal) => call(app, 'POST', `/v1/claims/${target.id}/rebuttals`, { claim_id: rebuttal.id })),
    ...Array.from({ length: 10 }, (_, i) =>
      call(app, 'POST', `/v1/claims/${target.id}/rebuttals`, {
        claim: { party: 'counted-rebutter', text: `Counter-claim ${i}`, stated_at: '2021-01-01T00:00:00Z' },
      }),
    ),
  ])
  t.same(
    results.map((r) => r.status),
    Array(20).fill(201),
    'every rebuttal is recorded',
  )
  const read = (await call(app, 'GET', `/v1/claims/${target.id}`)).body
  t.equal(read.rebuttal_count, 20, 'and counted')
  t.equal(read.last_response_at, '2021-01-01T00:00:00.000Z')

  // The same links deleted in parallel, half through the link and half through the rebutting claim.
  const deletes = results.map((r, i) =>
    i % 2 === 0
      ? call(app, 'DELETE', `/v1/links/${r.body.link.id}`)
      : call(app, 'DELETE', `/v1/claims/${r.body.claim.id}`),
  )
  t.same(
    (await Promise.all(deletes)).map((r) => r.status),
    Array(20).fill(204),
  )
  t.match((await call(app, 'GET', `/v1/claims/${target.id}`)).body, {
    status: 'unchallenged',
    rebuttal_count: 0,
    last_response_at: null,
  })
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

t.test('the same link made twice at once is made once', async (t) => {
  const claimBy = await claimsOf('twice-a', 'twice-b')
  for (let round = 0; round < 10; round++) {
    const [to, from] = [await claimBy('twice-a'), await claimBy('twice-b')]
    const body = { from_claim_id: from.id, to_claim_id: to.id, kind: 'rebuts' }
    const statuses = (await Promise.all([1, 2, 3].map(() => call(app, 'POST', '/v1/links', body)))).map((r) => r.status)
    t.same(statuses.sort(), [201, 409, 409], `round ${round}: one 201, the others 409`)
    t.equal((await call(app, 'GET', `/v1/claims/${to.id}`)).body.rebuttal_count, 1)
  }
})

t.test('claims deleted while links to and from them are made leave no live link on a deleted claim', async (t) => {
  const claimBy = await claimsOf('race-a', 'race-b', 'race-c')
  for (let round = 0; round < 10; round++) {
    const victim = await claimBy('race-a')
    const answered = await claimBy('race-b')
    const responders = await Promise.all([claimBy('race-b'), claimBy('race-c'), claimBy('race-c')])
    await call(app, 'POST', '/v1/links', { from_claim_id: victim.id, to_claim_id: answered.id, kind: 'rebuts' })
    const results = await Promise.all([
      ...responders.map((r) =>
        call(app, 'POST', '/v1/links', { from_claim_id: r.id, to_claim_id: victim.id, kind: 'rebuts' }),
      ),
      call(app, 'POST', '/v1/links', { from_claim_id: victim.id, to_claim_id: answered.id, kind: 'supports' }),
      call(app, 'PATCH', `/v1/claims/${victim.id}`, { stated_at: '2022-01-01T00:00:00Z' }),
      call(app, 'DELETE', `/v1/claims/${victim.id}`),
    ])
    const statuses = results.map((r) => r.status)
    t.ok(
      statuses.slice(0, 3).every((s) => s === 201 || s === 410 || s === 422),
      `round ${round}: links are made or refused as to a deleted claim, 410 (${statuses})`,
    )
    t.ok(
      [409, 410, 422].includes(statuses[3]!),
      'a support beside the rebuttal is refused: as a second link between the same claims, to a deleted claim, ' +
        `or out of time order (${statuses[3]})`,
    )
    t.ok(
      [200, 410, 422].includes(statuses[4]!),
      `the edit happens before the delete, finds the claim gone, or would break the time order (${statuses[4]})`,
    )
    t.equal(statuses[5], 204, 'the delete succeeds')
    t.match((await call(app, 'GET', `/v1/claims/${answered.id}`)).body, { rebuttal_count: 0, support_count: 0 })
  }
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

t.test('edits of when responses were stated, made in parallel, leave the latest as the last response', async (t) => {
  const claimBy = await claimsOf('times-a', 'times-b')
  const target = await claimBy('times-a')
  const responders = await Promise.all(Array.from({ length: 8 }, () => claimBy('times-b')))
  await Promise.all(
    responders.map((r) =>
      call(app, 'POST', '/v1/links', { from_claim_id: r.id, to_claim_id: target.id, kind: 'rebuts' }),
    ),
  )
  const edits = responders.map((r, i) =>
    call(app, 'PATCH', `/v1/claims/${r.id}`, { stated_at: new Date(Date.UTC(2023, 0, 1 + i)).toISOString() }),
  )
  t.same(
    (await Promise.all(edits)).map((r) => r.status),
    Array(8).fill(200),
  )
  t.equal((await call(app, 'GET', `/v1/claims/${target.id}`)).body.last_response_at, '2023-01-08T00:00:00.000Z')
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

t.test('a claim edited and deleted while links to and from it come and go: no deadlock', async (t) => {
  const claimBy = await claimsOf('tangle-a', 'tangle-b', 'tangle-c')
  const before = await deadlocks()
  for (let round = 0; round < 30; round++) {
    const [x, w, v] = [await claimBy('tangle-a'), await claimBy('tangle-b'), await claimBy('tangle-c')]
    const results = await Promise.all([
      call(app, 'PATCH', `/v1/claims/${x.id}`, { stated_at: '2021-01-01T00:00:00Z' }),
      call(app, 'POST', '/v1/links', { from_claim_id: x.id, to_claim_id: w.id, kind: 'rebuts' }),
      call(app, 'POST', '/v1/links', { from_claim_id: w.id, to_claim_id: x.id, kind: 'rebuts' }),
      call(app, 'POST', '/v1/links', { from_claim_id: x.id, to_claim_id: v.id, kind: 'supports' }),
      call(app, 'DELETE', `/v1/claims/${x.id}`),
    ])
    const statuses = results.map((r) => r.status)
    t.ok(
      statuses.every((status) => [200, 201, 204, 410, 422].includes(status)),
      `round ${round}: each request succeeds or finds the claim gone (${statuses})`,
    )
  }
  // Writers lock claims in one order; had two deadlocked, PostgreSQL would have counted it.
  t.equal((await deadlocks()) - before, 0, 'no deadlock was detected')
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

t.test('a random mix of parallel link, claim and edit requests leaves every count right', async (t) => {
  const parties = ['mix-a', 'mix-b', 'mix-c', 'mix-d']
  const claimBy = await claimsOf(...parties)
  const pool: Array<{ id: string; party: string }> = []
  for (let i = 0; i < 24; i++) {
    const party = parties[i % parties.length]!
    pool.push({ id: (await claimBy(party)).id, party })
  }
  // A fixed sequence of pseudo-random choices (mulberry32), so that a failure can be replayed.
  let seed = 20201006
  const next = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x)
    return (((x ^ (x >>> 14)) >>> 0) / 4294967296) * n
  }
  const pick = () => pool[Math.floor(next(pool.length))]!
  const linkIds: string[] = []
  const statuses: Record<number, number> = {}
  const request = async () => {
    const choice = Math.floor(next(20))
    let response
    if (choice < 10) {
      // Mostly claims of two parties; now and then one party, which must be refused.
      const from = pick()
      let to = pick()
      while (to.party === from.party && next(8) >= 1) to = pick()
      const kind = next(4) < 1 ? 'supports' : 'rebuts'
      response = await call(app, 'POST', '/v1/links', { from_claim_id: from.id, to_claim_id: to.id, kind })
      if (response.status === 201) linkIds.push(response.body.id)
    } else if (choice < 14 && linkIds.length > 0) {
      response = await call(app, 'DELETE', `/v1/links/${linkIds[Math.floor(next(linkIds.length))]}`)
    } else if (choice < 16) {
      const stated_at = new Date(Date.UTC(2020, 9, 1 + Math.floor(next(60)))).toISOString()
      response = await call(app, 'PATCH', `/v1/claims/${pick().id}`, { stated_at })
    } else if (choice < 19) {
      const target = pick()
      const party = parties[Math.floor(next(parties.length))]!
      response = await call(app, 'POST', `/v1/claims/${target.id}/rebuttals`, {
        claim: { party, text: 'A counter-claim', stated_at: '2020-12-01T00:00:00Z' },
      })
      if (response.status === 201) pool.push({ id: response.body.claim.id, party })
    } else {
      response = await call(app, 'DELETE', `/v1/claims/${pick().id}`)
    }
    if (response !== undefined) statuses[response.status] = (statuses[response.status] ?? 0) + 1
  }
  // Eight clients, each sending its requests one after another.
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 40; i++) await request()
    }),
  )
  t.comment(`statuses: ${JSON.stringify(statuses)}`)
  t.ok(
    Object.keys(statuses).every((status) => ['200', '201', '204', '409', '410', '422'].includes(status)),
    'every answer is a success or a refusal the rules call for, never a 5xx',
  )
  t.ok((statuses[201] ?? 0) > 20, 'and a good share of the writes happened')
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

t.test(
  'data sets loaded beside each other and beside API writers: all loaded, counts right, no deadlock',
  async (t) => {
    const parties = ['load-a', 'load-b', 'load-c'].map((slug) => ({ slug, name: slug, kind: 'media' as const }))
    const before = await deadlocks()
    for (let round = 0; round < 6; round++) {
      const claimIds = Array.from(
        { length: 12 },
        (_, i) => `10ad0000-0000-4000-8000-${String(round * 100 + i).padStart(12, '0')}`,
      )
      const claims = claimIds.map((id, i) => ({
        id,
        party: parties[i % 3]!.slug,
        text: `Loaded claim ${i}`,
        // One time for all: the links run both ways, and a response is not stated before what it answers.
        stated_at: '2020-10-01T00:00:00.000Z',
      }))
      // Each claim rebuts the next one (the first set), and also the one after (the second set, holding the first).
      const chain = (step: number) =>
        claimIds.map((from, i) => ({ from, to: claimIds[(i + step) % claimIds.length]!, kind: 'rebuts' as const }))
      const first = parseDataSet({ parties, claims, links: chain(1) })
      const second = parseDataSet({ parties, claims, links: [...chain(1), ...chain(2)] })
      await loadDataSet(database.db, first)
      // Two loads of the second set make its new links while API writers link the same claims both ways,
      // crossing their locks on claims and on the matrix's pair counts.
      const results = await Promise.all([
        loadDataSet(database.db, second),
        loadDataSet(database.db, second),
        ...claimIds.flatMap((id, i) => [
          call(app, 'POST', '/v1/links', { from_claim_id: id, to_claim_id: claimIds[(i + 4) % 12], kind: 'rebuts' }),
          call(app, 'POST', '/v1/links', { from_claim_id: claimIds[(i + 4) % 12], to_claim_id: id, kind: 'rebuts' }),
        ]),
      ])
      const [one, other] = results as Array<{ links: { created: number } }>
      t.equal(one!.links.created + other!.links.created, claimIds.length, `round ${round}: each new link made once`)
      t.ok(
        results.slice(2).every((r) => [201, 409].includes((r as { status: number }).status)),
        'the API writers are answered as the rules say',
      )
    }
    t.equal((await deadlocks()) - before, 0, 'no deadlock was detected')
    t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
  },
)
