import { sql } from 'kysely'
import t from 'tap'
import { buildTestApp, call } from './helpers/test-app.js'
import { serverUrl } from './helpers/test-database.js'

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
