import t from 'tap'
import packageJson from '../package.json' with { type: 'json' }
import { KEYS_SCRIPT, runDocumentedCommands, SEED_SCRIPT, shellBlocks } from './helpers/documented-commands.js'
import { ENGINE_INDEPENDENT } from './helpers/engine-passes.js'

/**
 * The README's curl walk-through, run as written against a live server (on the embedded database, on a free
 * port), so that the documentation cannot drift from what the service does.
 */
const blocks = shellBlocks('README.md', '## A walk through the API with curl', '## Documentation')

t.test(
  'every command of the README walk-through works against a live server',
  { skip: ENGINE_INDEPENDENT },
  async (t) => {
    t.ok(blocks.length >= 5, `the walk-through has its command blocks (${blocks.length})`)
    // The first block seeds the demo data set and starts the service: done by the helper as npm would run it.
    const [setup = '', ...commands] = blocks
    t.match(
      setup,
      /^npm run seed:example\b.*\nexport COUNTERCLAIM_KEY=\$\(npm run --silent keys -- create --name "my first key"\)\nnpm start\b/,
      'the walk-through starts by seeding, making a key, then starting',
    )
    t.equal(packageJson.scripts['seed:example'], `tsx ${SEED_SCRIPT}`, 'npm run seed:example runs the seed script')
    t.equal(packageJson.scripts.keys, `tsx ${KEYS_SCRIPT}`, 'npm run keys runs the keys script')
    const { outputs } = await runDocumentedCommands(t, commands)
    const all = outputs.join('\n')
    const [disputes = ''] = outputs
    t.match(
      disputes,
      /^\{"data":\[\{"claim":\{"id":"5eed0000-0000-4000-8000-000000000001","party":\{[^}]*"slug":"az-defence-ministry"/,
      'the pipeline claim is the first dispute',
    )
    t.match(disputes, /"status":"disputed".*"rebutted_by":\[\{"id":"[^"]+","slug":"am-foreign-ministry"/)
    t.match(disputes, /"latest_rebuttals":\[\{"link_id":"[^"]+","note":"[^"]*\\"another lie\\"/, 'with the denial')
    t.match(all, /"responses":\[\{"depth":1,"link":\{[^}]*"kind":"rebuts"/, 'the thread shows the rebuttal')
    t.match(
      all,
      /"by":"side","kind":"rebuts","cells":\[\{"claimant":\{[^}]*"slug":"azerbaijan"[^}]*\},"responder":\{[^}]*"slug":"armenia"/,
    )
    t.match(all, /"disputed_since":"2020-10-06T00:00:00.000Z"/, 'disputes carry their timeline')
    t.match(all, /"slug":"war-casualties",[^\n]*"claim_count":3,/, 'an event counts its claims')
    t.match(all, /measure,party_slug,party_name,latest,[^\n]*\r?\n[^\n]*civilian-deaths,azerbaijan,/, 'its figures')
    t.match(all, /party_id,party_slug,party_name,answering_count,[^\n]*\n[^\n]*am-foreign-ministry/, 'response times')
    t.match(all, /id,kind,from_claim_id,from_party_slug,[^\n]*prebuttal[^\n]*\n[^\n]*,rebuts,/, 'links as CSV')
    t.match(all, /\{"link":\{[^}]*"from_party":\{[^}]*"slug":"az-defence-ministry"/, 'the counter-claim is linked')
    t.match(all, /\{"data":\[\{"claim":\{"id":"5eed0000-0000-4000-8000-000000000002"/, 'the denial is disputed')
    t.match(all, /"code":"unprocessable-entity".*different parties/, 'a same-party link is refused')
    t.match(all, /\{"data":\[\{"version":2,/, 'the edit made version 2, and history shows it first')
    t.match(
      all,
      /"recorded_by":\{"id":"[^"]+","name":"my first key"\},"edit_note":"The monitor dated the images\."/,
      'and names the key and the note',
    )
    t.match(all, /[}\n]200\n/, 'If-None-Match with the old tag is no longer a 304')
    t.match(all, /"code":"validation-failed"/, 'the bad request is a validation problem')
  },
)
