import { Type } from '@sinclair/typebox'
import { StringEnum } from './string-enum.js'

/** The representations of a list: a JSON page (the default), or every matching item as CSV or NDJSON. */
export const LIST_FORMATS = ['json', 'csv', 'ndjson'] as const
export type ListFormat = (typeof LIST_FORMATS)[number]

export const MEDIA_TYPES: Record<ListFormat, string> = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8; header=present',
  ndjson: 'application/x-ndjson',
}

/** The `format` query parameter of the lists, for links and browsers, which cannot set Accept. */
export const ListFormatQuery = {
  format: Type.Optional(
    StringEnum(LIST_FORMATS, {
      title: 'ListFormat',
      description:
        'The representation, over the Accept header: `json` (a page, the default), or `csv` or `ndjson` (every ' +
        'matching item, streamed, or with `limit` the first N; `cursor` does not apply).',
    }),
  ),
}
