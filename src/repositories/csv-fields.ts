import { type RawBuilder, sql } from 'kysely'

// CSV fields written by PostgreSQL, byte for byte as the service's CSV encoder writes the same values (RFC 4180
// quoting, spreadsheet-safe text, JavaScript's forms of instants and numbers), so that an export can be sent as the
// database writes it. Each takes a plain column or an output column of a subquery: its argument appears several
// times in the expression.

/**
 * A text field: empty for null; text a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a
 * carriage return) after an apostrophe; quoted, quotes doubled, when it holds a quote, a comma, a CR or an LF.
 */
export function csvText(value: RawBuilder<unknown>): RawBuilder<string> {
  const inert = sql`CASE WHEN left(${value}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') THEN '''' || ${value}
    ELSE ${value} END`
  return sql<string>`coalesce(CASE WHEN strpos(${value}, '"') > 0 OR strpos(${value}, ',') > 0
    OR strpos(${value}, E'\\n') > 0 OR strpos(${value}, E'\\r') > 0
    THEN '"' || replace(${inert}, '"', '""') || '"' ELSE ${inert} END, '')`
}

/**
 * A field that the database's own checks keep from holding a character CSV must quote or a first character a
 * spreadsheet would run (ids, enums, slugs, language tags): empty for null.
 */
export function csvPlain(value: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`coalesce(${value}::text, '')`
}

/** An instant as `toISOString()` writes it (UTC, to the millisecond, cut not rounded); empty for null. */
export function csvInstant(value: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`coalesce(to_char(${value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '')`
}

/**
 * A double that is not null, as JavaScript writes it: PostgreSQL's shortest form has the same digits, but writes an
 * exponent from 1e-5 down (JavaScript from 1e-7, with no leading zero in it) and from 1e15 up (JavaScript from
 * 1e21), and keeps the sign of zero.
 */
export function jsNumber(value: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`CASE WHEN ${value} = 0 THEN '0'
    WHEN ${value}::text NOT LIKE '%e%' THEN ${value}::text
    WHEN abs(${value}) >= 1e-6 AND abs(${value}) < 1e21 THEN ${value}::text::numeric::text
    ELSE regexp_replace(${value}::text, 'e([+-])0*', 'e\\1') END`
}

/** A double as JavaScript writes it; empty for null. */
export function csvDouble(value: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`CASE WHEN ${value} IS NULL THEN '' ELSE ${jsNumber(value)} END`
}

/** The fields of one record, joined with commas and ended with CRLF. */
export function csvRecord(fields: RawBuilder<string>[]): RawBuilder<string> {
  return sql<string>`concat_ws(',', ${sql.join(fields, sql`, `)}) || E'\\r\\n'`
}
