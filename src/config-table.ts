import type { TSchema } from '@sinclair/typebox'
import { SETTING_LIST } from './config.js'

/** A document that holds a generated table of settings between two markers; what is between them is replaced. */
export interface GeneratedTable {
  /** Relative to the project's root. */
  document: string
  start: string
  end: string
  /** The variables of the table, in the order of the schema; all of them when absent. */
  variables?: readonly string[]
}

/** Every document with a table of settings: the full one in the manual, the few most often set in the README. */
export const GENERATED_TABLES: readonly GeneratedTable[] = [
  {
    document: 'docs/operations.md',
    start: '<!-- configuration table: generated from src/config.ts by `npm run docs:config` -->',
    end: '<!-- end of configuration table -->',
  },
  {
    document: 'README.md',
    start: '<!-- configuration summary: generated from src/config.ts by `npm run docs:config` -->',
    end: '<!-- end of configuration summary -->',
    variables: ['PORT', 'HOST', 'DATABASE_URL', 'DATA_DIR', 'LOG_LEVEL'],
  },
]

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

/**
 * The table of the settings (variable, default, values, meaning), all of them or those named, as Prettier lays
 * out a Markdown table.
 */
export function configurationTable(variables?: readonly string[]): string {
  const settings = SETTING_LIST.filter(({ variable }) => variables === undefined || variables.includes(variable))
  const unknown = variables?.filter((variable) => !settings.some((setting) => setting.variable === variable)) ?? []
  if (unknown.length > 0) throw new Error(`no such setting: ${unknown.join(', ')}`)
  const rows = [
    ['Variable', 'Default', 'Values', 'Meaning'],
    ...settings.map(({ variable, schema }) => [
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

/** `text`, the content of `table.document`, with its table replaced by the current one; throws without markers. */
export function withConfigurationTable(text: string, table: GeneratedTable): string {
  const start = text.indexOf(table.start)
  const end = text.indexOf(table.end, start)
  if (start < 0 || end < 0) throw new Error(`${table.document} has no "${table.start}" … "${table.end}" section`)
  return `${text.slice(0, start + table.start.length)}\n\n${configurationTable(table.variables)}\n\n${text.slice(end)}`
}
