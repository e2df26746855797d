import { join } from 'node:path'
import t from 'tap'
import { KEYS_SCRIPT } from './helpers/documented-commands.js'
import { startProjectProcess } from './helpers/project-process.js'

/**
 * `npm run keys`: the first key of a fresh install is made from the command line, on the embedded database here
 * (the same code runs against DATABASE_URL). Each command is its own process, as a user runs it.
 */
// It always runs on the embedded database, so the run against a server would only repeat it.
const skip = process.env.DATABASE_URL
  ? 'runs in the embedded run only: it uses the embedded database either way'
  : false

t.test('create, list and revoke keys from the command line', { skip }, async (t) => {
  const env = { DATABASE_URL: '', DATA_DIR: join(t.testdir(), 'data'), LOG_LEVEL: 'warn' }
  const run = async (...args: string[]) => {
    const process = startProjectProcess(t, KEYS_SCRIPT, env, args)
    const { code } = await process.exited
    return { code, stdout: process.stdout(), stderr: process.stderr() }
  }

  const created = await run('create', '--name', 'first admin', '--scope', 'admin')
  t.equal(created.code, 0, created.stderr)
  const token = created.stdout.trim()
  t.match(token, /^cck_[A-Za-z0-9_-]{43}$/, 'standard output is the token alone, ready for $(…)')
  t.match(created.stderr, /shown only this once/)

  const listed = await run('list')
  t.equal(listed.code, 0, listed.stderr)
  t.match(listed.stdout, /admin\s+first admin/)
  t.ok(listed.stdout.includes(token.slice(0, 12)), 'the list shows the prefix')
  t.notOk(listed.stdout.includes(token), 'never the token')

  const revoked = await run('revoke', token.slice(0, 12))
  t.equal(revoked.code, 0, revoked.stderr)
  t.match(revoked.stdout, /revoked 20\d\d-/)

  const desk = await run('create', '--name', 'desk writer', '--team', 'night-desk')
  t.equal(desk.code, 0, desk.stderr)
  t.match(desk.stderr, /team night-desk/)
  t.match((await run('list')).stdout, /desk writer\s+team night-desk/, 'the list shows the team')
  const badTeam = await run('create', '--name', 'x', '--team', 'Night Desk')
  t.equal(badTeam.code, 2, 'a team that is not a slug is a usage error')
  t.match(badTeam.stderr, /--team must be a slug/)

  const usage = await run('create')
  t.equal(usage.code, 2, 'a missing --name is a usage error')
  t.match(usage.stderr, /create needs --name/)
})
