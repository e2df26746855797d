import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startServerProcess } from './helpers/project-process.js'
import { prepareServerDatabase } from './helpers/server-process-database.js'
import { bearer, buildTestApp, callRaw } from './helpers/test-app.js'

t.setTimeout(300_000)

/** The pid of a process that ran and has exited. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', ''])
  if (pid === undefined) throw new Error('could not run a process')
  return pid
}

/** The spool directories under `base` and the files in each. */
async function spoolContents(base: string): Promise<Record<string, string[]>> {
  const contents: Record<string, string[]> = {}
  for (const entry of await readdir(base, { withFileTypes: true })) {
    contents[entry.name] = entry.isDirectory() ? await readdir(join(base, entry.name)) : []
  }
  return contents
}

t.test('at start, the spool directories of processes that no longer run are removed, and nothing else', async (t) => {
  const base = t.testdir({ 'notes.txt': 'an operator left this', 'keep-me': {} })
  const dead = `${deadPid()}-${randomUUID()}`
  // The parent of this test process runs; a directory of a running process is its own.
  const live = `${process.ppid}-${randomUUID()}`
  // This pid with another token: an earlier process that had the same pid, as a restarted container's pid 1.
  const earlier = `${process.pid}-${randomUUID()}`
  for (const name of [dead, live, earlier]) {
    await mkdir(join(base, name))
    await writeFile(join(base, name, `${randomUUID()}.ndjson`), '{"type":"party"}\n')
  }

  const { app, keys } = await buildTestApp(t, { IMPORT_SPOOL_DIR: base })
  await app.ready()

  const after = await spoolContents(base)
  t.notOk(dead in after, "a dead process's spool is removed")
  t.notOk(earlier in after, "an earlier process's spool with this pid is removed")
  t.same(after[live]?.length, 1, "a running process's spool is kept")
  t.ok('notes.txt' in after && 'keep-me' in after, 'what is not a spool directory is left alone')
  const own = Object.keys(after).filter((name) => name.startsWith(`${process.pid}-`))
  t.equal(own.length, 1, 'this process has its own spool directory')

  const party = JSON.stringify({ type: 'party', ref: 'p', slug: 'spooled', name: 'Spooled', kind: 'organisation' })
  const imported = await callRaw(app, 'POST', '/v1/import', `${party}\n`, {
    ...bearer(keys.write),
    'content-type': 'application/x-ndjson',
  })
  t.equal(imported.status, 200, JSON.stringify(imported.body))
  t.same((await spoolContents(base))[own[0]!], [], "an import's body is removed once it is applied")
})

t.test('an import body left by a killed server is removed when the service starts again', async (t) => {
  const { env, token } = await prepareServerDatabase(t)
  // Not t.testdir(): that is the embedded server's data directory.
  const base = await mkdtemp(join(tmpdir(), 'counterclaim-spool-test-'))
  t.teardown(() => rm(base, { recursive: true, force: true }))
  const server = await startServerProcess(t, { ...env, IMPORT_SPOOL_DIR: base })

  // An import whose client sends half a megabyte and then waits: its body is in the spool when the server dies.
  const upload = httpRequest(`${server.base}/v1/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
  })
  upload.on('error', () => undefined)
  const line = JSON.stringify({ type: 'party', ref: 'x', slug: 'x', name: 'x'.repeat(500), kind: 'organisation' })
  upload.write(`${line}\n`.repeat(1000))
  let spooled: string[] = []
  for (let attempt = 0; attempt < 200 && spooled.length === 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    spooled = Object.values(await spoolContents(base)).flat()
  }
  t.equal(spooled.length, 1, 'the body is being spooled')
  server.child.kill('SIGKILL')
  await server.exited
  upload.destroy()
  t.equal(Object.values(await spoolContents(base)).flat().length, 1, 'a killed server leaves its spool behind')

  // The data directory or database the killed server had; the new service only needs to start on the same spool.
  const { app } = await buildTestApp(t, { IMPORT_SPOOL_DIR: base })
  await app.ready()
  t.same(Object.values(await spoolContents(base)).flat(), [], 'the next start removed it')
})
