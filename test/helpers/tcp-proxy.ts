import { type AddressInfo, createServer, connect, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy on 127.0.0.1 in front of a server (PostgreSQL here), to stage network faults that a real server
 * does not produce on demand:
 *  - `stall()`: every connection, open or new, stays open but carries nothing either way (a hung network, a
 *    frozen server). The bytes held meanwhile are delivered on `resume()`, as TCP would after the network heals.
 *  - `reset({ refuse })`: every open connection is destroyed at once; with `refuse`, new ones are refused
 *    (ECONNREFUSED) until `resume()`, as while a server restarts.
 *  - `resume()`: traffic passes again.
 */
export interface TcpProxy {
  /** The port the proxy listens on, on 127.0.0.1. */
  port: number
  /** Connections accepted since the proxy started. */
  accepted: () => number
  stall(): void
  reset(options?: { refuse?: boolean }): Promise<void>
  resume(): Promise<void>
  close(): Promise<void>
}

interface Pair {
  client: Socket
  upstream: Socket
  /** What arrived from either side while stalled, in order, for the other side. */
  held: Array<{ to: Socket; chunk: Buffer }>
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let stalled = false
  let accepted = 0
  const pairs = new Set<Pair>()

  // Bytes are forwarded by hand rather than piped: pipe() resumes a paused source on 'drain', which would let
  // traffic through a stall. Both sockets keep being read while stalled, so the peers see their writes accepted
  // and nothing come back, as with a server that hangs.
  const onConnection = (client: Socket) => {
    accepted++
    const upstream = connect({ host: target.host, port: target.port })
    const pair: Pair = { client, upstream, held: [] }
    pairs.add(pair)
    const forward = (to: Socket) => (chunk: Buffer) => {
      if (stalled) pair.held.push({ to, chunk })
      else to.write(chunk)
    }
    client.on('data', forward(upstream))
    upstream.on('data', forward(client))
    // Either side closing or failing ends both, as a real network path would.
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  }

  let server: Server = createServer(onConnection)
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve((server.address() as AddressInfo).port)
      })
    })
  // server.close() stops accepting at once, but calls back only once the connections it accepted are gone.
  const stopListening = () =>
    new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))

  async function reset({ refuse = false } = {}) {
    const stopped = refuse ? stopListening() : Promise.resolve()
    for (const { client, upstream } of pairs) {
      client.resetAndDestroy()
      upstream.resetAndDestroy()
    }
    pairs.clear()
    await stopped
  }

  const port = await listen(0)
  return {
    port,
    accepted: () => accepted,
    stall() {
      stalled = true
    },
    reset,
    async resume() {
      stalled = false
      for (const pair of pairs) {
        for (const { to, chunk } of pair.held.splice(0)) to.write(chunk)
      }
      if (!server.listening) {
        server = createServer(onConnection)
        await listen(port)
      }
    },
    close: () => reset({ refuse: true }),
  }
}
