import t from 'tap'
import { sql } from 'kysely'
import { derivedStateDrift } from '../src/services/derived-state.js'
import { bearer, buildTestApp, call, callRaw } from './helpers/test-app.js'
import type { Claim, Link, LinkVersion, Party, PartyVersion, Problem } from './helpers/wire-types.js'

const { app, database, keys } = await buildTestApp(t)

async function created<T>(url: string, body: unknown, token = keys.write): Promise<T> {
  const response = await call(app, 'POST', url, body, bearer(token))
  if (response.status !== 201) throw new Error(`POST ${url}: ${response.status} ${response.raw}`)
  return response.body as T
}

const party = (slug: string, extra: Record<string, unknown> = {}) =>
  created<Party>('/v1/parties', { slug, name: `The ${slug}`, kind: 'state', ...extra })

const claim = (partySlug: string, text: string, statedAt: string) =>
  created<Claim>('/v1/claims', { party: partySlug, text, stated_at: statedAt })

async function history<V>(path: string): Promise<V[]> {
  const response = await call(app, 'GET', `${path}/history`)
  if (response.status !== 200) throw new Error(`GET ${path}/history: ${response.status} ${response.raw}`)
  return response.body.data as V[]
}

/** Rows of a table that name a record, counted straight from the database. */
async function versionRows(table: 'party_versions' | 'link_versions', column: string, id: string) {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE ${sql.ref(column)} = ${id}`.execute(database.db)
  return rows[0]?.n
}

t.test("a party's history names the key that made each version and its note", async (t) => {
  const side = await party('history-state')
  const made = await party('history-ministry', { kind: 'government' })
  const renamed = await call(
    app,
    'PATCH',
    '/v1/parties/history-ministry',
    { name: 'Ministry of History', side: 'history-state', edit_note: 'Renamed by decree.' },
    bearer(keys.admin),
  )
  t.equal(renamed.status, 200)
  t.equal(renamed.body.version, 2)
  t.notOk('edit_note' in renamed.body, 'the note is not a field of the party')
  const noted = await call(app, 'PATCH', `/v1/parties/${made.id}`, { edit_note: 'Checked against the register.' })
  t.equal(noted.status, 200)
  t.equal(noted.body.version, 3, 'a note alone makes a version')

  // By slug and by id, the same history, newest first.
  const entries = await history<PartyVersion>('/v1/parties/history-ministry')
  t.same(await history<PartyVersion>(`/v1/parties/${made.id}`), entries)
  t.same(
    entries.map((entry) => [entry.version, entry.recorded_by?.name ?? null, entry.edit_note]),
    [
      [3, 'test writer', 'Checked against the register.'],
      [2, 'test admin', 'Renamed by decree.'],
      [1, 'test writer', null],
    ],
  )
  t.same(entries[2]?.party, {
    slug: 'history-ministry',
    name: 'The history-ministry',
    kind: 'government',
    country: null,
    side: null,
    wikidata: null,
    description: null,
    url: null,
    logo: null,
  })
  t.equal(entries[1]?.party.name, 'Ministry of History')
  t.same(entries[1]?.party.side, { id: side.id, slug: side.slug, name: side.name })
  t.ok(entries.every((entry) => !('deleted' in entry)))

  // Paged one at a time.
  const first = await call(app, 'GET', '/v1/parties/history-ministry/history?limit=2')
  t.same(
    (first.body.data as PartyVersion[]).map((entry) => entry.version),
    [3, 2],
  )
  const rest = await call(app, 'GET', `/v1/parties/history-ministry/history?limit=2&cursor=${first.body.next_cursor}`)
  t.same(
    (rest.body.data as PartyVersion[]).map((entry) => entry.version),
    [1],
  )
  t.equal(rest.body.next_cursor, null)
  const foreign = await call(app, 'GET', `/v1/links/${made.id}/history?cursor=${first.body.next_cursor}`)
  t.equal(foreign.status, 400, "a party history's cursor is refused by a link history")
})

t.test('an edit note is 1 to 500 characters', async (t) => {
  await party('noted-party')
  for (const note of ['', 'x'.repeat(501)]) {
    const refused = await call(app, 'PATCH', '/v1/parties/noted-party', { name: 'Noted', edit_note: note })
    t.equal(refused.status, 400)
    t.same(
      (refused.body as Problem).errors?.map((error) => error.field),
      ['edit_note'],
    )
  }
  t.equal((await history<PartyVersion>('/v1/parties/noted-party')).length, 1, 'nothing was recorded')
})

t.test("a deleted party's history stays readable, its newest entry the deletion", async (t) => {
  const gone = await party('history-gone')
  t.equal((await call(app, 'PATCH', '/v1/parties/history-gone', { description: 'Soon gone.' })).status, 200)
  t.equal((await call(app, 'DELETE', '/v1/parties/history-gone', undefined, bearer(keys.admin))).status, 204)
  const tombstone = await call(app, 'GET', `/v1/parties/${gone.id}`)
  t.equal(tombstone.status, 410)
  t.equal(tombstone.body.tombstone.history, `/v1/parties/${gone.id}/history`)

  for (const key of [gone.id, 'history-gone']) {
    const entries = await history<PartyVersion>(`/v1/parties/${key}`)
    t.same(
      entries.map((entry) => [
        entry.version,
        entry.recorded_by?.name,
        entry.party.description,
        entry.deleted?.deleted_by?.name,
      ]),
      [
        [3, 'test admin', 'Soon gone.', 'test admin'],
        [2, 'test writer', 'Soon gone.', undefined],
        [1, 'test writer', null, undefined],
      ],
      `by ${key}`,
    )
  }
  t.equal((await call(app, 'GET', '/v1/parties/never-was/history')).status, 404)
  t.equal((await call(app, 'GET', '/v1/parties/00000000-0000-4000-8000-000000000000/history')).status, 404)
})

t.test("a link's history: made, edited with a note, deleted", async (t) => {
  await party('link-history-a')
  await party('link-history-b')
  const said = await claim('link-history-a', 'Said.', '2020-10-06T00:00:00Z')
  const early = await claim('link-history-b', 'Answered ahead of time.', '2020-10-05T00:00:00Z')
  const link = await created<Link>('/v1/links', {
    from_claim_id: early.id,
    to_claim_id: said.id,
    kind: 'rebuts',
    prebuttal: true,
  })

  const edited = await call(app, 'PATCH', `/v1/links/${link.id}`, {
    note: 'Calls it a lie before it is said.',
    edit_note: 'Added the note.',
  })
  t.equal(edited.status, 200)
  t.equal(edited.body.note, 'Calls it a lie before it is said.')
  t.equal(edited.body.version, 2)
  t.equal(edited.body.prebuttal, true, 'an absent field stays as it is')

  const outOfOrder = await call(app, 'PATCH', `/v1/links/${link.id}`, { prebuttal: false })
  t.equal(outOfOrder.status, 422)
  t.equal((outOfOrder.body as Problem).code, 'out-of-time-order')
  const stale = await call(app, 'PATCH', `/v1/links/${link.id}`, { note: null }, { 'if-match': '"1"' })
  t.equal(stale.status, 412)
  const foreign = await call(app, 'PATCH', `/v1/links/${link.id}`, { note: null }, bearer(keys.otherWrite))
  t.equal(foreign.status, 403, 'a key of another team changes nothing')
  const ends = await call(app, 'PATCH', `/v1/links/${link.id}`, { kind: 'supports' })
  t.equal(ends.status, 400, "a link's kind cannot change")

  const cleared = await call(app, 'PATCH', `/v1/links/${link.id}`, { note: null }, bearer(keys.admin))
  t.equal(cleared.status, 200)
  t.equal(cleared.body.note, null)
  t.equal((await call(app, 'DELETE', `/v1/links/${link.id}`)).status, 204)
  t.equal((await call(app, 'PATCH', `/v1/links/${link.id}`, { note: 'x' })).status, 410)

  const entries = await history<LinkVersion>(`/v1/links/${link.id}`)
  t.same(
    entries.map((entry) => [entry.version, entry.recorded_by?.name, entry.edit_note, entry.link, 'deleted' in entry]),
    [
      [4, 'test writer', null, { note: null, prebuttal: true, aspect: null, measure: null }, true],
      [3, 'test admin', null, { note: null, prebuttal: true, aspect: null, measure: null }, false],
      [
        2,
        'test writer',
        'Added the note.',
        { note: 'Calls it a lie before it is said.', prebuttal: true, aspect: null, measure: null },
        false,
      ],
      [1, 'test writer', null, { note: null, prebuttal: true, aspect: null, measure: null }, false],
    ],
  )
  const gone = await call(app, 'GET', `/v1/links/${link.id}`)
  t.equal(gone.body.tombstone.history, `/v1/links/${link.id}/history`)
  t.equal((await call(app, 'GET', '/v1/links/00000000-0000-4000-8000-000000000000/history')).status, 404)
  t.same(await derivedStateDrift(database.db), [])
})

t.test(
  'a rebuttal with a new counter-claim, and the links a deleted claim takes with it, keep their history',
  async (t) => {
    await party('rebut-history-a')
    await party('rebut-history-b')
    const said = await claim('rebut-history-a', 'A claim to rebut.', '2020-10-06T00:00:00Z')
    const rebuttal = await call(app, 'POST', `/v1/claims/${said.id}/rebuttals`, {
      claim: { party: 'rebut-history-b', text: 'It is a lie.', stated_at: '2020-10-07T00:00:00Z' },
      note: 'Denied at once.',
    })
    t.equal(rebuttal.status, 201)
    const linkId = rebuttal.body.link.id as string
    t.same(
      (await history<LinkVersion>(`/v1/links/${linkId}`)).map((entry) => [
        entry.version,
        entry.recorded_by?.name,
        entry.link,
      ]),
      [[1, 'test writer', { note: 'Denied at once.', prebuttal: false, aspect: null, measure: null }]],
    )

    t.equal((await call(app, 'DELETE', `/v1/claims/${said.id}`, undefined, bearer(keys.admin))).status, 204)
    const entries = await history<LinkVersion>(`/v1/links/${linkId}`)
    t.same(
      entries.map((entry) => [entry.version, entry.recorded_by?.name, entry.deleted?.deleted_by?.name]),
      [
        [2, 'test admin', 'test admin'],
        [1, 'test writer', undefined],
      ],
      'the key that deleted the claim made the last version of its link',
    )
  },
)

t.test('an import records its key on the versions of the parties and links it makes and changes', async (t) => {
  const lines = (name: string, note: string) =>
    [
      { type: 'party', ref: 'imp-a', slug: 'imported-a', name, kind: 'state' },
      { type: 'party', ref: 'imp-b', slug: 'imported-b', name: 'Imported B', kind: 'state' },
      { type: 'claim', ref: 'imp-said', party: { ref: 'imp-a' }, text: 'Said.', stated_at: '2020-10-06T00:00:00Z' },
      { type: 'claim', ref: 'imp-denied', party: { ref: 'imp-b' }, text: 'No.', stated_at: '2020-10-07T00:00:00Z' },
      { type: 'link', ref: 'imp-link', kind: 'rebuts', from: { ref: 'imp-denied' }, to: { ref: 'imp-said' }, note },
    ]
      .map((line) => JSON.stringify(line))
      .join('\n') + '\n'
  const post = (body: string) => callRaw(app, 'POST', '/v1/import', body, { 'content-type': 'application/x-ndjson' })
  const first = await post(lines('Imported A', 'First note.'))
  t.equal(first.status, 200, first.raw)
  // Refs are the importing key's own: the same key imports the same records again, and updates them.
  const again = await post(lines('Imported A, renamed', 'Second note.'))
  t.equal(again.status, 200, again.raw)
  t.match(again.body.counts, { parties: { updated: 1 }, links: { updated: 1 } })

  t.same(
    (await history<PartyVersion>('/v1/parties/imported-a')).map((entry) => [
      entry.version,
      entry.recorded_by?.name,
      entry.edit_note,
      entry.party.name,
    ]),
    [
      [2, 'test writer', null, 'Imported A, renamed'],
      [1, 'test writer', null, 'Imported A'],
    ],
  )
  const links = await call(app, 'GET', '/v1/links?party=imported-a')
  const linkId = (links.body.data as Link[])[0]?.id as string
  t.same(
    (await history<LinkVersion>(`/v1/links/${linkId}`)).map((entry) => [
      entry.version,
      entry.recorded_by?.name,
      entry.link.note,
    ]),
    [
      [2, 'test writer', 'Second note.'],
      [1, 'test writer', 'First note.'],
    ],
  )
  t.same(await derivedStateDrift(database.db), [])
})

t.test('erasing removes the history of a party, and of the links that go with an erased claim', async (t) => {
  const side = await party('erased-side')
  const speaker = await party('erased-speaker', { side: 'erased-side' })
  t.equal((await call(app, 'PATCH', '/v1/parties/erased-speaker', { side: null })).status, 200)
  await party('erased-other')
  const said = await claim('erased-other', 'Said.', '2020-10-06T00:00:00Z')
  const answer = await claim('erased-speaker', 'Answered.', '2020-10-07T00:00:00Z')
  const link = await created<Link>('/v1/links', { from_claim_id: answer.id, to_claim_id: said.id, kind: 'rebuts' })
  t.equal((await call(app, 'PATCH', `/v1/links/${link.id}`, { note: 'Noted.' })).status, 200)
  t.equal(await versionRows('link_versions', 'link_id', link.id), 2)

  const erasedClaim = await call(app, 'POST', `/v1/claims/${answer.id}/erase`, undefined, bearer(keys.admin))
  t.equal(erasedClaim.status, 200)
  t.same(erasedClaim.body.removed.links, [link.id])
  t.equal(erasedClaim.body.removed.versions, 3, "the claim's version and its link's two")
  t.equal(await versionRows('link_versions', 'link_id', link.id), 0)
  t.equal((await call(app, 'GET', `/v1/links/${link.id}/history`)).status, 404)

  t.equal((await call(app, 'DELETE', '/v1/parties/erased-side', undefined, bearer(keys.admin))).status, 204)
  const erasedParty = await call(app, 'POST', '/v1/parties/erased-side/erase', undefined, bearer(keys.admin))
  t.equal(erasedParty.status, 200)
  t.equal(erasedParty.body.removed.versions, 1)
  t.equal(await versionRows('party_versions', 'party_id', side.id), 0)
  t.equal((await call(app, 'GET', `/v1/parties/${side.id}/history`)).status, 404)
  const speakerHistory = await history<PartyVersion>(`/v1/parties/${speaker.id}`)
  t.same(
    speakerHistory.map((entry) => [entry.version, entry.party.side]),
    [
      [2, null],
      [1, null],
    ],
    'no version of another party names the erased one',
  )
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM party_versions WHERE snapshot::text LIKE ${`%${side.id}%`}`.execute(database.db)
  t.equal(rows[0]?.n, 0)
})
