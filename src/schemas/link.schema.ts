import { type Static, Type } from '@sinclair/typebox'
import { ClaimSchema, CreateClaimBody } from './claim.schema.js'
import { Aspect, LinkMeasure, NullableAspect } from './aspect.schema.js'
import { CountQuery, DateTime, EditNote, Nullable, ExportablePageQuery, Uuid } from './common.schema.js'
import { ListFormatQuery } from './list-format.schema.js'
import { PartyKey, PartyRefSchema } from './party.schema.js'
import { StringEnum } from './string-enum.js'
import { versionHeading } from './tombstone.schema.js'

export const LINK_KINDS = ['rebuts', 'supports', 'repeats', 'corrects', 'retracts'] as const

const Kind = StringEnum(LINK_KINDS, {
  title: 'LinkKind',
  description:
    'rebuts: the responding claim disputes the other; supports: it backs it; repeats: it says the same again, an ' +
    'echo that is neither a rebuttal nor a support and counts apart (all three between claims of different ' +
    'parties). corrects: a later claim of the same party, or of a party on its side chain, replaces the earlier ' +
    "one's wording or figure; retracts: such a claim withdraws it. A correction or retraction is not a response: " +
    "it changes the earlier claim's standing, not its rebuttal or support counts.",
})
const Note = Type.String({
  minLength: 1,
  maxLength: 2000,
  description: 'Why the one claim answers the other.',
  examples: ['Calls the pipeline report "another lie".'],
})

const Prebuttal = Type.Boolean({
  description:
    'A prebuttal: the response was made before the claim it answers, pre-emptively. A response stated before ' +
    'what it answers (its whole time span ending by the time that claim was stated; the same day is not before) ' +
    'is refused with 422 out-of-time-order unless the link says so.',
})

export const LinkSchema = Type.Object(
  {
    id: Uuid,
    kind: Kind,
    from_claim_id: Type.String({ ...Uuid, description: 'The responding claim.' }),
    to_claim_id: Type.String({ ...Uuid, description: 'The claim it answers.' }),
    from_party: Type.Ref(PartyRefSchema, { description: 'Who responds.' }),
    to_party: Type.Ref(PartyRefSchema, { description: 'Whose claim is answered.' }),
    note: Nullable(Type.String()),
    prebuttal: Prebuttal,
    aspect: NullableAspect,
    measure: Nullable(LinkMeasure),
    from_claim_stated_at: Type.String({ ...DateTime, description: 'When the responding claim was stated.' }),
    to_claim_stated_at: Type.String({ ...DateTime, description: 'When the claim it answers was stated.' }),
    version: Type.Integer({
      minimum: 1,
      description: 'Incremented by every change; earlier versions are in /history.',
    }),
    created_at: DateTime,
    updated_at: DateTime,
  },
  {
    $id: 'Link',
    title: 'Link',
    description:
      'A claim answering a claim of another party (rebutting or supporting it), or a later claim of the same ' +
      'party or side chain correcting or retracting an earlier one.',
  },
)
export type Link = Static<typeof LinkSchema>

export const CreateLinkBody = Type.Object(
  {
    from_claim_id: Type.String({ ...Uuid, description: 'The responding claim.' }),
    to_claim_id: Type.String({
      ...Uuid,
      description:
        'The claim it answers: by another party for rebuts, supports and repeats; stated no later, by the same party or ' +
        'one on its side chain (one speaks for the other, directly or not), for corrects and retracts.',
    }),
    kind: Kind,
    note: Type.Optional(Note),
    prebuttal: Type.Optional(Type.Boolean({ ...Prebuttal, default: false })),
    aspect: Type.Optional(Aspect),
    measure: Type.Optional(LinkMeasure),
  },
  {
    additionalProperties: false,
    title: 'CreateLink',
    // Two claims of the demo data set that no link joins yet: Cavusoglu's answer to Pashinyan's call.
    examples: [
      {
        from_claim_id: '5eed0000-0000-4000-8000-000000000004',
        to_claim_id: '5eed0000-0000-4000-8000-000000000006',
        kind: 'rebuts',
        note: 'Thirty years of appeals have settled nothing: Armenia is to leave, not to trade concessions.',
      },
    ],
  },
)
export type CreateLinkInput = Static<typeof CreateLinkBody>

export const UpdateLinkBody = Type.Object(
  {
    note: Type.Optional(Nullable(Note)),
    prebuttal: Type.Optional(Prebuttal),
    aspect: Type.Optional(NullableAspect),
    measure: Type.Optional(Nullable(LinkMeasure)),
    edit_note: Type.Optional(EditNote),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    title: 'UpdateLink',
    examples: [{ note: 'Calls the statement "another lie".', edit_note: 'Quotes the ministry.' }],
    description:
      'Fields to change; null clears the note, aspect or measure (an aspect other than figure clears the measure), ' +
      "an absent field stays as it is. A link's claims and kind cannot " +
      'change: delete it and make another. `edit_note` is not a field of the link: it says why the change is ' +
      'made, and the version it makes keeps it.',
  },
)
export type UpdateLinkInput = Static<typeof UpdateLinkBody>

export const LinkVersionSchema = Type.Object(
  {
    ...versionHeading,
    link: Type.Object({
      note: Nullable(Type.String()),
      prebuttal: Type.Boolean(),
      aspect: NullableAspect,
      measure: Nullable(LinkMeasure),
    }),
  },
  {
    $id: 'LinkVersion',
    title: 'LinkVersion',
    description: 'A link as it read at one version: what an edit can change (its claims and kind never change).',
  },
)
export type LinkVersion = Static<typeof LinkVersionSchema>

export const LinkParams = Type.Object({ id: Uuid })

export const LinkListQuery = Type.Object(
  {
    ...ExportablePageQuery,
    ...CountQuery,
    ...ListFormatQuery,
    claim: Type.Optional(Type.String({ ...Uuid, description: 'Only links from or to this claim.' })),
    party: Type.Optional(
      Type.String({ ...PartyKey, description: 'Only links from or to a claim of this party (id or slug).' }),
    ),
    kind: Type.Optional(Kind),
  },
  { additionalProperties: false },
)
export type LinkListFilter = Static<typeof LinkListQuery>

export const RebuttalSchema = Type.Object(
  {
    link: Type.Ref(LinkSchema),
    claim: Type.Ref(ClaimSchema, { description: 'The rebutting claim.' }),
  },
  { $id: 'Rebuttal', title: 'Rebuttal', description: 'A claim that rebuts another, and the link between them.' },
)
export type Rebuttal = Static<typeof RebuttalSchema>

export const CreateRebuttalBody = Type.Object(
  {
    claim_id: Type.Optional(Type.String({ ...Uuid, description: 'An existing claim, by another party, that rebuts.' })),
    claim: Type.Optional(CreateClaimBody),
    note: Type.Optional(Note),
    prebuttal: Type.Optional(Type.Boolean({ ...Prebuttal, default: false })),
    aspect: Type.Optional(Aspect),
    measure: Type.Optional(LinkMeasure),
  },
  {
    additionalProperties: false,
    title: 'CreateRebuttal',
    // The Armenian Foreign Ministry's answer to the demo's disputed claim, recorded anew in its own words.
    examples: [
      {
        claim: {
          party: 'am-foreign-ministry',
          text: 'The Azerbaijani statement is another lie, meant to justify the shelling of peaceful settlements.',
          quote:
            'another lie, which primarily seeks to justify the prolonged shelling of peaceful settlements in ' +
            'Artsakh (Nagorno-Karabakh) and Armenia',
          stated_at: '2020-10-06',
          language: 'en',
          tags: ['pipeline', 'denial'],
        },
        note: 'Calls the pipeline report "another lie".',
      },
    ],
    description:
      'Exactly one of claim_id (an existing claim by another party, linked as a rebuttal) or claim (a new ' +
      'counter-claim, recorded with its link in one transaction: both or neither).',
  },
)
export type CreateRebuttalInput = Static<typeof CreateRebuttalBody>

/**
 * What the document says of a rebuttal body beyond its fields: exactly one of claim_id or claim. The service checks
 * it itself, so that its answer names both fields and says what each is for; request validation leaves it to it.
 */
export const CreateRebuttalAlternatives = {
  oneOf: [
    {
      description: 'An existing claim, linked as a rebuttal.',
      type: 'object',
      required: ['claim_id'],
      properties: { claim_id: { type: 'string', format: 'uuid' } },
    },
    {
      description: 'A new counter-claim, recorded with its link.',
      type: 'object',
      required: ['claim'],
      properties: { claim: { $ref: '#/components/schemas/CreateClaim' } },
    },
  ],
}
