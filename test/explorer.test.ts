import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { type Browser, chromium, type Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { loadDataSet, parseDataSet } from '../src/services/data-set.service.js'
import { buildTestApp, call } from './helpers/test-app.js'
import { serverUrl } from './helpers/test-database.js'

/**
 * The dispute explorer: how the service serves it (on both engines), and the pages themselves in Debian's
 * Chromium, driven by playwright-core against a live server holding the demo data (embedded engine only).
 */

const run = promisify(execFile)
const root = fileURLToPath(new URL('../', import.meta.url))
// A build, a browser and a few dozen page loads: more than the default file timeout on a busy machine.
t.setTimeout(600_000)

/** The explorer, built for this file into a directory of its own, so that the one `npm start` serves is untouched. */
const built = await mkdtemp(join(tmpdir(), 'counterclaim-explorer-'))
t.teardown(() => rm(built, { recursive: true, force: true }))
await run(
  process.execPath,
  [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'explorer/vite.config.ts', '--outDir', built],
  { cwd: root },
)
const assets = await readdir(join(built, 'assets'))

/**
 * Waits until `holds` answers true, asking from here: the page's CSP refuses the string evaluation that
 * playwright's own waitForFunction polls with, which is the policy doing its job.
 */
async function until(what: string, holds: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await holds())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const EXPLORER_CSP =
  "default-src 'none';base-uri 'none';connect-src 'self';font-src 'self';form-action 'self';frame-ancestors 'none';" +
  "img-src 'self' data:;manifest-src 'self';object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self'"

t.test('the service serves the built explorer', async (t) => {
  const { app } = await buildTestApp(t, {}, { explorerDirectory: built })

  t.test('the page: no cache without asking, a strict policy, and only its own hashed files', async (t) => {
    for (const url of ['/explore', '/explore/', '/explore/claims/5eed0000-0000-4000-8000-000000000001']) {
      const page = await app.inject({ method: 'GET', url })
      t.equal(page.statusCode, 200, url)
      t.match(page.headers['content-type'], /^text\/html; charset=utf-8/)
      t.equal(page.headers['cache-control'], 'no-cache', 'checked again on each load')
      t.equal(page.headers['content-security-policy'], EXPLORER_CSP)
      t.equal(page.headers['x-frame-options'], 'DENY')
      t.equal(page.headers['x-content-type-options'], 'nosniff')
      const scripts = [...page.body.matchAll(/<script\b([^>]*)>/g)].map((match) => match[1] ?? '')
      t.ok(scripts.length > 0, 'the page has a script')
      t.ok(
        scripts.every((attributes) => /\bsrc="\/explore\/assets\/[\w-]+\.js"/.test(attributes)),
        'every script is a hashed file of its own: none is inline',
      )
      t.notMatch(page.body, /<style\b/, 'no inline style sheet')
      t.notMatch(page.body, /(src|href)="(https?:)?\/\//, 'nothing from another site')
    }
  })

  t.test('assets are immutable for a year; a missing one is a 404 problem', async (t) => {
    const script = assets.find((name) => name.endsWith('.js'))
    const style = assets.find((name) => name.endsWith('.css'))
    t.ok(script !== undefined && style !== undefined, `built ${assets.join(', ')}`)
    for (const name of [script, style]) {
      const asset = await app.inject({ method: 'GET', url: `/explore/assets/${name}` })
      t.equal(asset.statusCode, 200, String(name))
      t.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable')
      t.equal(asset.headers['content-security-policy'], EXPLORER_CSP)
    }
    const missing = await app.inject({ method: 'GET', url: '/explore/assets/index-00000000.js' })
    t.equal(missing.statusCode, 404)
    t.match(missing.headers['content-type'], /^application\/problem\+json/)
  })

  t.test('`/` sends a browser to the explorer, and stays a 404 for API clients', async (t) => {
    const browser = await app.inject({
      method: 'GET',
      url: '/',
      headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
    })
    t.equal(browser.statusCode, 302)
    t.equal(browser.headers.location, '/explore')
    t.match(browser.headers.vary, /accept/i, 'a cache keeps the two answers apart')
    for (const accept of [undefined, '*/*', 'application/json']) {
      const client = await app.inject({ method: 'GET', url: '/', headers: accept === undefined ? {} : { accept } })
      t.equal(client.statusCode, 404, `Accept: ${accept}`)
      t.match(client.headers['content-type'], /^application\/problem\+json/)
      t.equal(client.json().code, 'route-not-found')
    }
  })
})

t.test('an explorer that was not built is a 404 problem that says how to build it', async (t) => {
  const empty = await mkdtemp(join(tmpdir(), 'counterclaim-no-explorer-'))
  t.teardown(() => rm(empty, { recursive: true, force: true }))
  const { app } = await buildTestApp(t, {}, { explorerDirectory: empty })
  const page = await app.inject({ method: 'GET', url: '/explore' })
  t.equal(page.statusCode, 404)
  t.match(page.headers['content-type'], /^application\/problem\+json/)
  t.match(page.json().detail, /npm run build:explorer/)
  const health = await call(app, 'GET', '/healthz')
  t.equal(health.status, 200, 'the API serves on')
})

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const browserSkip =
  serverUrl !== undefined
    ? 'the browser tests run once, on the embedded database (DATABASE_URL is set)'
    : !existsSync(CHROMIUM)
      ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`
      : false

t.test('the explorer in Chromium, on the demo data', { skip: browserSkip }, async (t) => {
  const { app, database, keys } = await buildTestApp(t, {}, { explorerDirectory: built })
  const demo = JSON.parse(await readFile(join(root, 'examples/nagorno-karabakh-2020.json'), 'utf8'))
  await loadDataSet(database.db, parseDataSet(demo))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Root in a container has no user namespace for Chromium's sandbox; the pages are the project's own.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  })
  t.teardown(() => browser.close())
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })

  // Screenshots for a reviewer: in this file's output directory, kept after the run.
  const shots = join(t.testdirName, 'screenshots')
  await mkdir(shots, { recursive: true })
  t.comment(`screenshots in ${shots}`)

  const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

  /** A page of the explorer, with every console error and uncaught exception it reports. */
  async function open(path: string) {
    const page = await context.newPage()
    const errors: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text())
    })
    page.on('pageerror', (error) => errors.push(error.message))
    t.teardown(() => page.close())
    await page.goto(`${base}${path}`)
    return { page, errors }
  }

  /** axe-core's checks of the page as it is now: no serious or critical violation. */
  async function checkAccessibility(t: Test, page: Page, name: string) {
    // Evaluated through the DevTools protocol: the page's CSP admits no inline script, which is the point of it.
    await page.evaluate(axeSource)
    const violations = (await page.evaluate(
      `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) })))`,
    )) as Array<{ id: string; impact: string; help: string; targets: string[] }>
    t.same(
      violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical'),
      [],
      `${name}: no serious or critical accessibility violation`,
    )
  }

  async function screenshot(page: Page, name: string) {
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
  }

  /** The page fits a phone's width (375 px): nothing but the tables' own scrolling boxes runs off the side. */
  async function fitsPhone(t: Test, path: string, ready: string) {
    const phone = await browser.newContext({ viewport: { width: 375, height: 800 }, isMobile: true })
    t.teardown(() => phone.close())
    const page = await phone.newPage()
    await page.goto(`${base}${path}`)
    await page.waitForSelector(ready)
    const width = (await page.evaluate('document.documentElement.scrollWidth')) as number
    // What runs off the side, if anything: the innermost elements past 375 px.
    const wide = await page.evaluate(
      `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 376 && ![...e.children].some((c) => c.getBoundingClientRect().right > 376) && !e.closest('.table-scroll')).slice(0, 5).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`,
    )
    t.ok(width <= 375, `${path} is ${width} px wide at 375 px`, { wide })
    return page
  }

  /** Waits for `selector`; when it does not come, the problems the page shows say why. */
  async function waitFor(page: Page, selector: string) {
    try {
      await page.waitForSelector(selector, { timeout: 15_000 })
    } catch (error) {
      const problems = await page.locator('.problem').allTextContents()
      throw new Error(`${selector} did not appear; the page shows: ${JSON.stringify(problems)}`, { cause: error })
    }
  }

  const FIRST_CLAIM = '5eed0000-0000-4000-8000-000000000001'

  t.test('the disputes page: its first render, timed', async (t) => {
    const { page, errors } = await open('/explore')
    await page.waitForSelector('.dispute')
    const rendered = (await page.evaluate(
      `performance.getEntriesByName('disputes-rendered')[0]?.startTime ?? null`,
    )) as number | null
    t.ok(rendered !== null, 'the page marks its first render')
    t.comment(`first render of the disputes page on the demo data: ${rendered?.toFixed(0)} ms after navigation`)
    await writeFile(join(shots, 'first-render.txt'), `${rendered?.toFixed(1)} ms\n`)
    t.equal(await page.locator('.dispute').count(), 1, 'the demo data holds one rebutted claim')
    await checkAccessibility(t, page, 'disputes')
    await screenshot(page, 'disputes')
    t.same(errors, [], 'no console errors')
  })

  t.test('the filters and the search change the results, and the address follows them', async (t) => {
    // Two more rebuttals, so that filters have something to tell apart.
    for (const [target, party, text] of [
      ['5eed0000-0000-4000-8000-000000000010', 'az-defence-ministry', 'No Azerbaijani shell fell on Stepanakert.'],
      ['5eed0000-0000-4000-8000-000000000006', 'mevlut-cavusoglu', 'Turkey is no party to the fighting.'],
    ] as const) {
      const response = await call(app, 'POST', `/v1/claims/${target}/rebuttals`, {
        claim: { party, text, stated_at: '2020-10-08' },
      })
      t.equal(response.status, 201, text)
    }
    const { page, errors } = await open('/explore')
    await page.waitForSelector('.dispute')
    t.equal(await page.locator('.dispute').count(), 3)

    await page.selectOption('#filter-party', 'az-defence-ministry')
    await page.waitForURL(/party=az-defence-ministry/)
    await until('one dispute', async () => (await page.locator('.dispute').count()) === 1)
    t.match(await page.locator('.dispute .who').first().textContent(), /Defence Ministry/)

    // Back to every party, then search: the address changes once typing pauses, and the list with it.
    await page.selectOption('#filter-party', '')
    await until('three disputes', async () => (await page.locator('.dispute').count()) === 3)
    await page.locator('#filter-q').pressSequentially('Stepanakert', { delay: 20 })
    await page.waitForURL(/q=Stepanakert/)
    await until('one dispute', async () => (await page.locator('.dispute').count()) === 1)
    t.match(await page.locator('.dispute .text').first().textContent(), /Stepanakert/)

    await page.locator('#filter-tag').fill('no-such-tag')
    await page.locator('#filter-tag').press('Enter')
    await page.locator('#filter-tag').blur()
    await page.waitForSelector('text=No dispute matches these filters.')
    t.match(page.url(), /tag=no-such-tag/)

    // Pages follow the API's cursors, forward and back.
    const paged = await open('/explore?limit=1&sort=-stated_at')
    await paged.page.waitForSelector('.dispute')
    const first = await paged.page.locator('.dispute .text').textContent()
    await paged.page.getByRole('link', { name: 'Next page →' }).click()
    await paged.page.waitForURL(/cursor=/)
    await until('the next page', async () => (await paged.page.locator('.dispute .text').textContent()) !== first)
    await paged.page.getByRole('link', { name: '← Previous page' }).click()
    await until(
      'the first page again',
      async () => (await paged.page.locator('.dispute .text').textContent()) === first,
    )

    // A shared address gives the same list.
    const again = await open('/explore?sort=-rebuttal_count&side=azerbaijan')
    await again.page.waitForSelector('.count')
    t.equal(await again.page.locator('#filter-side').inputValue(), 'azerbaijan')
    t.same([...errors, ...paged.errors, ...again.errors], [], 'no console errors')
  })

  t.test('a claim page: its thread as a graph, with a legend and the same links as text', async (t) => {
    const { page, errors } = await open(`/explore/claims/${FIRST_CLAIM}`)
    await page.waitForSelector('svg.thread-graph')
    t.match(await page.locator('h1').textContent(), /Baku-Tbilisi-Ceyhan/)
    t.equal(await page.locator('svg.thread-graph a[data-claim-id]').count(), 2, 'the claim and its rebuttal')
    t.equal(await page.locator('svg.thread-graph path.edge-rebuts').count(), 1, 'drawn as a rebuttal')
    t.match(await page.locator('.legend').textContent(), /rebuts/)
    t.match(await page.locator('.thread-list').textContent(), /Foreign Ministry.*rebuts.*Defence Ministry/s)
    t.ok((await page.locator('.sources li').count()) > 0, 'its sources')
    t.match(await page.locator('.facts').textContent(), /current/, 'its standing')
    t.ok((await page.locator('.history li').count()) >= 1, 'its history')
    await checkAccessibility(t, page, 'claim')
    await screenshot(page, 'claim')
    // The picture of the README (docs/explorer.png): the first screenful, on the demo data alone.
    await page.screenshot({ path: join(shots, 'readme.png') })
    t.same(errors, [], 'no console errors')
  })

  t.test('with a key for the session: a counter-claim posted from the page appears in the graph', async (t) => {
    // Verdicts are a fact-checker's, and the demo data has none.
    const checker = await call(app, 'POST', '/v1/parties', {
      slug: 'example-fact-check',
      name: 'Example Fact Check',
      kind: 'fact-checker',
    })
    t.equal(checker.status, 201)
    const { page, errors } = await open(`/explore/claims/${FIRST_CLAIM}`)
    await page.waitForSelector('svg.thread-graph')
    await page.locator('.key-panel summary').click()
    await page.locator('#api-key').fill(keys.write)
    await page.locator('.key-panel button[type=submit]').click()
    t.equal(
      await page.evaluate(`sessionStorage.getItem('counterclaim-api-key')`),
      keys.write,
      'kept in session storage',
    )
    t.equal(await page.evaluate(`localStorage.length`), 0, 'and nowhere that outlives the session')

    const text = 'The pipeline was never hit, says the BBC in this test.'
    await page.selectOption('#counter-party', 'bbc-news')
    await page.locator('#counter-text').fill(text)
    await page.locator('#counter-note').fill('posted from the explorer')
    await page.getByRole('button', { name: 'Post the counter-claim' }).click()
    await until('the counter-claim is in the graph', async () =>
      (await page.locator('svg.thread-graph a title').allTextContents()).some((title) => title.includes(text)),
    )
    t.equal(await page.locator('svg.thread-graph path.edge-rebuts').count(), 2, 'a second rebuttal arrow')
    t.match(await page.locator('.thread-list').textContent(), /BBC News.*rebuts/s)
    const thread = await call(app, 'GET', `/v1/claims/${FIRST_CLAIM}/thread`)
    t.ok(
      (thread.body.responses as Array<{ claim: { text: string } }>).some((entry) => entry.claim.text === text),
      'the API has it',
    )

    await page.selectOption('#verdict-reviewer', 'example-fact-check')
    await page.selectOption('#verdict-verdict', 'unproven')
    await page.locator('#verdict-label').fill('Not shown either way')
    await page.getByRole('button', { name: 'Record the verdict' }).click()
    await waitFor(page, '.reviews li')
    t.match(await page.locator('.reviews').textContent(), /unproven.*Example Fact Check.*Not shown either way/s)
    t.same(errors, [], 'no console errors')
  })

  t.test('an edit that meets a change made meanwhile (412) shows both versions, and the retry saves', async (t) => {
    // A write key changes what it recorded: a claim of its own, then, read by the page.
    const recorded = await call(app, 'POST', '/v1/claims', {
      party: 'afp',
      text: 'Shells hit the centre of Ganja overnight, a correspondent said.',
      stated_at: '2020-10-08',
    })
    t.equal(recorded.status, 201)
    const id = recorded.body.id as string
    const { page, errors } = await open(`/explore/claims/${id}`)
    await page.waitForSelector('#edit-text')
    await page.locator('.key-panel summary').click()
    await page.locator('#api-key').fill(keys.write)
    await page.locator('.key-panel button[type=submit]').click()
    const mine = 'Shells hit the centre of Ganja overnight, the agency correspondent said.'
    await page.locator('#edit-text').fill(mine)

    // Someone else edits the claim after the page read it.
    const theirs = 'Shells hit the centre of Ganja overnight (edited elsewhere).'
    const edited = await call(app, 'PATCH', `/v1/claims/${id}`, { text: theirs })
    t.equal(edited.status, 200)

    await page.getByRole('button', { name: 'Save the claim' }).click()
    await waitFor(page, '.conflict')
    t.equal(await page.locator('[data-testid=mine-text]').textContent(), mine, 'my version')
    t.equal(await page.locator('[data-testid=current-text]').textContent(), theirs, 'and the current one')
    await checkAccessibility(t, page, 'claim with a conflict')
    await screenshot(page, 'claim-412')

    await page.getByRole('button', { name: 'Save my version over the current one' }).click()
    await waitFor(page, 'text=The claim was saved.')
    await until('the page shows my version', async () => (await page.locator('h1').textContent()) === mine)
    const now = await call(app, 'GET', `/v1/claims/${id}`)
    t.equal(now.body.text, mine, 'saved on top of the current version')
    // The 412 itself is a failed request in the console; nothing else may be.
    t.same(
      errors.filter((error) => !/status of 412/.test(error)),
      [],
      'no console errors but the 412',
    )
  })

  t.test('recording a claim leads to its page', async (t) => {
    const { page, errors } = await open('/explore/record')
    await page.locator('.key-panel summary').click()
    await page.locator('#api-key').fill(keys.write)
    await page.locator('.key-panel button[type=submit]').click()
    await page.selectOption('#record-party', 'bbc-news')
    const text = 'A correspondent saw a column of trucks cross the Hakari bridge at dawn.'
    await page.locator('#record-text').fill(text)
    await page.locator('#record-tags').fill('logistics')
    await page.getByRole('button', { name: 'Record the claim' }).click()
    await page.waitForURL(/\/explore\/claims\/[0-9a-f-]{36}$/)
    await until('the page shows the new claim', async () => (await page.locator('h1').textContent()) === text)
    await checkAccessibility(t, page, 'record a claim')
    t.same(errors, [], 'no console errors')
  })

  t.test('the matrix as a heatmap, by party and by side', async (t) => {
    const { page, errors } = await open('/explore/matrix')
    await page.waitForSelector('table.heatmap')
    t.match(await page.locator('table.heatmap').textContent(), /Armenian Foreign Ministry|Foreign Ministry/)
    t.ok((await page.locator('td.heat-5').count()) >= 1, 'the largest count is the darkest')
    await checkAccessibility(t, page, 'matrix')
    await screenshot(page, 'matrix')
    await page.selectOption('#matrix-by', 'side')
    await page.waitForURL(/by=side/)
    await until('the matrix is by side', async () => /side/.test((await page.locator('caption').textContent()) ?? ''))
    await page.locator('#matrix-tag').fill('no-such-tag')
    await page.locator('#matrix-tag').press('Enter')
    await page.locator('#matrix-tag').blur()
    await page.waitForSelector('text=Nothing was answered with these filters.')
    t.same(errors, [], 'no console errors')
  })

  t.test("an event's contested figures, as a table and a chart", async (t) => {
    const { page, errors } = await open('/explore/events/war-casualties')
    await page.waitForSelector('.measure table')
    t.ok((await page.locator('.measure tbody tr').count()) >= 1, 'a row per party')
    t.ok((await page.locator('svg.figure-chart rect').count()) >= 1, 'a bar per figure')
    await checkAccessibility(t, page, 'figures')
    await screenshot(page, 'event-figures')
    t.same(errors, [], 'no console errors')
  })

  t.test("the parties' response times", async (t) => {
    const { page, errors } = await open('/explore/response-times')
    await page.waitForSelector('table tbody tr')
    t.match(await page.locator('table').textContent(), /Armenian Foreign Ministry/)
    await page.getByRole('link', { name: 'Armenian Foreign Ministry' }).click()
    await page.waitForURL(/party=am-foreign-ministry/)
    await page.waitForSelector('.party-times svg')
    t.equal(await page.locator('.party-times h2').textContent(), 'Armenian Foreign Ministry', "one party's figures")
    await checkAccessibility(t, page, 'response times')
    await screenshot(page, 'response-times')
    t.same(errors, [], 'no console errors')
  })

  t.test('keyboard: a skip link first, and a dispute opened with Enter', async (t) => {
    const { page, errors } = await open('/explore')
    await page.waitForSelector('.dispute')
    await page.keyboard.press('Tab')
    t.equal(await page.evaluate('document.activeElement?.textContent?.trim()'), 'Skip to the content')
    await page.locator('.dispute .text a').first().focus()
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/explore\/claims\//)
    await page.waitForSelector('svg.thread-graph')
    t.same(errors, [], 'no console errors')
  })

  t.test('every page is readable at a phone width', async (t) => {
    for (const [path, ready] of [
      ['/explore', '.dispute'],
      [`/explore/claims/${FIRST_CLAIM}`, 'svg.thread-graph'],
      ['/explore/matrix', 'table.heatmap'],
      ['/explore/events/war-casualties', '.measure table'],
      ['/explore/response-times', 'table tbody tr'],
      ['/explore/record', '#record-text'],
    ] as const) {
      const page = await fitsPhone(t, path, ready)
      if (path === '/explore') await screenshot(page, 'disputes-phone')
    }
  })
})
