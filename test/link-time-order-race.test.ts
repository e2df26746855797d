import { sql } from 'kysely'
import t from 'tap'
import { buildTestApp, call } from './helpers/test-app.js'
import { serverUrl } from './helpers/test-database.js'

// Turning a link's prebuttal off and moving one of its claims' stated_at each check the time order; run together,
// each must see what the other committed, so that at most one of them succeeds when both would break the order.
t.test(
  'a link made no prebuttal while its response is moved before the claim it answers never ends out of time order',
  { skip: serverUrl ? false : 'needs DATABASE_URL: the embedded database has one session, so requests never overlap' },
  async (t) => {
    const { app, database } = await buildTestApp(t)
    for (const slug of ['race-speaker', 'race-responder']) {
      t.equal((await call(app, 'POST', '/v1/parties', { slug, name: slug, kind: 'official' })).status, 201)
    }
    const outcomes = new Set<string>()
    for (let round = 0; round < 30; round++) {
      const answered = await call(app, 'POST', '/v1/claims', {
        party: 'race-speaker',
        text: `A statement, round ${round}.`,
        stated_at: '2020-03-01T00:00:00Z',
      })
      const response = await call(app, 'POST', '/v1/claims', {
        party: 'race-responder',
        text: `A rebuttal, round ${round}.`,
        stated_at: '2020-04-01T00:00:00Z',
      })
      const link = await call(app, 'POST', '/v1/links', {
        from_claim_id: response.body.id,
        to_claim_id: answered.body.id,
        kind: 'rebuts',
        prebuttal: true,
      })
      t.equal(link.status, 201)
      const [linkPatch, claimPatch] = await Promise.all([
        call(app, 'PATCH', `/v1/links/${link.body.id}`, { prebuttal: false }),
        call(app, 'PATCH', `/v1/claims/${response.body.id}`, { stated_at: '2020-02-01T00:00:00Z' }),
      ])
      outcomes.add(`${linkPatch.status}/${claimPatch.status}`)
      t.ok(
        [200, 422].includes(linkPatch.status) && [200, 422].includes(claimPatch.status),
        `each PATCH is 200 or 422, not ${linkPatch.status} and ${claimPatch.status}`,
      )
      t.not(linkPatch.status === 200 && claimPatch.status === 200, true, `round ${round}: not both succeed`)
      t.ok(linkPatch.status === 200 || claimPatch.status === 200, `round ${round}: one of them succeeds`)
    }
    const { rows } = await sql<{ id: string }>`
      SELECT l.id FROM links l
      JOIN claims f ON f.id = l.from_claim_id
      JOIN claims a ON a.id = l.to_claim_id
      WHERE l.deleted_at IS NULL AND NOT l.prebuttal AND f.stated_at < a.stated_at`.execute(database.db)
    t.same(rows, [], 'no link that is no prebuttal joins a response stated before the claim it answers')
    t.comment(`outcomes (link/claim): ${[...outcomes].sort().join(', ')}`)
  },
)
