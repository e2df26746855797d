import { createHash } from 'node:crypto'
import type pg from 'pg'

/**
 * How many statements one connection keeps prepared. The service sends a few dozen distinct statement texts;
 * texts that vary with their input (an `IN` list of another length) would otherwise fill the server's memory.
 * Past the cap, a text runs unprepared as before.
 */
export const PREPARED_PER_CONNECTION = 250

/** A statement name per statement text: distinct texts get distinct names, as pg requires. */
const namesByText = new Map<string, string>()

function statementName(text: string): string {
  let name = namesByText.get(text)
  if (name === undefined) {
    name = `cc_${createHash('sha1').update(text).digest('base64url')}`
    // Names are only remembered to spare the hashing; a service with many more texts rehashes, which is fine.
    if (namesByText.size < 10 * PREPARED_PER_CONNECTION) namesByText.set(text, name)
  }
  return name
}

type Client = Pick<pg.PoolClient, 'query' | 'release'>

const preparingClients = new WeakMap<Client, Client>()
const preparedNames = new WeakMap<Client, Set<string>>()

/**
 * A pooled connection whose parameterised statements run as named prepared statements: PostgreSQL parses and
 * plans each statement text once per connection, instead of on every execution. For the service's queries,
 * planning costs more than running (a claim read plans in ~0.5 ms and runs in ~0.1 ms at 1M claims), so this is
 * most of a read's database time. PostgreSQL keeps re-planning with the actual values where a generic plan would
 * cost more (plan_cache_mode auto). Statements without parameters (BEGIN, SET, the migrations' multi-statement
 * files) go as before, through the simple protocol; so do cursors.
 *
 * Named statements belong to a session, so this does not work through a pooler in transaction mode (PgBouncer):
 * there, DATABASE_PREPARED_STATEMENTS=false leaves connections unwrapped.
 */
export function preparingClient(client: Client): Client {
  const known = preparingClients.get(client)
  if (known !== undefined) return known
  const prepared = new Set<string>()
  preparedNames.set(client, prepared)
  const wrapped = {
    query: ((config: unknown, values?: unknown) => {
      if (typeof config !== 'string' || !Array.isArray(values) || values.length === 0) {
        return (client.query as (config: unknown, values?: unknown) => unknown)(config, values)
      }
      const name = statementName(config)
      if (prepared.has(name) || prepared.size < PREPARED_PER_CONNECTION) {
        prepared.add(name)
        return client.query({ name, text: config, values })
      }
      return client.query(config, values)
    }) as pg.PoolClient['query'],
    release: (error?: Error | boolean) => client.release(error),
  }
  preparingClients.set(client, wrapped)
  return wrapped
}
