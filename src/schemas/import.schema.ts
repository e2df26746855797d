import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { CreateClaimBody } from './claim.schema.js'
import { DateTime, ProblemSchema, Uuid } from './common.schema.js'
import { TombstoneSchema } from './tombstone.schema.js'
import { CreateLinkBody } from './link.schema.js'
import { CreatePartyBody, PartyKey } from './party.schema.js'
import { CreateEventBody } from './event.schema.js'
import { EventKey } from './event-ref.schema.js'
import { CreateReviewBody } from './review.schema.js'
import { StringEnum } from './string-enum.js'

export const IMPORT_MODES = ['all-or-nothing', 'best-effort'] as const
export type ImportMode = (typeof IMPORT_MODES)[number]

export const ImportQuery = Type.Object(
  {
    mode: Type.Optional(
      StringEnum(IMPORT_MODES, {
        title: 'ImportMode',
        default: 'all-or-nothing',
        description:
          'all-or-nothing: any bad line rolls the whole import back (422); best-effort: the good lines are kept.',
      }),
    ),
  },
  { additionalProperties: false },
)

const Ref = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'A name the caller gives the record, unique per kind; a later line or import names it by it.',
  examples: ['az-mod-claim-17'],
})

/** A record named by its import ref: one that an earlier line, or an earlier import, gave that ref. */
export const RecordRef = Type.Object({ ref: Ref }, { additionalProperties: false, title: 'ImportRecordRef' })
export type RecordRefInput = Static<typeof RecordRef>

/** A reference the API itself takes (an id, a slug), or `{"ref": …}`. */
const orRef = <T extends TSchema>(key: T, description: string) =>
  Type.Union([key, RecordRef], { description: `${description}, or {"ref": …} naming it by its import ref.` })

const lineOf = <T extends string>(type: T) => ({
  type: Type.Literal(type),
  ref: Ref,
})

export const PartyLine = Type.Object(
  {
    ...lineOf('party'),
    ...CreatePartyBody.properties,
    side: Type.Optional(orRef(PartyKey, 'The party this party speaks for: a party id or slug')),
  },
  { additionalProperties: false, title: 'ImportPartyLine' },
)
export type PartyLineInput = Static<typeof PartyLine>

export const EventLine = Type.Object(
  { ...lineOf('event'), ...CreateEventBody.properties },
  { additionalProperties: false, title: 'ImportEventLine' },
)
export type EventLineInput = Static<typeof EventLine>

export const ClaimLine = Type.Object(
  {
    ...lineOf('claim'),
    ...CreateClaimBody.properties,
    party: orRef(PartyKey, 'Who made the claim: a party id or slug'),
    event: Type.Optional(orRef(EventKey, 'The event the claim is about: an event id or slug')),
    version: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 2_147_483_647,
        description:
          'The version of the claim this line states, so that a claim’s history imports as that history (and a ' +
          'review’s claim_version names the same words): the claim’s lines come in version order, from 1 (its ' +
          'first line creates it, as version 1); a line naming the claim’s next version makes it, a line naming ' +
          'a version the claim has already is unchanged. Without it, a line restates the claim as it is now.',
      }),
    ),
  },
  { additionalProperties: false, title: 'ImportClaimLine' },
)
export type ClaimLineInput = Static<typeof ClaimLine>

export const LinkLine = Type.Object(
  {
    ...lineOf('link'),
    kind: CreateLinkBody.properties.kind,
    from: orRef(Uuid, 'The responding claim: a claim id'),
    to: orRef(
      Uuid,
      'The claim it answers or repeats (by another party), corrects or retracts (earlier, same party or side chain): a claim id',
    ),
    note: CreateLinkBody.properties.note,
    prebuttal: CreateLinkBody.properties.prebuttal,
    aspect: CreateLinkBody.properties.aspect,
    measure: CreateLinkBody.properties.measure,
  },
  { additionalProperties: false, title: 'ImportLinkLine' },
)
export type LinkLineInput = Static<typeof LinkLine>

export const ReviewLine = Type.Object(
  {
    ...lineOf('review'),
    claim: orRef(Uuid, 'The reviewed claim: a claim id'),
    ...CreateReviewBody.properties,
    reviewer: orRef(PartyKey, 'The fact-checker: a party id or slug'),
  },
  {
    additionalProperties: false,
    title: 'ImportReviewLine',
    // The rating comes with its scale, as in the API's own review body.
    dependentRequired: (CreateReviewBody as { dependentRequired?: Record<string, string[]> }).dependentRequired,
  },
)
export type ReviewLineInput = Static<typeof ReviewLine>

/** The kinds of record an import writes, and so may delete. */
export const IMPORTED_KINDS = ['party', 'event', 'claim', 'review', 'link'] as const

/** A line that deletes the record an earlier line, or an earlier import, gave its ref, as DELETE does. */
export const DeletionLine = Type.Object(
  {
    type: Type.Literal('deletion'),
    of: StringEnum(IMPORTED_KINDS, { title: 'RecordKind', description: 'The kind of the record it deletes.' }),
    ref: Type.String({
      ...Ref,
      description:
        'The import ref of the record it deletes, given by an earlier line of this import or by an earlier import.',
    }),
    deleted_at: Type.Optional(
      Type.String({
        ...DateTime,
        description:
          'When the record was deleted, as its tombstone says (`deleted_at` of GET /v1/tombstones), not later than ' +
          'now; the time of the import when left out.',
      }),
    ),
  },
  { additionalProperties: false, title: 'ImportDeletionLine' },
)
export type DeletionLineInput = Static<typeof DeletionLine>

export const IMPORT_LINE_TYPES = ['party', 'event', 'claim', 'link', 'review', 'deletion'] as const
export type ImportLineType = (typeof IMPORT_LINE_TYPES)[number]

/** For the OpenAPI document: what one line of the body holds. Each line is checked against its own type's schema. */
export const ImportLineSchema = Type.Union([PartyLine, EventLine, ClaimLine, LinkLine, ReviewLine, DeletionLine], {
  title: 'ImportLine',
  description:
    'One JSON object per line (NDJSON; blank lines are skipped), each with its type and ref. The fields are those ' +
    'the API takes to create the record; a reference to another record is what the API takes (an id, a slug) or ' +
    '{"ref": …}. A line whose ref is known updates that record to what the line says (an optional field it leaves ' +
    'out is cleared); an unknown ref creates the record. A deletion line deletes the record of kind `of` that its ' +
    'ref names, as DELETE does, at the time it gives.',
})

const Counts = Type.Object(
  {
    created: Type.Integer({ minimum: 0 }),
    updated: Type.Integer({ minimum: 0 }),
    unchanged: Type.Integer({
      minimum: 0,
      description: 'Lines that changed nothing: the record said that already, or a deletion line found it deleted.',
    }),
    deleted: Type.Integer({ minimum: 0, description: 'Records that deletion lines deleted.' }),
  },
  { additionalProperties: false },
)

const ImportCounts = Type.Object(
  { parties: Counts, events: Counts, claims: Counts, links: Counts, reviews: Counts },
  { additionalProperties: false, title: 'ImportCounts' },
)
export type ImportCountsOutput = Static<typeof ImportCounts>

export const ImportLineErrorSchema = Type.Object(
  {
    line: Type.Integer({ minimum: 1, description: 'The line number, counting from 1 (blank lines included).' }),
    ref: Type.Union([Type.String(), Type.Null()], { description: 'The ref the line gave, when it could be read.' }),
    problem: Type.Object(
      {
        ...ProblemSchema.properties,
        tombstone: Type.Optional(
          Type.Ref(TombstoneSchema, { description: 'For a ref naming a deleted record (`gone`): its tombstone.' }),
        ),
      },
      { title: 'ImportLineProblem', description: 'The problem of the line, as the API would answer it.' },
    ),
  },
  { title: 'ImportLineError', description: 'A bad line of an import, and what is wrong with it.' },
)
export type ImportLineError = Static<typeof ImportLineErrorSchema>

/** At most this many bad lines are listed; `line_error_count` counts them all. */
export const LINE_ERRORS_LISTED = 1000

const lineErrorMembers = {
  lines: Type.Integer({ minimum: 0, description: 'How many lines were read, blank lines included.' }),
  line_errors: Type.Array(ImportLineErrorSchema, {
    maxItems: LINE_ERRORS_LISTED,
    description: `The bad lines, in order; the first ${LINE_ERRORS_LISTED} when there are more.`,
  }),
  line_error_count: Type.Integer({ minimum: 0, description: 'How many lines were bad.' }),
}

export const ImportResultSchema = Type.Object(
  {
    mode: StringEnum(IMPORT_MODES, { title: 'ImportMode' }),
    lines: lineErrorMembers.lines,
    counts: ImportCounts,
    line_errors: lineErrorMembers.line_errors,
    line_error_count: lineErrorMembers.line_error_count,
  },
  {
    title: 'ImportResult',
    description:
      'What an import did: records created, updated, left unchanged and deleted, per kind, and the bad lines.',
  },
)
export type ImportResult = Static<typeof ImportResultSchema>

/** The 422 of an all-or-nothing import with bad lines: a problem whose extension members list them. */
export const ImportRejectedSchema = Type.Object(
  {
    ...ProblemSchema.properties,
    code: StringEnum(['import-rejected'] as const, {
      description: 'Always `import-rejected`: what tells this problem from the others a 422 of an import may be.',
    }),
    mode: StringEnum(IMPORT_MODES, { title: 'ImportMode' }),
    ...lineErrorMembers,
  },
  {
    title: 'ImportRejected',
    description: 'The import had bad lines and nothing of it was written; each bad line is listed.',
  },
)
