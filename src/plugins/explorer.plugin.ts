import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../errors/problems.js'
import { varyOn } from '../http/vary.js'

export interface ExplorerOptions {
  /** The built explorer (`npm run build:explorer`): its index.html and its assets/ folder. */
  directory?: string
}

/** Where the pages are served; `/` sends a browser there. */
const EXPLORER_PREFIX = '/explore'

/** Two levels up from src/plugins or dist/plugins is the project's root, where the build writes explorer/dist. */
const BUILT_EXPLORER = fileURLToPath(new URL('../../explorer/dist/', import.meta.url))

/**
 * The dispute explorer: a page for people who read disputes, built from explorer/ into hashed assets, which use
 * the public API like any other client. Every path under /explore that is not an asset is the page itself (it
 * routes in the browser), so that a link to a claim's page can be shared and reloaded.
 */
export default fp<ExplorerOptions>(
  async function explorer(fastify: FastifyInstance, { directory = BUILT_EXPLORER }) {
    const assets = join(directory, 'assets')
    const built = existsSync(assets)
    // The assets' names carry a hash of their content: a browser may keep each for a year without asking again.
    if (built) {
      await fastify.register(fastifyStatic, {
        root: assets,
        prefix: `${EXPLORER_PREFIX}/assets/`,
        decorateReply: false,
        index: false,
        maxAge: '365d',
        immutable: true,
      })
    } else {
      fastify.log.info(`the explorer has not been built: ${EXPLORER_PREFIX} answers 404 until it is`)
    }

    // Not a 503: no retry brings it, only a build does.
    const notBuilt = () =>
      new ApiError(
        'not-found',
        'the explorer has not been built: `npm run build:explorer` (or `npm start`) builds it; a service started ' +
          'before the build serves it once restarted',
      )
    // The page names the assets of one build: it is read again on every load, so a rebuild shows at once.
    const page = async () => {
      if (!built) throw notBuilt()
      try {
        return await readFile(join(directory, 'index.html'))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
        throw notBuilt()
      }
    }
    const servePage = async (_request: unknown, reply: FastifyReply) => {
      const html = await page()
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html)
    }
    fastify.get(EXPLORER_PREFIX, { schema: { hide: true } }, servePage)
    fastify.get(`${EXPLORER_PREFIX}/*`, { schema: { hide: true } }, servePage)

    // `/` is no resource of the API: a browser is sent to the explorer, any other client still gets the 404.
    fastify.get('/', { schema: { hide: true } }, async (request, reply) => {
      varyOn(reply, 'Accept')
      if (request.accepts().type(['application/json', 'text/html']) === 'text/html') {
        return reply.redirect(EXPLORER_PREFIX, 302)
      }
      reply.callNotFound()
      return reply
    })
  },
  { name: 'explorer', dependencies: ['problem-details'] },
)
