import { unavailable } from '../errors/problems.js'

/**
 * Rows an export reads per query: large enough that the queries cost little next to encoding the rows, small
 * enough that each is short, the first rows leave at once and memory stays flat.
 */
export const EXPORT_CHUNK_ROWS = 1000

/** A row's place in a keyset order: the value it is sorted by, then the id that breaks ties. */
export type KeysetPosition = [string | number, string]

/**
 * Every row of a keyset-ordered list, read `EXPORT_CHUNK_ROWS` at a time, each chunk a query of its own after the
 * last row of the one before. Nothing is held between chunks (no transaction, no connection, no cursor), so a
 * client that reads slowly holds up no other request, and on the embedded database, whose one session serves
 * everyone, other requests are served between two chunks. As on the pages of the JSON list, a row changed while
 * the export runs may be found at its old place or its new one. The export ends, cut off, at `deadline`.
 */
export function keysetChunks<Row>(
  readChunk: (after: KeysetPosition | undefined, limit: number) => Promise<Row[]>,
  positionOf: (row: Row) => KeysetPosition,
  limitMs: number,
): AsyncGenerator<Row>
/** The same, for a list whose position has other parts than a value and an id. */
export function keysetChunks<Row, Position>(
  readChunk: (after: Position | undefined, limit: number) => Promise<Row[]>,
  positionOf: (row: Row) => Position,
  limitMs: number,
): AsyncGenerator<Row>
export async function* keysetChunks<Row, Position>(
  readChunk: (after: Position | undefined, limit: number) => Promise<Row[]>,
  positionOf: (row: Row) => Position,
  limitMs: number,
): AsyncGenerator<Row> {
  const deadline = Date.now() + limitMs
  let after: Position | undefined
  for (;;) {
    if (Date.now() > deadline) throw exportTimedOut(limitMs)
    const rows = await readChunk(after, EXPORT_CHUNK_ROWS)
    yield* rows
    const last = rows.at(-1)
    if (last === undefined || rows.length < EXPORT_CHUNK_ROWS) return
    after = positionOf(last)
  }
}

/** A chunk of an export as the database wrote it: its text, how many rows it holds, and where the last one is. */
export interface TextChunk<Position> {
  text: string
  rows: number
  last: Position | undefined
}

/**
 * An export that the database writes out itself, `EXPORT_CHUNK_ROWS` rows to a chunk, each chunk a query of its own
 * after the last row of the one before, as keysetChunks reads rows. The next chunk is read while the one before is
 * sent: the database writes while Node passes text on. `head` goes out with the first chunk, so that nothing is
 * sent before the first query answers; `rows` ends the export after so many rows.
 */
export async function* keysetTexts<Position>(
  readChunk: (after: Position | undefined, limit: number) => Promise<TextChunk<Position>>,
  options: { head: string; limitMs: number; rows?: number },
): AsyncGenerator<string> {
  const deadline = Date.now() + options.limitMs
  let remaining = options.rows ?? Number.POSITIVE_INFINITY
  let asked = Math.min(EXPORT_CHUNK_ROWS, remaining)
  let reading = readChunk(undefined, asked)
  let head = options.head
  for (;;) {
    const chunk = await reading
    remaining -= chunk.rows
    const more = chunk.rows >= asked && remaining > 0 && chunk.last !== undefined
    const late = Date.now() > deadline
    if (more && !late) {
      asked = Math.min(EXPORT_CHUNK_ROWS, remaining)
      reading = readChunk(chunk.last, asked)
      // Read ahead: a client that leaves before it is taken leaves its failure to no one.
      reading.catch(() => {})
    }
    yield head + chunk.text
    head = ''
    if (!more) return
    if (late) throw exportTimedOut(options.limitMs)
  }
}

/**
 * Rows read by their ids in the order the ids are given, `EXPORT_CHUNK_ROWS` ids per query: for an order that no
 * keyset can resume cheaply (a rank computed per query), the ids are put in order once, then read in chunks.
 */
export async function* idChunks<Row extends { id: string }>(
  ids: string[],
  readRows: (ids: string[]) => Promise<Row[]>,
  limitMs: number,
): AsyncGenerator<Row> {
  const deadline = Date.now() + limitMs
  for (let start = 0; start < ids.length; start += EXPORT_CHUNK_ROWS) {
    if (Date.now() > deadline) throw exportTimedOut(limitMs)
    const chunk = ids.slice(start, start + EXPORT_CHUNK_ROWS)
    const byId = new Map((await readRows(chunk)).map((row) => [row.id, row]))
    // A row deleted since the ids were read is left out.
    for (const id of chunk) {
      const row = byId.get(id)
      if (row !== undefined) yield row
    }
  }
}

function exportTimedOut(limitMs: number) {
  return unavailable(`the export ran past its time limit (${limitMs} ms); narrow it with filters`)
}

/** The items of an export, made from its rows one by one as the client reads them. */
export async function* mapRows<Row, Item>(rows: AsyncIterable<Row>, toItem: (row: Row) => Item): AsyncGenerator<Item> {
  for await (const row of rows) yield toItem(row)
}
