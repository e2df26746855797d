import { Agent, type IncomingHttpHeaders, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'

export interface HttpAnswer {
  status: number
  headers: IncomingHttpHeaders
  /** The parsed body when it is JSON (problem+json included), else undefined. */
  body: any
  raw: Buffer
}

export interface HttpRequest {
  body?: unknown
  headers?: Record<string, string>
}

export interface HttpClient {
  /** Sends one request and reads its whole answer; rejects on a network error or after the client's timeout. */
  send(method: string, path: string, options?: HttpRequest): Promise<HttpAnswer>
  /** Closes the kept-alive connections. */
  close(): void
}

/**
 * Starts a test's app on a free loopback port, so that its requests travel over real sockets, each on its own
 * connection, as concurrent clients' do (inject hands requests to the app one by one, in this process). The server
 * closes with the app.
 */
export async function listenOnLoopback(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  return `http://127.0.0.1:${port}`
}

/**
 * An HTTP/1.1 client keeping up to `connections` connections alive to one origin: that many requests in flight
 * at once each have a socket of their own, and later requests reuse them, as a pool of real clients would.
 */
export function httpClient(origin: string, options: { connections: number; timeoutMs?: number }): HttpClient {
  const { hostname, port } = new URL(origin)
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections })
  const timeoutMs = options.timeoutMs ?? 30_000

  function send(method: string, path: string, { body, headers = {} }: HttpRequest = {}): Promise<HttpAnswer> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const sent: Record<string, string | number> = { ...headers }
    if (payload !== undefined) {
      sent['content-type'] ??= 'application/json'
      sent['content-length'] = payload.length
    }
    return new Promise((resolve, reject) => {
      const outgoing = request({ agent, hostname, port, method, path, headers: sent }, (incoming) => {
        const chunks: Buffer[] = []
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
        incoming.on('error', reject)
        incoming.on('end', () => {
          const raw = Buffer.concat(chunks)
          const type = String(incoming.headers['content-type'] ?? '')
          const isJson = /^application\/([\w.-]+\+)?json\s*(;|$)/.test(type) && raw.length > 0
          try {
            resolve({
              status: incoming.statusCode ?? 0,
              headers: incoming.headers,
              body: isJson ? JSON.parse(raw.toString('utf8')) : undefined,
              raw,
            })
          } catch (error) {
            reject(error)
          }
        })
      })
      outgoing.setTimeout(timeoutMs, () =>
        outgoing.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)),
      )
      outgoing.on('error', reject)
      outgoing.end(payload)
    })
  }

  return { send, close: () => agent.destroy() }
}
