import type { TSchema } from '@sinclair/typebox'
import { SETTING_LIST } from './config.js'

/** The markers between which a document holds the generated table; everything between them is replaced. */
export const TABLE_START = '<!-- configuration table: generated from src/config.ts by `npm run docs:config` -->'
export const TABLE_END = '<!-- end of configuration table -->'

const code = (value: unknown) => `\`${String(value)}\``
const number = (value: number) => value.toLocaleString('en-GB')

/** What a value may be, read from the schema's type and bounds. */
function valuesOf(schema: TSchema): string {
  if (Array.isArray(schema.enum)) return (schema.enum as unknown[]).map(code).join(', ')
  if (schema.type === 'boolean') return `${code(true)} or ${code(false)}`
  if (schema.type === 'integer') {
    const { minimum, maximum } = schema as { minimum?: number; maximum?: number }
    if (minimum !== undefined && maximum !== undefined) return `${number(minimum)} to ${number(maximum)}`
    if (minimum !== undefined) return `${number(minimum)} or more`
    return 'an integer'
  }
  if (typeof schema.pattern === 'string') return `text matching ${code(schema.pattern)}`
  return 'text'
}

/** The table of every setting (variable, default, values, meaning), as Prettier lays out a Markdown table. */
export function configurationTable(): string {
  const rows = [
    ['Variable', 'Default', 'Values', 'Meaning'],
    ...SETTING_LIST.map(({ variable, schema }) => [
      code(variable),
      schema.default === undefined ? 'unset' : code(schema.default),
      valuesOf(schema),
      String(schema.description ?? ''),
    ]),
  ].map((row) => row.map((cell) => cell.replaceAll('|', '\\|')))
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`
  const [header, ...body] = rows
  return [line(header!), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n')
}

/** `document` with the text between the markers replaced by the current table; throws when a marker is missing. */
export function withConfigurationTable(document: string): string {
  const start = document.indexOf(TABLE_START)
  const end = document.indexOf(TABLE_END, start)
  if (start < 0 || end < 0) throw new Error(`the document has no "${TABLE_START}" … "${TABLE_END}" section`)
  return `${document.slice(0, start + TABLE_START.length)}\n\n${configurationTable()}\n\n${document.slice(end)}`
}
