import { type RawBuilder, sql } from 'kysely'
import { jsNumber } from './csv-fields.js'

// JSON text written by PostgreSQL byte for byte as JSON.stringify writes the service's objects: no spaces, members
// in the order given, instants as toISOString() writes them, numbers in JavaScript's form. (PostgreSQL's own
// json_build_object and json_agg put spaces and line breaks between members.)

/** A string, escaped as JSON.stringify escapes it (the same characters, the same \u00xx form); null for null. */
export function jsonString(value: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`coalesce(to_json(${value})::text, 'null')`
}

/** An integer; null for null. */
export function jsonInteger(value: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`coalesce(${value}::text, 'null')`
}

/** A double, or a numeric read as one, as JavaScript writes the number; null for null. */
export function jsonNumber(value: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`CASE WHEN ${value} IS NULL THEN 'null' ELSE ${jsNumber(sql`${value}::float8`)} END`
}

/** true, false or null. */
export function jsonBoolean(value: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`CASE WHEN ${value} THEN 'true' WHEN NOT ${value} THEN 'false' ELSE 'null' END`
}

/** An instant as toISOString() writes it, quoted; null for null. */
export function jsonInstant(value: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`CASE WHEN ${value} IS NULL THEN 'null'
    ELSE '"' || to_char(${value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"' END`
}

/** An array of strings or uuids, compact; null for null. */
export function jsonArray(value: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`coalesce(array_to_json(${value})::text, 'null')`
}

/** An object of these members, in this order; each value is JSON text already, never SQL null. */
export function jsonObject(members: Array<[string, RawBuilder<string>]>): RawBuilder<string> {
  const parts = members.map(([name, value], i) => {
    const opening = `${i === 0 ? '{' : ','}${JSON.stringify(name)}:`
    return sql`${sql.raw(`'${opening.replaceAll("'", "''")}'`)}, ${value}`
  })
  return sql<string>`concat(${sql.join(parts, sql`, `)}, '}')`
}

/** The JSON texts of `element` over the rows of `from`, in `order`, as one array; [] when there are none. */
export function jsonArrayOf(element: RawBuilder<string>, from: RawBuilder<unknown>, order: RawBuilder<unknown>) {
  return sql<string>`coalesce((SELECT '[' || string_agg(${element}, ',' ORDER BY ${order}) || ']' ${from}), '[]')`
}

/**
 * A jsonb array of flat objects (a claim's sources), compact, its members in jsonb's own order, as JSON.parse
 * reads them back: their values are strings or null, written as jsonb writes scalars.
 */
export function jsonFlatObjects(value: RawBuilder<unknown>): RawBuilder<string> {
  return jsonArrayOf(
    sql<string>`(SELECT '{' || coalesce(string_agg(to_json(pair.key)::text || ':' || pair.value::text, ','
                   ORDER BY pair.ord), '') || '}'
       FROM jsonb_each(item.value) WITH ORDINALITY AS pair (key, value, ord))`,
    sql`FROM jsonb_array_elements(${value}) WITH ORDINALITY AS item (value, ord)`,
    sql`item.ord`,
  )
}
