import { parentPort, workerData } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { PGLITE_EXTENSIONS } from './pglite-extensions.js'

/** What a new worker is given. */
export interface EmbeddedWorkerData {
  /** PGlite's data directory. */
  pgdata: string
  /** The unix socket to serve PostgreSQL's protocol on. */
  socketPath: string
}

/** Messages between the worker and the thread that started it. */
export type EmbeddedWorkerMessage = { type: 'ready' } | { type: 'closed' }
export type EmbeddedWorkerCommand = { type: 'close' }

// PGlite runs each query synchronously on the thread that calls it: here, a thread of its own, which serves
// PostgreSQL's protocol on a unix socket so that the service reaches it with the pg driver, as it does a server.
const { pgdata, socketPath } = workerData as EmbeddedWorkerData
const port = parentPort!

const pglite = await PGlite.create(pgdata, { extensions: PGLITE_EXTENSIONS })
// Two connections: the pool's replacement for a connection it gave up may arrive before the old one is gone.
const server = new PGLiteSocketServer({ db: pglite, path: socketPath, maxConnections: 2 })
await server.start()
port.postMessage({ type: 'ready' } satisfies EmbeddedWorkerMessage)

port.on('message', (command: EmbeddedWorkerCommand) => {
  if (command.type !== 'close') return
  void (async () => {
    await server.stop()
    await pglite.close()
    port.postMessage({ type: 'closed' } satisfies EmbeddedWorkerMessage)
    port.close()
  })()
})
