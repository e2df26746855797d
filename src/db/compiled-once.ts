import type { Compilable, CompiledQuery } from 'kysely'
import type { Db } from './schema.js'

/** Where the one value goes in a query compiled once: no value a request sends can equal it. */
const VALUE = Symbol('the value of a query compiled once')

/**
 * A query of one shape whose only input is one value, built and compiled by Kysely once, then run with each value.
 * On the hottest reads, building and compiling the query again on every request costs more CPU than PostgreSQL
 * spends answering its prepared statement; the same statement text also spares the prepared-statement lookup its
 * hashing of a new string.
 */
export function compiledOnce<Row>(build: (db: Db, value: never) => Compilable<Row>) {
  let compiled: { query: CompiledQuery<Row>; at: number } | undefined
  return async (db: Db, value: unknown): Promise<Row[]> => {
    if (compiled === undefined) {
      const query = build(db, VALUE as never).compile()
      const at = query.parameters.indexOf(VALUE)
      if (at === -1 || query.parameters.lastIndexOf(VALUE) !== at) {
        throw new Error(`a query compiled once takes its value exactly once: ${query.sql}`)
      }
      compiled = { query, at }
    }
    const parameters = [...compiled.query.parameters]
    parameters[compiled.at] = value
    const { rows } = await db.executeQuery<Row>({ ...compiled.query, parameters })
    return rows
  }
}
