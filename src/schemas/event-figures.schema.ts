import { type Static, Type } from '@sinclair/typebox'
import { CLAIM_STANDINGS } from './claim.schema.js'
import { DateTime, Nullable, Uuid } from './common.schema.js'
import { EventRefSchema } from './event-ref.schema.js'
import { PartyRefSchema } from './party.schema.js'
import { StringEnum } from './string-enum.js'
import { NullableTimePrecisionSchema, TimePrecisionSchema } from './time.schema.js'

/** A figure as the table shows it: the figure, and the claim that stated it, with that claim's standing. */
export const StatedFigureSchema = Type.Object(
  {
    claim_id: Uuid,
    stated_at: DateTime,
    stated_at_precision: TimePrecisionSchema,
    standing: StringEnum(CLAIM_STANDINGS, {
      title: 'Standing',
      description: 'The standing of the claim that states it: a corrected figure is shown as `corrected`.',
    }),
    value: Nullable(Type.Number({ description: 'The figure, when one number; null for a range.' })),
    low: Nullable(Type.Number({ description: 'The low end of a range; null when open.' })),
    high: Nullable(Type.Number({ description: 'The high end of a range; null when open.' })),
    unit: Nullable(Type.String()),
    qualifier: Nullable(Type.String()),
    as_of: Nullable(DateTime),
    as_of_precision: NullableTimePrecisionSchema,
  },
  { title: 'EventFigure', description: 'A figure, with the claim that states it.' },
)
export type StatedFigure = Static<typeof StatedFigureSchema>

export const EventFiguresSchema = Type.Object(
  {
    event: Type.Ref(EventRefSchema),
    measures: Type.Array(
      Type.Object({
        measure: Type.String(),
        unit: Nullable(
          Type.String({
            description:
              'The unit its figures are stated in (null: none stated). One measure in two units is two entries, ' +
              'each with its own latest figures and spread: the table never compares numbers of different units.',
          }),
        ),
        parties: Type.Array(
          Type.Object({
            party: Type.Ref(PartyRefSchema),
            latest: Type.Union([StatedFigureSchema, Type.Null()], {
              description:
                'The figure of its latest stated claim that is not retracted (of two stated at one time, the one ' +
                'recorded later; of two figures in one claim, the later as_of); null when it retracted every one.',
            }),
            earlier: Type.Array(StatedFigureSchema, {
              description: 'Its other figures of the measure (earlier ones, and retracted ones), latest stated first.',
            }),
          }),
          { description: 'Each party that states the measure, by slug.' },
        ),
        spread: Type.Object(
          {
            low: Nullable(Type.Number({ description: 'The lowest number among the parties’ latest figures.' })),
            high: Nullable(Type.Number({ description: 'The highest number among the parties’ latest figures.' })),
          },
          {
            description:
              'How far apart the parties are: a value counts as itself, a range by its ends (an open end by the ' +
              'other). Null when no party has a latest figure.',
          },
        ),
      }),
      { description: 'Each measure and unit stated by the event’s live claims, by measure, then unit (none first).' },
    ),
  },
  {
    $id: 'EventFigures',
    title: 'EventFigures',
    description: 'The contested quantities of an event: what each party says of each measure, and how that changed.',
  },
)
export type EventFigures = Static<typeof EventFiguresSchema>

export const EventFiguresQuery = Type.Object(
  {
    format: Type.Optional(
      StringEnum(['json', 'csv'] as const, {
        title: 'TableFormat',
        description: 'The representation, over the Accept header: `json` (the default) or `csv`, one row per figure.',
      }),
    ),
  },
  { additionalProperties: false },
)

/** One row of the CSV form: a figure, with its measure, its party and the spread of its measure. */
export interface EventFigureRow {
  measure: string
  party: { id: string; slug: string; name: string }
  latest: boolean
  figure: StatedFigure
  spread: { low: number | null; high: number | null }
}
