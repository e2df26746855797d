import { type Static, Type } from '@sinclair/typebox'
import { ListFormatQuery } from './list-format.schema.js'
import {
  CountQuery,
  DateTime,
  EditNote,
  exampled,
  Nullable,
  ExportablePageQuery,
  SLUG_PATTERN,
  Uuid,
} from './common.schema.js'
import { LocationInput, LocationPatch, PRECISION_INPUT, StoredLocation, Tag, Tags } from './claim.schema.js'
import { EventKey } from './event-ref.schema.js'
import { versionHeading } from './tombstone.schema.js'
import { StringEnum } from './string-enum.js'
import { NullableTimePrecisionSchema, PartialDateTime, TIME_PRECISIONS, TimePrecisionSchema } from './time.schema.js'

const Slug = Type.String({
  pattern: SLUG_PATTERN,
  minLength: 1,
  maxLength: 100,
  description: 'Lower-case letters, digits and single hyphens; unique among events.',
  examples: ['btc-pipeline-strike'],
})
const Name = Type.String({ minLength: 1, maxLength: 300, examples: ['Missile strike on the BTC pipeline'] })
const Description = Type.String({ maxLength: 5000 })

/** What an event says: the fields an edit can change, and what each version in its history keeps. */
const eventContent = {
  slug: Type.String(),
  name: Type.String(),
  starts_at: Type.String({
    ...DateTime,
    description: 'When the event began: the first instant (UTC) of the span its precision names.',
  }),
  starts_at_precision: TimePrecisionSchema,
  ends_at: Nullable(
    Type.String({
      ...DateTime,
      description: 'When the event ended, if it has: the first instant (UTC) of the span its precision names.',
    }),
  ),
  ends_at_precision: NullableTimePrecisionSchema,
  location: StoredLocation,
  tags: Type.Array(Type.String()),
  description: Nullable(Type.String()),
}

export const EventSchema = Type.Object(
  {
    id: Uuid,
    ...eventContent,
    claim_count: Type.Integer({ minimum: 0, description: 'Live claims about the event.' }),
    disputed_claim_count: Type.Integer({
      minimum: 0,
      description: 'Those of its live claims that a live claim of another party rebuts.',
    }),
    version: Type.Integer({
      minimum: 1,
      description: 'Incremented by every change; earlier versions are in /history.',
    }),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'Event', title: 'Event', description: 'An incident that claims are about.' },
)
export type Event = Static<typeof EventSchema>

const StartsAt = Type.String({
  ...PartialDateTime,
  description: `When the event began. ${PartialDateTime.description}`,
})
const EndsAt = Type.String({
  ...PartialDateTime,
  description: `When the event ended; not before starts_at. ${PartialDateTime.description}`,
})
const StartsAtPrecision = StringEnum(TIME_PRECISIONS, {
  title: 'TimePrecision',
  description: PRECISION_INPUT('starts_at'),
})
const EndsAtPrecision = StringEnum(TIME_PRECISIONS, { title: 'TimePrecision', description: PRECISION_INPUT('ends_at') })

export const CreateEventBody = Type.Object(
  {
    slug: Slug,
    name: Name,
    starts_at: StartsAt,
    starts_at_precision: Type.Optional(StartsAtPrecision),
    ends_at: Type.Optional(EndsAt),
    ends_at_precision: Type.Optional(EndsAtPrecision),
    location: Type.Optional(LocationInput),
    tags: Type.Optional(Tags),
    description: Type.Optional(Description),
  },
  {
    additionalProperties: false,
    title: 'CreateEvent',
    examples: [
      {
        slug: 'cavusoglu-baku-visit',
        name: "Mevlut Cavusoglu's visit to Baku",
        starts_at: '2020-10-07',
        location: { name: 'Baku', lat: 40.4093, lon: 49.8671 },
        tags: ['diplomacy'],
        description: 'The Turkish Foreign Minister met the President and the Foreign Minister of Azerbaijan.',
      },
    ],
  },
)
export type CreateEventInput = Static<typeof CreateEventBody>

export const UpdateEventBody = Type.Object(
  {
    slug: Type.Optional(Slug),
    name: Type.Optional(Name),
    starts_at: Type.Optional(StartsAt),
    starts_at_precision: Type.Optional(StartsAtPrecision),
    ends_at: Type.Optional(Nullable(EndsAt)),
    ends_at_precision: Type.Optional(EndsAtPrecision),
    location: Type.Optional(Nullable(LocationPatch)),
    tags: Type.Optional(Tags),
    description: Type.Optional(Nullable(Description)),
    edit_note: Type.Optional(EditNote),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    title: 'UpdateEvent',
    examples: [{ tags: ['pipeline', 'missile', 'oil'], edit_note: 'Tags the oil.' }],
    description:
      'Fields to change; null clears an optional field, an absent field stays as it is. `edit_note` is not a ' +
      'field of the event: it says why the change is made, and the version it makes keeps it.',
  },
)
export type UpdateEventInput = Static<typeof UpdateEventBody>

export const EventVersionSchema = Type.Object(
  { ...versionHeading, event: Type.Object(eventContent) },
  { $id: 'EventVersion', title: 'EventVersion', description: 'An event as it read at one version.' },
)
export type EventVersion = Static<typeof EventVersionSchema>

export const EventParams = Type.Object({ event: EventKey })

export const EventListQuery = Type.Object(
  {
    ...ExportablePageQuery,
    ...CountQuery,
    ...ListFormatQuery,
    tag: Type.Optional(
      Type.Array(Tag, { maxItems: 20, description: 'Only events carrying every given tag; repeat for several.' }),
    ),
    q: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Only events whose name contains these words.' }),
    ),
    starts_after: Type.Optional(
      Type.String({
        ...exampled(PartialDateTime, '2020-10-06'),
        description: 'Only events that began at or after the start of this time: `2020-10` takes in the month.',
      }),
    ),
    starts_before: Type.Optional(
      Type.String({
        ...exampled(PartialDateTime, '2020-10-07'),
        description: 'Only events that began before the start of this time: `2020-10` leaves out the month.',
      }),
    ),
  },
  { additionalProperties: false },
)
export type EventListFilter = Static<typeof EventListQuery>
