import { request as httpRequest, Agent } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { buildTestApp } from './helpers/test-app.js'

/** GET over a real socket, on the given agent (keep-alive or not); resolves with the status and body. */
function get(port: number, path: string, agent: Agent) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('closing closes idle keep-alive connections at once, and lets a request in flight finish', async (t) => {
  const { app } = await buildTestApp(t)
  let release: () => void = () => undefined
  const started = new Promise<void>((resolveStarted) => {
    app.get('/test-only/slow', async () => {
      resolveStarted()
      await new Promise<void>((resolve) => (release = resolve))
      return { finished: true }
    })
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo

  const keepAlive = new Agent({ keepAlive: true })
  t.teardown(() => keepAlive.destroy())
  // An idle keep-alive connection: the request is done, the socket stays open in the agent's free list.
  t.equal((await get(port, '/healthz', keepAlive)).status, 200)
  const idleSocket = Object.values(keepAlive.freeSockets).flat()[0]
  if (idleSocket === undefined) throw new Error('the keep-alive agent kept no socket')
  const idleClosed = new Promise<void>((resolve) => idleSocket.once('close', () => resolve()))

  const inFlight = get(port, '/test-only/slow', new Agent())
  await started
  const closing = app.close()
  // The idle connection is closed while the slow request is still running: a client on it is told to go away
  // instead of holding shutdown until its keep-alive timeout.
  await idleClosed
  t.pass('the idle keep-alive connection was closed before the request in flight finished')
  release()

  const answered = await inFlight
  t.equal(answered.status, 200, 'the request in flight is answered')
  t.same(JSON.parse(answered.body), { finished: true })
  await closing
})
