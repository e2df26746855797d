/**
 * Rows an export reads from its cursor per round trip: large enough that the round trips cost little next to
 * encoding the rows, small enough that the first rows leave at once and memory stays flat.
 */
export const EXPORT_CHUNK_ROWS = 1000

/** The items of an export, made from its rows one by one as the client reads them. */
export async function* mapRows<Row, Item>(rows: AsyncIterable<Row>, toItem: (row: Row) => Item): AsyncGenerator<Item> {
  for await (const row of rows) yield toItem(row)
}
