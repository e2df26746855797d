import { type Static, Type } from '@sinclair/typebox'
import {
  CountQuery,
  DateTime,
  exampled,
  Nullable,
  ExportablePageQuery,
  ProblemSchema,
  Uuid,
  versionAuthorship,
} from './common.schema.js'
import { ListFormatQuery } from './list-format.schema.js'
import { StringEnum } from './string-enum.js'
import { PartialDateTime } from './time.schema.js'

export const TOMBSTONE_KINDS = ['party', 'event', 'claim', 'review', 'link'] as const
export type TombstoneKind = (typeof TOMBSTONE_KINDS)[number]

const Reference = (description: string) =>
  Type.Object({ id: Uuid, slug: Type.String(), name: Type.String() }, { description })

/** The API key that deleted a record, as tombstones and histories name it. */
export const DeleterSchema = Nullable(
  Type.Object(
    { id: Uuid, name: Type.String() },
    {
      description:
        'The API key that deleted it (its id and name); null for deletions made before keys were recorded with ' +
        'them, or from the command line.',
    },
  ),
)

/** The member of a history entry that records a deletion: present on that entry only. */
export const deletionEntry = {
  deleted: Type.Optional(
    Type.Object(
      { deleted_at: DateTime, deleted_by: DeleterSchema },
      {
        description:
          'Present only on the newest entry of a deleted record: it was deleted then, by this key. The entry ' +
          'repeats what the record said when it was deleted.',
      },
    ),
  ),
}

/** What every history entry begins with: its version, who made it and why, and a deletion when it is one. */
export const versionHeading = {
  version: Type.Integer({ minimum: 1 }),
  recorded_at: DateTime,
  ...versionAuthorship,
  ...deletionEntry,
}

export const TombstoneSchema = Type.Object(
  {
    kind: StringEnum(TOMBSTONE_KINDS, { title: 'RecordKind', description: 'What the record was.' }),
    id: Uuid,
    label: Type.String({
      description:
        "What names it in a few words: a party's or an event's name and slug, a claim's party and first words, a review's " +
        'reviewer and claim, a link\u2019s two parties and kind.',
    }),
    deleted_at: DateTime,
    deleted_by: DeleterSchema,
    history: Nullable(
      Type.String({
        description:
          'The path of its history, which stays readable after the deletion; null for records whose versions ' +
          'are not kept.',
      }),
    ),
    party: Type.Optional(Reference("A claim's party.")),
    reviewer: Type.Optional(Reference("A review's reviewer.")),
    claim_id: Type.Optional(Type.String({ format: 'uuid', description: 'The claim a review was of.' })),
    from_claim_id: Type.Optional(Type.String({ format: 'uuid', description: 'The responding claim of a link.' })),
    to_claim_id: Type.Optional(Type.String({ format: 'uuid', description: 'The answered claim of a link.' })),
    link_kind: Type.Optional(
      Type.String({
        description:
          "A link's own kind (`rebuts`, `supports`, `repeats`, `corrects`, `retracts`): with its two claims, what it was.",
      }),
    ),
  },
  {
    $id: 'Tombstone',
    title: 'Tombstone',
    description:
      'What a deleted record was, and when and by which API key it was deleted; its content is not repeated ' +
      '(its history, where kept, has it).',
  },
)
export type Tombstone = Static<typeof TombstoneSchema>

export const GoneProblemSchema = Type.Object(
  { ...ProblemSchema.properties, tombstone: Type.Ref(TombstoneSchema) },
  {
    $id: 'GoneProblem',
    title: 'GoneProblem',
    description: 'A problem about a deleted record (410 Gone), with its tombstone.',
  },
)

export const TombstoneListQuery = Type.Object(
  {
    ...ExportablePageQuery,
    ...CountQuery,
    ...ListFormatQuery,
    kind: Type.Optional(
      StringEnum(TOMBSTONE_KINDS, { title: 'RecordKind', description: 'Only the deleted records of this kind.' }),
    ),
    deleted_after: Type.Optional(
      Type.String({
        ...exampled(PartialDateTime),
        description:
          'Only records deleted at or after the start of this time: `2020-10-07` takes in the whole day. A ' +
          'deletion keeps the time it happened, also when it came in by import later: a copy that syncs by ' +
          'time asks from a little before its last look, and imports the overlap again (it is unchanged).',
      }),
    ),
    deleted_before: Type.Optional(
      Type.String({
        ...exampled(PartialDateTime),
        description: 'Only records deleted before the start of this time: `2020-10-07` leaves out the whole day.',
      }),
    ),
  },
  { additionalProperties: false },
)
export type TombstoneListFilter = Static<typeof TombstoneListQuery>
