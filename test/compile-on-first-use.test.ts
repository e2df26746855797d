import t from 'tap'
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

  await app.schemasOnFirstUse.compileRest()
  t.equal(app.schemasOnFirstUse.waiting, 0, 'compiling the rest compiles every schema, and none of them fails')
  const again = await call(app, 'GET', '/v1/claims?limit=abc')
  t.same(again.body.errors, refused.body.errors, 'the same problem after as before')
})
