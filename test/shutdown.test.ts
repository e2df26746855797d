import { Agent, request as httpRequest } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { startServerProcess } from './helpers/project-process.js'
import { prepareServerDatabase } from './helpers/server-process-database.js'
import { buildTestApp } from './helpers/test-app.js'

/** GET over a real socket, on the given agent; resolves with the status. */
function get(port: number, path: string, agent: Agent) {
  return new Promise<number>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

/** A raw connection: what to write on it, and everything the server sends until it closes the connection. */
function rawConnection(port: number) {
  const socket = connect({ host: '127.0.0.1', port })
  socket.setEncoding('utf8')
  const received = new Promise<string>((resolve, reject) => {
    let text = ''
    socket.on('data', (chunk) => (text += chunk))
    socket.on('close', () => resolve(text))
    socket.on('error', reject)
  })
  return { socket, write: (bytes: string) => socket.write(bytes), received }
}

t.test('closing: idle connections close at once, requests in flight finish, later ones are refused', async (t) => {
  const { app } = await buildTestApp(t)
  let release: () => void = () => undefined
  const released = new Promise<void>((resolve) => (release = resolve))
  const started = new Promise<void>((resolveStarted) => {
    app.get('/test-only/slow', async () => {
      resolveStarted()
      await released
      return { finished: true }
    })
  })
  // A response under way (its headers and first bytes sent) when closing starts, which ends after release().
  app.get('/test-only/streaming', async (_request, reply) => {
    const body = new PassThrough()
    body.write('first part, ')
    void released.then(() => body.end('last part'))
    return reply.type('text/plain').send(body)
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo

  // An idle keep-alive connection: its request is done, the socket stays open in the agent's free list.
  const keepAlive = new Agent({ keepAlive: true })
  t.teardown(() => keepAlive.destroy())
  t.equal(await get(port, '/healthz', keepAlive), 200)
  const idleSocket = Object.values(keepAlive.freeSockets).flat()[0]
  if (idleSocket === undefined) throw new Error('the keep-alive agent kept no socket')
  const idleClosed = new Promise<void>((resolve) => idleSocket.once('close', () => resolve()))

  // A connection with a slow request in flight when closing starts; another whose answer is already under way,
  // with a second request sent behind it after that.
  const connection = rawConnection(port)
  connection.write('GET /test-only/slow HTTP/1.1\r\nHost: localhost\r\n\r\n')
  await started
  const [streaming, streamingAlone] = [rawConnection(port), rawConnection(port)]
  for (const { socket, write } of [streaming, streamingAlone]) {
    const streamStarted = new Promise<void>((resolve) => socket.once('data', () => resolve()))
    write('GET /test-only/streaming HTTP/1.1\r\nHost: localhost\r\n\r\n')
    await streamStarted
  }
  const closing = app.close()
  await idleClosed
  t.pass('the idle keep-alive connection was closed while a request was still in flight')
  streaming.write('GET /v1/claims HTTP/1.1\r\nHost: localhost\r\n\r\n')
  release()

  const answers = (await connection.received).split(/(?=HTTP\/1\.1 )/)
  t.equal(answers.length, 1, 'one answer, then the connection is closed')
  t.match(answers[0], /^HTTP\/1\.1 200 /, 'the request in flight is answered')
  t.match(answers[0], /\{"finished":true\}/)
  t.match(answers[0], /\r\nconnection: close\r\n/i, 'and its client is told to close the connection')

  const [first, second] = (await streaming.received).split(/(?=HTTP\/1\.1 )/)
  t.match(first, /^HTTP\/1\.1 200 [\s\S]*last part/, 'the answer under way is finished')
  t.match(second, /^HTTP\/1\.1 503 /, 'a request arriving while the server closes is refused')
  t.match(second, /\r\nconnection: close\r\n/i)
  // Left open, idle, it would hold the server up until the keep-alive timeout.
  t.match(await streamingAlone.received, /last part/, 'a connection whose answer was under way is closed after it')
  t.match(second, /content-type: application\/problem\+json/i)
  t.match(second, /retry-after: 2/i)
  t.match(second, /"code":"service-unavailable"/)
  await closing
})

t.test(
  'SIGTERM to the process: requests in flight finish, keep-alive clients are told to close, then it exits',
  async (t) => {
    const { env, token } = await prepareServerDatabase(t)
    // A grace period far longer than the shutdown should take: a clean exit is not the forced one at its end.
    const server = await startServerProcess(t, { ...env, SHUTDOWN_GRACE_MS: '30000' })
    const { port } = server
    let exitedAt = 0
    const exited = server.exited.then((exit) => {
      exitedAt = performance.now()
      return exit
    })

    // An idle keep-alive connection, its request done.
    const keepAlive = new Agent({ keepAlive: true })
    t.teardown(() => keepAlive.destroy())
    t.equal(await get(port, '/healthz', keepAlive), 200)
    const idleSocket = Object.values(keepAlive.freeSockets).flat()[0]
    if (idleSocket === undefined) throw new Error('the keep-alive agent kept no socket')
    const idleClosed = new Promise<void>((resolve) => idleSocket.once('close', () => resolve()))

    // A write in flight: its headers are in (the server asks for the body with 100 Continue), its body is not yet.
    const body = JSON.stringify({ slug: 'in-flight', name: 'In flight', kind: 'other' })
    const inFlight = rawConnection(port)
    const continued = new Promise<void>((resolve) => inFlight.socket.once('data', () => resolve()))
    inFlight.write(
      'POST /v1/parties HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
        `Authorization: Bearer ${token}\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`,
    )
    await continued

    const signalledAt = performance.now()
    server.child.kill('SIGTERM')
    await idleClosed
    t.pass('the idle keep-alive connection is closed at once')
    // The body arrives well after the signal: the request is not cut off for it.
    await new Promise((resolve) => setTimeout(resolve, 500))
    inFlight.write(body)
    const answer = await inFlight.received
    const answeredAt = performance.now()
    const final = answer.slice(answer.lastIndexOf('HTTP/1.1 '))
    t.match(final, /^HTTP\/1\.1 201 /, 'the request in flight is answered')
    t.match(final, /\r\nconnection: close\r\n/i, 'and its client is told to close the connection')

    t.same(await exited, { code: 0, signal: null }, `the process exits cleanly\n${server.stderr()}`)
    const shutdownMs = Math.round(exitedAt - answeredAt)
    t.ok(shutdownMs < 2000, `it exits within 2 s of the last answer (${shutdownMs} ms)`)
    t.comment(JSON.stringify({ signalToExitMs: Math.round(exitedAt - signalledAt), lastAnswerToExitMs: shutdownMs }))
  },
)

t.test(
  'SIGTERM with SHUTDOWN_DRAIN_MS: /readyz answers 503 at once while requests are still served, then it exits',
  async (t) => {
    const { env, token } = await prepareServerDatabase(t)
    const DRAIN_MS = 3000
    const server = await startServerProcess(t, { ...env, SHUTDOWN_DRAIN_MS: String(DRAIN_MS) })
    const ready = await fetch(`${server.base}/readyz`)
    t.equal(ready.status, 200)
    await ready.body?.cancel()

    const signalledAt = performance.now()
    server.child.kill('SIGTERM')
    let exitedAt = 0
    const exited = server.exited.then((exit) => {
      exitedAt = performance.now()
      return exit
    })
    // The signal is handled between requests: readiness is asked until it changes.
    let notReady: Response | undefined
    while (performance.now() - signalledAt < DRAIN_MS) {
      const response = await fetch(`${server.base}/readyz`)
      if (response.status !== 200) {
        notReady = response
        break
      }
      await response.body?.cancel()
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    t.equal(notReady?.status, 503, '/readyz answers 503 while the instance drains')
    t.match(notReady?.headers.get('content-type'), /application\/problem\+json/)
    t.ok(Number(notReady?.headers.get('retry-after')) > 0)
    t.match(await notReady?.json(), { code: 'service-unavailable', detail: /shutting down/ })

    const write = await fetch(`${server.base}/v1/parties`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ slug: 'while-draining', name: 'While draining', kind: 'other' }),
    })
    t.equal(write.status, 201, 'a request after it is served as usual')
    await write.body?.cancel()
    const readAt = performance.now()
    const read = await fetch(`${server.base}/v1/parties/while-draining`)
    t.equal(read.status, 200)
    await read.body?.cancel()
    t.ok(readAt - signalledAt < DRAIN_MS, 'both within the drain')

    t.same(await exited, { code: 0, signal: null }, `the process exits cleanly\n${server.stderr()}`)
    const drainedMs = Math.round(exitedAt - signalledAt)
    t.ok(drainedMs >= DRAIN_MS, `not before the drain ended (${drainedMs} ms after the signal)`)
    const after = await fetch(`${server.base}/healthz`).then(
      () => 'answered',
      () => 'refused',
    )
    t.equal(after, 'refused', 'the port is closed once it exited')
  },
)
