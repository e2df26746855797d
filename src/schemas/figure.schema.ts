import { type Static, Type } from '@sinclair/typebox'
import { CLAIM_STANDINGS, FigureSchema, Measure, standingFilter } from './claim.schema.js'
import { CountQuery, DateTime, exampled, ExportablePageQuery, Uuid } from './common.schema.js'
import { ListFormatQuery } from './list-format.schema.js'
import { EventKey } from './event-ref.schema.js'
import { PartyKey, PartyRefSchema } from './party.schema.js'
import { StringEnum } from './string-enum.js'
import { TimePrecisionSchema } from './time.schema.js'

/** A figure as the figures list gives it: with the claim that states it, who stated it, when, and its standing. */
export const StatedFigureSchema = Type.Object(
  {
    claim_id: Uuid,
    party: Type.Ref(PartyRefSchema),
    stated_at: Type.String({ ...DateTime, description: 'When the claim was made: the first instant of its span.' }),
    stated_at_precision: TimePrecisionSchema,
    standing: StringEnum(CLAIM_STANDINGS, {
      title: 'Standing',
      description: "The claim's standing: a corrected or retracted claim's figure no longer stands as said.",
    }),
    ...FigureSchema.properties,
  },
  {
    $id: 'StatedFigure',
    title: 'StatedFigure',
    description: 'A figure a live claim states, with the claim, its party, when it was stated and its standing.',
  },
)
export type StatedFigure = Static<typeof StatedFigureSchema>

export const FigureListQuery = Type.Object(
  {
    ...ExportablePageQuery,
    ...CountQuery,
    ...ListFormatQuery,
    measure: Type.Optional(
      Type.Array(exampled(Measure, 'deaths'), {
        maxItems: 20,
        description: 'Only figures of one of these measures (`deaths`); repeat for several.',
      }),
    ),
    party: Type.Optional(
      Type.String({ ...exampled(PartyKey, 'armenia'), description: 'Only figures stated by this party (id or slug).' }),
    ),
    claim: Type.Optional(Type.String({ ...Uuid, description: 'Only the figures of this claim.' })),
    event: Type.Optional(
      Type.String({
        ...exampled(EventKey, 'war-casualties'),
        description: 'Only the figures of claims about this event (id or slug).',
      }),
    ),
    ...standingFilter,
  },
  { additionalProperties: false },
)
export type FigureListFilter = Static<typeof FigureListQuery>
