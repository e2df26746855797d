import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import t from 'tap'
import { runDocumentedCommands, shellBlocks } from './helpers/documented-commands.js'
import { ENGINE_INDEPENDENT } from './helpers/engine-passes.js'
import type { Claim, ClaimReviewDocument, Dispute, Page, ResponseTimes } from './helpers/wire-types.js'

/**
 * docs/cookbook.md, run as written against a live server (on the embedded database, on a free port), so that the
 * recipes cannot drift from what the service does. The first block is the seed-and-start the helper does itself.
 */
const blocks = shellBlocks('docs/cookbook.md', '# Cookbook')
const PIPELINE = '5eed0000-0000-4000-8000-000000000001'
const TOLL = '5eed0000-0000-4000-8000-000000000013'

/** The JSON documents curl printed one after the other (without newlines between them). */
const jsonDocuments = (output: string): unknown[] =>
  JSON.parse(`[${output.trim().replaceAll(/\}\s*\{/g, '},{')}]`) as unknown[]

t.test('every recipe of the cookbook works against a live server', { skip: ENGINE_INDEPENDENT }, async (t) => {
  const [setup = '', ...commands] = blocks
  t.match(
    setup,
    /^npm run seed:example\nexport COUNTERCLAIM_KEY=\$\(npm run --silent keys -- create --name "my first key"\)\nexport COUNTERCLAIM_ADMIN_KEY=\$\(npm run --silent keys -- create --name "legal desk" --scope admin\) +# for erasures\nnpm start\n$/,
    'the cookbook starts by seeding, making a key, then starting',
  )
  t.equal(commands.length, 14, 'fourteen blocks of commands')
  const { outputs, workDir } = await runDocumentedCommands(t, commands)
  const [
    csv = '',
    thread = '',
    counterClaim = '',
    verdict = '',
    jsonLd = '',
    pinned = '',
    imported = '',
    partial = '',
    corrections = '',
    standings = '',
    timeline = '',
    dated = '',
    takedown = '',
    casualties = '',
  ] = outputs

  t.test('disputed claims as CSV and NDJSON', async (t) => {
    const [csvPart = '', ndjsonPart = ''] = csv.split(/(?<=\r\n)(?=\{)/)
    const rows = parse(csvPart, { columns: true }) as Array<Record<string, string>>
    t.ok(rows.length > 0, 'the disputes come as CSV rows')
    t.ok(
      rows.some((row) => row.id === PIPELINE && row.status === 'disputed'),
      'the pipeline claim is there',
    )
    const saved = parse(readFileSync(join(workDir, 'disputes.csv'), 'utf8'), { columns: true }) as Array<
      Record<string, string>
    >
    t.ok(
      saved.every((row) => row.party_slug === 'az-defence-ministry' || row.party_slug === 'azerbaijani-media'),
      `disputes.csv holds the Azerbaijani side's disputed claims (${saved.length})`,
    )
    const lines = ndjsonPart.trim().split('\n')
    t.ok(lines.length > 0)
    for (const line of lines) t.match(JSON.parse(line), { tags: ['casualties'] }, 'one claim per line')
  })

  t.match(thread, /"responses":\[\{"depth":1,"link":\{[^}]*"kind":"rebuts"/, 'the thread shows the rebuttal')
  t.match(counterClaim, /"text":"Fragments of the missile were found near the pipeline\."/)
  t.match(counterClaim, /"link":\{[^}]*"kind":"rebuts"/, 'the counter-claim is linked as a rebuttal')

  t.test('a verdict is recorded and filters the disputes', async (t) => {
    const [party, review] = jsonDocuments(verdict.slice(0, verdict.indexOf('id,party_id'))) as Array<
      Record<string, unknown>
    >
    t.match(party, { slug: 'example-fact-check', kind: 'fact-checker' })
    t.match(review, { claim_id: PIPELINE, verdict: 'unproven', rating_value: 3 })
    const rows = parse(verdict.slice(verdict.indexOf('id,party_id')), { columns: true }) as Array<
      Record<string, string>
    >
    t.same(
      rows.map((row) => row.id),
      [PIPELINE],
      'the pipeline claim is disputed and rated unproven',
    )
  })

  t.test('the ClaimReview JSON-LD', async (t) => {
    const document = JSON.parse(jsonLd) as ClaimReviewDocument
    t.match(document['@graph'], [
      {
        '@type': 'ClaimReview',
        url: 'https://factcheck.example.org/pipeline-missile',
        author: { name: 'Example Fact Check' },
        reviewRating: { alternateName: 'Unproven', ratingValue: 3, bestRating: 5, worstRating: 1 },
        itemReviewed: { '@type': 'Claim', author: { name: 'Azerbaijani Defence Ministry' } },
      },
    ])
  })

  t.test('a verdict given, then the claim edited: the review stays on the words it rated', async (t) => {
    const [checker, edited, stale, document, repinned] = jsonDocuments(pinned) as Array<Record<string, unknown>>
    t.match(checker, { slug: 'example-fact-check', url: 'https://factcheck.example.org/' })
    t.match(edited, { text: 'Shelling of the city centre killed 9 civilians overnight.', version: 2 })
    t.match(edited?.reviews, [{ claim_version: 1, rates_current_wording: false }])
    t.match(stale, { claim_version: 1, rates_current_wording: false, verdict: 'missing-context' })
    t.match(document, {
      '@type': 'ClaimReview',
      claimReviewed: 'Shelling of the city centre killed 12 civilians overnight.',
      author: { name: 'Example Fact Check', logo: 'https://factcheck.example.org/logo.png' },
    })
    t.match(repinned, { claim_version: 2, rates_current_wording: true, verdict: 'mostly-true' })
  })

  t.test('the bulk import, repeated, then with a bad line', async (t) => {
    const [first, second] = jsonDocuments(imported)
    t.match(first, {
      counts: {
        parties: { created: 1 },
        claims: { created: 2 },
        links: { created: 1 },
        reviews: { created: 1 },
      },
      line_error_count: 0,
    })
    t.match(second, {
      counts: {
        parties: { unchanged: 1 },
        claims: { unchanged: 2 },
        links: { unchanged: 1 },
        reviews: { unchanged: 1 },
      },
    })
    const [rejected, kept] = jsonDocuments(partial)
    t.match(rejected, { code: 'import-rejected', line_errors: [{ line: 2, ref: 'bad-link' }] })
    t.match(kept, {
      mode: 'best-effort',
      counts: { claims: { created: 1 }, links: { created: 0 } },
      line_error_count: 1,
    })
  })

  t.test('a figure revised and a claim withdrawn', async (t) => {
    t.match(jsonDocuments(corrections), [
      { counts: { claims: { created: 2 }, links: { created: 2 } }, line_error_count: 0 },
    ])
    const csvStart = standings.indexOf('id,party_id')
    const [figure, disputes] = jsonDocuments(standings.slice(0, csvStart)) as [Claim, Page<Dispute>]
    t.match(figure, { text: /^240 people/, standing: 'corrected', retracted_by: [] })
    t.equal(figure.corrected_by.length, 1, 'the revised figure corrects it')
    t.match(disputes.data, [
      { claim: { id: PIPELINE, standing: 'retracted', status: 'disputed', rebuttal_count: 1 }, latest_rebuttals: [{}] },
    ])
    const figuresStart = standings.indexOf('claim_id,party_slug')
    const rows = parse(standings.slice(csvStart, figuresStart), { columns: true }) as Array<Record<string, string>>
    t.same(rows.map((row) => [row.id, row.standing]).sort(), [
      [PIPELINE, 'retracted'],
      [TOLL, 'corrected'],
    ])
    const tableStart = standings.indexOf('measure,party_slug')
    const figures = parse(standings.slice(figuresStart, tableStart), { columns: true }) as Array<Record<string, string>>
    t.same(
      figures.map((row) => [row.party_slug, row.measure, row.value, row.as_of.slice(0, 10), row.standing]),
      [
        ['armenia', 'deaths', '245', '2020-10-08', 'current'],
        ['armenia', 'deaths', '240', '2020-10-07', 'corrected'],
      ],
      'the death tolls, one row per figure, the revised one first',
    )
    t.equal(figures[1]!.claim_id, TOLL)
    const table = parse(standings.slice(tableStart), { columns: true }) as Array<Record<string, string>>
    t.same(
      table
        .filter((row) => row.measure === 'deaths')
        .map((row) => [row.party_slug, row.latest, row.value, row.standing, row.spread_low, row.spread_high]),
      [
        ['armenia', 'true', '245', 'current', '245', '245'],
        ['armenia', 'false', '240', 'corrected', '245', '245'],
      ],
      "the war's casualty table: the revised toll is Armenia's latest, the first one listed as corrected",
    )
  })
  t.test('what flared up, and who answers fastest', async (t) => {
    const csvStart = timeline.indexOf('party_id,party_slug')
    const [disputes, unanswered, ministry] = jsonDocuments(timeline.slice(0, csvStart)) as [
      Page<Dispute>,
      Page<Claim>,
      ResponseTimes,
    ]
    t.ok(disputes.data.length > 0, 'claims became disputed since the 8th')
    for (const { claim } of disputes.data)
      t.ok(claim.disputed_since! >= '2020-10-08', `${claim.id} became disputed then`)
    const since = disputes.data.map(({ claim }) => claim.disputed_since!)
    t.same(since, [...since].sort().reverse(), 'most recently disputed first')
    t.ok(unanswered.data.length > 0, 'some Armenian claims are unanswered')
    for (const claim of unanswered.data)
      t.match(claim, { rebuttal_count: 0, support_count: 0, first_response_at: null })
    t.match(ministry, { party: { slug: 'am-foreign-ministry' }, answering: { count: Number } })
    t.ok(ministry.answering.count > 0, 'the ministry answers claims of others')
    const rows = parse(timeline.slice(csvStart), { columns: true }) as Array<Record<string, string>>
    t.ok(
      rows.some((row) => row.party_slug === 'am-foreign-ministry'),
      'every party as a CSV row',
    )
  })

  t.test('a statement dated to the day, and a prebuttal', async (t) => {
    const [claim, refused, prebuttal, ...listed] = jsonDocuments(dated) as Array<Record<string, unknown>>
    t.match(claim, { stated_at: '2020-10-05T00:00:00.000Z', stated_at_precision: 'day' })
    t.match(refused, {
      status: 422,
      code: 'out-of-time-order',
      detail: `claim ${String(claim?.id)}, stated 2020-10-05 (day), was stated before claim ${PIPELINE} it answers, stated 2020-10-06 (day)`,
    })
    t.match(prebuttal, { from_claim_id: claim?.id, to_claim_id: PIPELINE, kind: 'rebuts', prebuttal: true })
    t.same(
      listed.map((item) => item.id),
      [claim?.id],
      'the day filter finds the statement of that day',
    )
  })

  t.test('a claim deleted, then erased for a takedown', async (t) => {
    const [deleted, history, erasure] = jsonDocuments(takedown.replace(/\n404\n$/, '')) as Array<Record<string, any>>
    t.match(deleted, { status: 410, code: 'gone', tombstone: { kind: 'claim', deleted_by: { name: 'my first key' } } })
    t.match(history?.data?.[0], { deleted: { deleted_by: { name: 'my first key' } } })
    t.match(erasure, { kind: 'claim', id: deleted?.tombstone?.id, removed: { claims: [deleted?.tombstone?.id] } })
    t.match(takedown, /\n404\n$/, 'then the id answers 404')
  })

  t.test('a casualty table for one incident', async (t) => {
    const csvStart = casualties.indexOf('measure,party_slug')
    const [event, imported] = jsonDocuments(casualties.slice(0, csvStart)) as Array<Record<string, any>>
    t.match(event, { slug: 'stepanakert-toll', starts_at_precision: 'day', ends_at: '2020-10-06T00:00:00.000Z' })
    t.match(imported, { counts: { claims: { created: 4 }, links: { created: 1 } }, line_error_count: 0 })
    const rows = parse(casualties.slice(csvStart), { columns: true }) as Array<Record<string, string>>
    t.equal(rows.length, 4, 'one row per figure')
    t.same(
      rows.map((row) => [row.party_slug, row.latest, row.value || `${row.low}-${row.high}`, row.standing]),
      [
        ['az-defence-ministry', 'true', '0', 'current'],
        ['bbc-news', 'true', '5-20', 'current'],
        ['nagorno-karabakh-authorities', 'true', '14', 'current'],
        ['nagorno-karabakh-authorities', 'false', '12-', 'corrected'],
      ],
      "three parties' latest figures, and the one revised",
    )
    t.ok(
      rows.every((row) => row.measure === 'civilian-deaths' && row.spread_low === '0' && row.spread_high === '20'),
      'the spread on every row',
    )
  })
})
