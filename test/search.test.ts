import { sql } from 'kysely'
import t from 'tap'
import { RELEVANCE_CANDIDATES, withoutRepeatedWords } from '../src/repositories/claim.repository.js'
import { buildTestApp, call } from './helpers/test-app.js'
import type { Claim, Page } from './helpers/wire-types.js'

const { app, database } = await buildTestApp(t)

const party = await call(app, 'POST', '/v1/parties', { slug: 'monitor', name: 'Monitor', kind: 'organisation' })
if (party.status !== 201) throw new Error(`party: ${party.status} ${party.raw}`)
// The most relevant claim for "pipeline" is the oldest: it says the word thrice.
const oldest = await call(app, 'POST', '/v1/claims', {
  party: 'monitor',
  text: 'Pipeline, pipeline, pipeline: the pipeline was hit.',
  stated_at: '2019-01-01T00:00:00Z',
})
if (oldest.status !== 201) throw new Error(`claim: ${oldest.status} ${oldest.raw}`)
const oldestId = (oldest.body as Claim).id

t.test('relevance ranks every match while there are few', async (t) => {
  const page = await call(app, 'GET', '/v1/claims?q=pipeline')
  t.equal((page.body as Page<Claim>).data[0]?.id, oldestId)
})

t.test(
  `past ${RELEVANCE_CANDIDATES} matches, relevance ranks the newest; other sorts and exports reach all`,
  async (t) => {
    await sql`
    INSERT INTO claims (party_id, text, stated_at)
    SELECT p.id, 'A pipeline report, number ' || g, timestamptz '2020-01-01 00:00:00+00' + g * interval '1 hour'
    FROM generate_series(1, ${RELEVANCE_CANDIDATES}) g JOIN parties p ON p.slug = 'monitor'
  `.execute(database.db)

    const seen = new Set<string>()
    let url: string | null = '/v1/claims?q=pipeline&limit=200'
    while (url !== null) {
      const response = await call(app, 'GET', url)
      t.equal(response.status, 200)
      const page = response.body as Page<Claim>
      for (const claim of page.data) seen.add(claim.id)
      url = page.next_cursor === null ? null : `/v1/claims?q=pipeline&limit=200&cursor=${page.next_cursor}`
    }
    t.equal(seen.size, RELEVANCE_CANDIDATES, 'the newest matches, each once')
    t.notOk(seen.has(oldestId), 'the oldest match is past the bound')

    const byDate = await call(app, 'GET', '/v1/claims?q=pipeline&sort=stated_at&limit=1')
    t.equal((byDate.body as Page<Claim>).data[0]?.id, oldestId, 'sorted by date, every match is there')
    const exported = await call(app, 'GET', '/v1/claims?q=pipeline&format=ndjson')
    const lines = exported.raw.trim().split('\n')
    t.equal(lines.length, RELEVANCE_CANDIDATES + 1, 'an export ranks every match')
    t.equal((JSON.parse(lines[0] ?? '{}') as Claim).id, oldestId, 'the most relevant first')
  },
)

t.test('a word said again in the query changes nothing of what matches, nor of the order', async (t) => {
  t.equal(withoutRepeatedWords('Pipeline hit pipeline  HIT oil'), 'Pipeline hit oil')
  t.equal(withoutRepeatedWords('oil -pipeline oil'), 'oil -pipeline', 'an exclusion is a word of its own')
  t.equal(withoutRepeatedWords('"oil pipeline" oil'), '"oil pipeline" oil', 'a query with a phrase is kept whole')
  t.equal(withoutRepeatedWords('oil or gas oil'), 'oil or gas oil', 'and one with an OR')
  const ids = async (q: string) =>
    ((await call(app, 'GET', `/v1/claims?q=${encodeURIComponent(q)}&limit=20`)).body as Page<Claim>).data.map(
      (claim) => claim.id,
    )
  const once = await ids('pipeline hit')
  t.ok(once.length > 0)
  t.same(await ids('pipeline hit '.repeat(16)), once)
})
