import t from 'tap'
import { CompiledOnFirstUse } from '../src/http/compile-on-first-use.js'
import { buildTestApp, call } from './helpers/test-app.js'

/**
 * Route schemas are compiled on first use, not as the app starts: what that must not change is that every schema
 * compiles, and that a request is validated and answered the same before and after.
 */
t.test('schemas wait for their first request, and every one of them compiles', async (t) => {
  const { app } = await buildTestApp(t)
  await app.ready()
  const atStart = app.schemasOnFirstUse.waiting
  t.ok(atStart > 100, `no route schema was compiled as the app started (${atStart} wait)`)

  const refused = await call(app, 'GET', '/v1/claims?limit=abc')
  t.equal(refused.status, 400, 'a deferred query validator refuses on its first call')
  t.match(refused.body, { type: /validation-failed$/, errors: [{ in: 'query', field: 'limit' }] })
  const page = await call(app, 'GET', '/v1/claims?limit=2')
  t.equal(page.status, 200, 'and coerces on the next')
  t.match(page.body, { data: Array })
  t.ok(app.schemasOnFirstUse.waiting < atStart, 'the schemas of the route that was asked are compiled now')

  const failures: unknown[] = []
  await app.schemasOnFirstUse.compileRest((error, schema) => failures.push({ error, ...schema }))
  t.same(failures, [], 'compiling the rest compiles every schema, and none of them fails')
  t.equal(app.schemasOnFirstUse.waiting, 0, 'none is left waiting')
})

t.test('a schema that does not compile is reported with its route, once, and the rest still compile', async (t) => {
  const compiled = new CompiledOnFirstUse()
  let attempts = 0
  const compiler = compiled.validators(({ url }) => {
    attempts++
    if (url === '/broken') throw new Error('unknown keyword')
    return Object.assign(() => true, { schemaEnv: {} })
  })
  const broken = compiler({ schema: {}, method: 'GET', url: '/broken', httpPart: 'querystring' })
  const working = compiler({ schema: {}, method: 'GET', url: '/working', httpPart: 'querystring' })
  t.equal(attempts, 0, 'nothing is compiled before it is needed')

  const failures: unknown[] = []
  await compiled.compileRest((error, schema) => failures.push({ message: (error as Error).message, ...schema }))
  t.same(failures, [{ message: 'unknown keyword', method: 'GET', url: '/broken', part: 'querystring' }])
  t.equal(compiled.waiting, 0, 'the one after the failure is compiled all the same')
  t.equal(working({}), true)
  t.throws(() => broken({}), /unknown keyword/, 'the broken one throws when a request needs it')
  t.equal(attempts, 2, 'and is not compiled again for every request')
})
