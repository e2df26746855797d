import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import ts from 'typescript'
import {
  type CounterclaimClient,
  PreconditionFailedError,
  ProblemError,
  createCounterclaimClient,
  ifMatch,
  items,
  pages,
  refresh,
  unwrap,
  updateIfUnchanged,
  versioned,
} from '../clients/typescript/src/index.js'
import { everyOperation } from '../clients/typescript/examples/every-operation.js'
import { buildTestApp } from './helpers/test-app.js'
import { ENGINE_INDEPENDENT } from './helpers/engine-passes.js'

/**
 * The typed client of clients/typescript: its program that calls every operation of the OpenAPI document
 * type-checks under `tsc --strict` and runs against a live server, and its hand-written parts (problems as
 * exceptions, ETag and If-Match, cursor iteration) do what they say.
 */

const run = promisify(execFile)
const root = new URL('../', import.meta.url)

/** Every operation of the committed document, as "METHOD /path/{template}". */
async function documentedOperations(): Promise<string[]> {
  const document = JSON.parse(await readFile(new URL('openapi/openapi.json', root), 'utf8')) as {
    paths: Record<string, Record<string, unknown>>
  }
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
  )
}

// Two compilations and a few hundred requests over HTTP: more than the default file timeout on a busy machine.
t.setTimeout(300_000)

/** One live server for the file, on its own database; each test makes records of its own names. */
const live = await (async () => {
  const context = await buildTestApp(t)
  await context.app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = context.app.server.address() as AddressInfo
  return { ...context, baseUrl: `http://127.0.0.1:${port}` }
})()

/** A client that also notes the operation of each request it sends, by the document's path template. */
function recordingClient(baseUrl: string, apiKey: string | undefined, seen: Set<string>): CounterclaimClient {
  const client = createCounterclaimClient({ baseUrl, ...(apiKey === undefined ? {} : { apiKey }) })
  client.use({ onRequest: ({ request, schemaPath }) => void seen.add(`${request.method} ${schemaPath}`) })
  return client
}

t.test(
  'the program that uses every operation type-checks with tsc --strict',
  { skip: ENGINE_INDEPENDENT },
  async (t) => {
    const tsc = new URL('node_modules/typescript/bin/tsc', root)
    const config = new URL('clients/typescript/tsconfig.json', root)
    const tsconfig = JSON.parse(await readFile(config, 'utf8')) as { compilerOptions: Record<string, unknown> }
    t.equal(tsconfig.compilerOptions.strict, true, 'the client is checked in strict mode')
    const result = await run(process.execPath, [tsc.pathname, '--noEmit', '-p', config.pathname]).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => error,
    )
    t.equal(result.code, 0, result.stdout)
  },
)

/** The `ts` code blocks of a Markdown document. */
async function typescriptBlocks(path: string): Promise<string[]> {
  const text = await readFile(new URL(path, root), 'utf8')
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '')
}

t.test(
  'the examples of the READMEs type-check with the client, in strict mode',
  { skip: ENGINE_INDEPENDENT },
  async (t) => {
    const blocks = [
      ...(await typescriptBlocks('README.md')).map((code, index) => ({ name: `readme-${index}.ts`, code })),
      ...(await typescriptBlocks('clients/typescript/README.md')).map((code, index) => ({
        name: `client-readme-${index}.ts`,
        code,
      })),
    ]
    t.ok(blocks.length >= 2, 'both READMEs show the client')
    // Each block as a module at the repository's root (where its imports are written from), with the client's options.
    const config = ts.getParsedCommandLineOfConfigFile(
      fileURLToPath(new URL('clients/typescript/tsconfig.json', root)),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (diagnostic) => t.fail(String(diagnostic.messageText)),
      },
    )
    if (config === undefined) return
    const files = new Map(blocks.map(({ name, code }) => [fileURLToPath(new URL(name, root)), code]))
    const host = ts.createCompilerHost(config.options)
    const { getSourceFile, fileExists, readFile: read } = host
    host.fileExists = (name) => files.has(name) || fileExists(name)
    host.readFile = (name) => files.get(name) ?? read(name)
    host.getSourceFile = (name, language, ...rest) => {
      const code = files.get(name)
      return code === undefined ? getSourceFile(name, language, ...rest) : ts.createSourceFile(name, code, language)
    }
    const program = ts.createProgram([...files.keys()], config.options, host)
    const diagnostics = ts.getPreEmitDiagnostics(program)
    t.same(
      diagnostics.map((diagnostic) => ts.formatDiagnostic(diagnostic, host)),
      [],
      'no type errors',
    )
  },
)

t.test('every operation of the document, through the client, against a live server', async (t) => {
  const { baseUrl, keys } = live
  const seen = new Set<string>()
  const writer = recordingClient(baseUrl, keys.write, seen)
  const admin = recordingClient(baseUrl, keys.admin, seen)
  const result = await everyOperation({ writer, admin }, 'every')

  t.same(
    [...(await documentedOperations())].filter((operation) => !seen.has(operation)),
    [],
    'no operation left out',
  )

  t.equal(result.health.status, 'ok')
  t.equal(result.readiness.status, 'ready')

  const { north, south, stateSlugs, northCopy, northEdited, partyHistory } = result.parties
  t.same(stateSlugs.sort(), [north.slug, south.slug].sort(), 'the states, one a page, across pages')
  t.not(northEdited.etag, northCopy.etag, 'an edit gives a new ETag')
  t.equal(northEdited.value.description, 'A state of the example.')
  t.equal(partyHistory.data.length, 2, 'the party has two versions')

  const { claim, rebuttal, rebuttals, claims, claimCopy, claimEdited, stale, invalid } = result.claims
  t.equal(rebuttal.link.kind, 'rebuts')
  t.equal(rebuttal.link.to_claim_id, claim.id)
  t.equal(rebuttal.claim.party.slug, south.slug, 'the counter-claim comes back with its link')
  t.same(
    rebuttals.data.map((item) => item.claim.id),
    [rebuttal.claim.id],
  )
  t.equal(claims.total, 2, 'the claim and its counter-claim, counted')
  t.same(claimEdited.value.tags, ['civilians'])

  t.ok(stale instanceof PreconditionFailedError, 'a stale If-Match is a PreconditionFailedError')
  t.equal(stale?.status, 412)
  t.equal(stale?.code, 'precondition-failed')
  t.equal(stale?.current?.etag, claimEdited.etag, 'it carries the current ETag')
  t.same(stale?.current?.value.tags, ['civilians'], 'and the current version')
  t.not(claimCopy.etag, claimEdited.etag)

  t.ok(invalid instanceof ProblemError)
  t.equal(invalid?.status, 400)
  t.equal(invalid?.code, 'validation-failed')
  t.equal(invalid?.errors[0]?.in, 'path')

  t.same(result.links.links.data.length, 2, 'the rebuttal and the linked echo')
  t.equal(result.links.linkHistory.data.length, 2)

  const { disputePages, disputes, disputesCsv, matrix, thread } = result.disputes
  t.same(disputePages, [1], 'the one dispute of the event, on one page')
  t.equal(disputes.data.length, 1)
  t.equal(disputes.data[0]?.claim.id, claim.id)
  t.match(disputesCsv, new RegExp(claim.id), 'the CSV export is read as text')
  t.ok(matrix.cells.length >= 1)
  t.equal(thread.claim.id, claim.id)
  t.same(
    thread.responses.map((response) => response.claim.id).sort(),
    [rebuttal.claim.id, result.links.link.from_claim_id].sort(),
    'the thread has both answers',
  )

  t.equal(result.reviews.claimReviews.data[0]?.verdict, 'false')
  t.equal(result.imported.counts.parties.created, 1)
  t.equal(result.imported.counts.claims.created, 1)
  t.ok(result.keys.keys.data.some((key) => key.id === result.keys.key.id))
  t.ok(result.tombstones.data.length >= 5, 'a review, a link, a claim, an event and a party deleted')
  t.equal(result.erased.partyErased.kind, 'party')
  t.equal(result.erased.partyErased.removed.parties.length, 1)
  t.equal(result.erased.claimErased.removed.claims.length, 1)
  t.equal(result.erased.reviewErased.removed.reviews.length, 1)
})

t.test('pages and items follow next_cursor to the end', async (t) => {
  const { baseUrl, keys } = live
  const client = createCounterclaimClient({ baseUrl, apiKey: keys.write })
  const slugs = ['one', 'two', 'three', 'four', 'five']
  for (const slug of slugs) {
    await unwrap(
      client.POST('/v1/parties', { body: { slug: `paged-${slug}`, name: `Paged ${slug}`, kind: 'organisation' } }),
    )
  }
  const sizes: number[] = []
  for await (const page of pages((cursor) =>
    client.GET('/v1/parties', { params: { query: { kind: 'organisation', limit: 2, cursor } } }),
  )) {
    sizes.push(page.data.length)
  }
  t.same(sizes, [2, 2, 1], 'three pages of two, two and one')
  const seen: string[] = []
  for await (const party of items((cursor) =>
    client.GET('/v1/parties', { params: { query: { kind: 'organisation', limit: 2, cursor } } }),
  )) {
    seen.push(party.slug)
  }
  t.same(seen.sort(), slugs.map((slug) => `paged-${slug}`).sort(), 'every item once')

  // A problem on a later page is thrown from the iterator.
  const broken = pages((cursor) =>
    client.GET('/v1/parties', { params: { query: { limit: 2, cursor: cursor === undefined ? undefined : 'bogus' } } }),
  )
  await broken.next()
  await t.rejects(broken.next(), { name: 'ProblemError', status: 400 })
})

t.test('problems are thrown as typed exceptions', async (t) => {
  const { baseUrl, keys } = live
  const anonymous = createCounterclaimClient({ baseUrl })
  const reader = createCounterclaimClient({ baseUrl, apiKey: keys.read })
  const writer = createCounterclaimClient({ baseUrl, apiKey: keys.write })

  const unauthorized = await unwrap(
    anonymous.POST('/v1/parties', { body: { slug: 'nobody', name: 'Nobody', kind: 'person' } }),
  ).catch((error: unknown) => error)
  t.ok(unauthorized instanceof ProblemError)
  t.match(unauthorized, { status: 401, code: 'unauthorized', title: String })

  const forbidden = await unwrap(
    reader.POST('/v1/parties', { body: { slug: 'nobody', name: 'Nobody', kind: 'person' } }),
  ).catch((error: unknown) => error)
  t.match(forbidden, { status: 403, code: 'forbidden' })

  const notFound = await unwrap(writer.GET('/v1/parties/{party}', { params: { path: { party: 'nobody' } } })).catch(
    (error: unknown) => error,
  )
  t.match(notFound, { name: 'ProblemError', status: 404, code: 'not-found' })

  const invalid = await unwrap(
    // A body the types refuse, sent as a caller without them would.
    writer.POST('/v1/parties', { body: { slug: 'Bad Slug', name: '', kind: 'planet' } as never }),
  ).catch((error: unknown) => error)
  t.ok(invalid instanceof ProblemError)
  if (invalid instanceof ProblemError) {
    t.equal(invalid.status, 400)
    t.equal(invalid.code, 'validation-failed')
    t.same(invalid.errors.map((error) => error.field).sort(), ['kind', 'name', 'slug'])
    t.ok(invalid.errors.every((error) => error.in === 'body'))
    t.match(invalid.message, /^400 The request is not valid: /)
  }
})

t.test('If-Match: a conditional write applies once, and a stale one is a 412 with the current version', async (t) => {
  const { baseUrl, keys } = live
  const client = createCounterclaimClient({ baseUrl, apiKey: keys.write })
  const party = await unwrap(client.POST('/v1/parties', { body: { slug: 'etag-party', name: 'First', kind: 'media' } }))
  const read = () => versioned(client.GET('/v1/parties/{party}', { params: { path: { party: party.slug } } }))
  const first = await read()
  const second = await updateIfUnchanged(first, (header) =>
    client.PATCH('/v1/parties/{party}', { params: { path: { party: party.slug }, header }, body: { name: 'Second' } }),
  )
  t.equal(second.value.name, 'Second')
  t.same(await read(), second, 'the ETag a write answers is the one a read gives')

  // Another writer's copy, based on the first version, is refused and told what is current.
  const conflict = await updateIfUnchanged(first, (header) =>
    client.PATCH('/v1/parties/{party}', { params: { path: { party: party.slug }, header }, body: { name: 'Lost' } }),
  ).catch((error: unknown) => error)
  t.ok(conflict instanceof PreconditionFailedError)
  if (conflict instanceof PreconditionFailedError) {
    t.equal(conflict.status, 412)
    t.equal(conflict.code, 'precondition-failed')
    t.same(conflict.current, second, 'the current version and its ETag')
  }
  t.equal((await read()).value.name, 'Second', 'nothing changed')

  // A retry on top of the current version applies.
  const retried = await updateIfUnchanged(second, (header) =>
    client.PATCH('/v1/parties/{party}', { params: { path: { party: party.slug }, header }, body: { name: 'Third' } }),
  )
  t.equal(retried.value.name, 'Third')

  // A DELETE with a stale ETag is refused the same way; with the current one it deletes.
  const staleDelete = await unwrap(
    client.DELETE('/v1/parties/{party}', { params: { path: { party: party.slug }, header: ifMatch(second) } }),
  ).catch((error: unknown) => error)
  t.match(staleDelete, { name: 'PreconditionFailedError', status: 412, current: { etag: retried.etag } })
  await unwrap(
    client.DELETE('/v1/parties/{party}', { params: { path: { party: party.slug }, header: ifMatch(retried) } }),
  )
  const gone = await unwrap(client.GET('/v1/parties/{party}', { params: { path: { party: party.slug } } })).catch(
    (error: unknown) => error,
  )
  t.match(gone, { status: 410, code: 'gone' })
})

t.test('refresh reads a record again only when it changed (If-None-Match, 304)', async (t) => {
  const { baseUrl, keys } = live
  const client = createCounterclaimClient({ baseUrl, apiKey: keys.write })
  const requests: string[] = []
  client.use({ onResponse: ({ request, response }) => void requests.push(`${request.method} ${response.status}`) })
  const party = await unwrap(client.POST('/v1/parties', { body: { slug: 'fresh', name: 'Fresh', kind: 'media' } }))
  const read = (header: { 'if-none-match': string }) =>
    client.GET('/v1/parties/{party}', { params: { path: { party: party.slug }, header } })
  const copy = await versioned(client.GET('/v1/parties/{party}', { params: { path: { party: party.slug } } }))

  const unchanged = await refresh(copy, read)
  t.same(unchanged, { ...copy, changed: false }, 'a 304 gives the copy back')
  t.equal(requests.at(-1), 'GET 304')

  await unwrap(
    client.PATCH('/v1/parties/{party}', { params: { path: { party: party.slug } }, body: { name: 'Fresher' } }),
  )
  const changed = await refresh(copy, read)
  t.equal(changed.changed, true)
  t.equal(changed.value.name, 'Fresher')
  t.not(changed.etag, copy.etag)
  t.equal(requests.at(-1), 'GET 200')
})
