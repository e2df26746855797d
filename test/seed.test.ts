import { readFileSync } from 'node:fs'
import { sql } from 'kysely'
import t from 'tap'
import { loadDataSet, parseDataSet } from '../src/services/data-set.service.js'
import { derivedStateErrors } from './helpers/derived-state.js'
import { bearer, buildTestApp, call } from './helpers/test-app.js'
import type { Dispute, PartyRef, RebuttalSummary } from './helpers/wire-types.js'

const { app, database, keys } = await buildTestApp(t)
const example = JSON.parse(readFileSync(new URL('../examples/nagorno-karabakh-2020.json', import.meta.url), 'utf8'))

/** Every row of every table, as text: equal snapshots mean nothing was written. */
async function snapshot() {
  const { rows } = await sql<{ rows: string }>`
    SELECT (SELECT coalesce(json_agg(p ORDER BY p.id), '[]') FROM parties p)::text
        || (SELECT coalesce(json_agg(e ORDER BY e.id), '[]') FROM events e)::text
        || (SELECT coalesce(json_agg(c ORDER BY c.id), '[]') FROM claims c)::text
        || (SELECT coalesce(json_agg(v ORDER BY v.claim_id, v.version), '[]') FROM claim_versions v)::text
        || (SELECT coalesce(json_agg(l ORDER BY l.id), '[]') FROM links l)::text AS rows`.execute(database.db)
  return rows[0]?.rows
}

t.test('the example data set loads, and loading it again changes nothing', async (t) => {
  const first = await loadDataSet(database.db, parseDataSet(example))
  t.same(first, {
    parties: { created: example.parties.length, unchanged: 0 },
    events: { created: example.events.length, unchanged: 0 },
    claims: { created: example.claims.length, unchanged: 0 },
    links: { created: example.links.length, unchanged: 0 },
  })
  const after = await snapshot()
  const second = await loadDataSet(database.db, parseDataSet(example))
  t.same(second, {
    parties: { created: 0, unchanged: example.parties.length },
    events: { created: 0, unchanged: example.events.length },
    claims: { created: 0, unchanged: example.claims.length },
    links: { created: 0, unchanged: example.links.length },
  })
  t.equal(await snapshot(), after, 'not a row changed')
  t.same(await derivedStateErrors(database.db), { claims: [], links: [], pairs: [], copies: [] })
})

t.test('the seeded demo answers the disputes question of the README', async (t) => {
  const disputes = await call(app, 'GET', '/v1/disputes')
  const pipeline = disputes.body.data.find((d: Dispute) => d.claim.id === '5eed0000-0000-4000-8000-000000000001')
  t.match(pipeline, { claim: { party: { slug: 'az-defence-ministry' }, status: 'disputed' } })
  t.same(
    pipeline.claim.rebutted_by.map((p: PartyRef) => p.slug),
    ['am-foreign-ministry'],
  )
  t.same(
    pipeline.latest_rebuttals.map((r: RebuttalSummary) => [r.claim.id, r.claim.party.slug]),
    [['5eed0000-0000-4000-8000-000000000002', 'am-foreign-ministry']],
  )
  const ministry = await call(app, 'GET', '/v1/parties/az-defence-ministry')
  t.equal(ministry.body.side.slug, 'azerbaijan', 'the ministry speaks for its state')
})

t.test('a data set that breaks a rule is not loaded at all', async (t) => {
  const before = await snapshot()
  const party = { slug: 'seed-test-party', name: 'Seed test', kind: 'media' }
  const claim = (n: number) => ({
    id: `5eed0000-0000-4000-8000-0000000009${String(n).padStart(2, '0')}`,
    party: 'seed-test-party',
    text: `Claim ${n}`,
    stated_at: '2020-10-07T00:00:00Z',
  })
  const sameParty = {
    parties: [party],
    claims: [claim(1), claim(2)],
    links: [{ from: claim(2).id, to: claim(1).id, kind: 'rebuts' }],
  }
  await t.rejects(
    loadDataSet(database.db, parseDataSet(sameParty)),
    { code: 'unprocessable-entity', message: /^links\[0\]: from is a claim of the same party: .*different parties/ },
    'a link within one party is refused',
  )
  t.equal(await snapshot(), before, 'and the party and claims before it were not kept either')

  t.throws(
    () => parseDataSet({ parties: [{ ...party, colour: 'red' }], claims: [{ ...claim(3), id: 'x' }], links: [] }),
    {
      name: 'InvalidDataSetError',
      message: /parties\[0\]\.colour is not a known field\n.*claims\[0\]\.id must be a valid uuid/,
    },
    'a data set that does not fit the schema is refused, every bad field named',
  )
})

t.test('what was deleted since the last load stays deleted', async (t) => {
  const denial = '5eed0000-0000-4000-8000-000000000002'
  // Loaded from the command line, by no key: a write key may not delete it, an admin key may.
  t.equal((await call(app, 'DELETE', `/v1/claims/${denial}`)).status, 403)
  t.equal((await call(app, 'DELETE', `/v1/claims/${denial}`, undefined, bearer(keys.admin))).status, 204)
  const before = await snapshot()
  const counts = await loadDataSet(database.db, parseDataSet(example))
  t.equal(counts.claims.created, 0, 'the deleted claim is not made again')
  t.equal(counts.links.created, 0, 'nor are its links')
  t.equal(await snapshot(), before)
})

t.test('a party deleted since the last load stays deleted', async (t) => {
  const dataSet = parseDataSet({ parties: [{ slug: 'seed-gone', name: 'Gone', kind: 'media' }], claims: [], links: [] })
  t.equal((await loadDataSet(database.db, dataSet)).parties.created, 1)
  t.equal((await call(app, 'DELETE', '/v1/parties/seed-gone', undefined, bearer(keys.admin))).status, 204)
  t.same((await loadDataSet(database.db, dataSet)).parties, { created: 0, unchanged: 1 })
  t.equal((await call(app, 'GET', '/v1/parties/seed-gone')).status, 410)
})
