import { Agent, request as httpRequest } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import t from 'tap'
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
  return { write: (bytes: string) => socket.write(bytes), received }
}

t.test('closing: idle connections close at once, requests in flight finish, later ones are refused', async (t) => {
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

  // An idle keep-alive connection: its request is done, the socket stays open in the agent's free list.
  const keepAlive = new Agent({ keepAlive: true })
  t.teardown(() => keepAlive.destroy())
  t.equal(await get(port, '/healthz', keepAlive), 200)
  const idleSocket = Object.values(keepAlive.freeSockets).flat()[0]
  if (idleSocket === undefined) throw new Error('the keep-alive agent kept no socket')
  const idleClosed = new Promise<void>((resolve) => idleSocket.once('close', () => resolve()))

  // A connection with a slow request in flight when closing starts; a second request follows on it after that.
  const connection = rawConnection(port)
  connection.write('GET /test-only/slow HTTP/1.1\r\nHost: localhost\r\n\r\n')
  await started
  const closing = app.close()
  await idleClosed
  t.pass('the idle keep-alive connection was closed while a request was still in flight')
  connection.write('GET /v1/claims HTTP/1.1\r\nHost: localhost\r\n\r\n')
  release()

  const [first, second] = (await connection.received).split(/(?=HTTP\/1\.1 )/)
  t.match(first, /^HTTP\/1\.1 200 /, 'the request in flight is answered')
  t.match(first, /\{"finished":true\}/)
  t.match(second, /^HTTP\/1\.1 503 /, 'a request arriving while the server closes is refused')
  t.match(second, /content-type: application\/problem\+json/i)
  t.match(second, /retry-after: 2/i)
  t.match(second, /"code":"service-unavailable"/)
  await closing
})
