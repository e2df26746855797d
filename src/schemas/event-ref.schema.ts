import { type Static, Type } from '@sinclair/typebox'
import { Uuid } from './common.schema.js'

/** How a request names an event: its id or its slug. */
export const EventKey = Type.String({
  minLength: 1,
  maxLength: 100,
  description: 'An event id (uuid) or slug.',
  examples: ['btc-pipeline-strike'],
})

export const EventRefSchema = Type.Object(
  { id: Uuid, slug: Type.String(), name: Type.String() },
  { $id: 'EventRef', title: 'EventRef', description: 'A short reference to an event.' },
)
export type EventRef = Static<typeof EventRefSchema>
