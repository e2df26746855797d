import { type Static, Type } from '@sinclair/typebox'
import { ClaimSchema } from './claim.schema.js'
import { Nullable, Uuid } from './common.schema.js'
import { LinkMeasure, NullableAspect } from './aspect.schema.js'
import { LINK_KINDS } from './link.schema.js'
import { StringEnum } from './string-enum.js'

export const THREAD_DEPTH_DEFAULT = 3
export const THREAD_DEPTH_MAX = 10
/** At most this many links each way: a claim answered thousands of times still gives a bounded answer. */
export const THREAD_LINKS_MAX = 500

export const ThreadQuery = Type.Object(
  {
    depth: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: THREAD_DEPTH_MAX,
        default: THREAD_DEPTH_DEFAULT,
        description: `How many links away to follow, each way (1 to ${THREAD_DEPTH_MAX}, default ${THREAD_DEPTH_DEFAULT}).`,
      }),
    ),
  },
  { additionalProperties: false },
)

export const ThreadEntrySchema = Type.Object(
  {
    depth: Type.Integer({ minimum: 1, description: 'Links between the root claim and this one.' }),
    link: Type.Object({
      id: Uuid,
      kind: StringEnum(LINK_KINDS, {
        title: 'LinkKind',
        description:
          'How the one claim answers the other: rebuts, supports, repeats, or (within a party) corrects, retracts.',
      }),
      note: Nullable(Type.String()),
      aspect: NullableAspect,
      measure: Nullable(LinkMeasure),
      from_claim_id: Type.String({ ...Uuid, description: 'The responding claim.' }),
      to_claim_id: Type.String({ ...Uuid, description: 'The claim it answers.' }),
    }),
    claim: Type.Ref(ClaimSchema, { description: 'The claim at the far end of the link, with its party and status.' }),
  },
  { $id: 'ThreadEntry', title: 'ThreadEntry', description: 'One link of a thread and the claim it leads to.' },
)
export type ThreadEntry = Static<typeof ThreadEntrySchema>

export const ThreadSchema = Type.Object(
  {
    claim: Type.Ref(ClaimSchema, { description: 'The claim the thread is around.' }),
    depth: Type.Integer({ minimum: 1, description: 'The depth followed.' }),
    answers: Type.Array(Type.Ref(ThreadEntrySchema), {
      description:
        'Upwards: the claims it answers (depth 1), what those answer (depth 2), and so on; by depth, then stated time.',
    }),
    responses: Type.Array(Type.Ref(ThreadEntrySchema), {
      description:
        'Downwards: the claims that answer it (depth 1), what answers those (depth 2), and so on; by depth, then ' +
        'stated time.',
    }),
    truncated: Type.Boolean({
      description: `Whether a direction had more than ${THREAD_LINKS_MAX} links within the depth; the nearest are given.`,
    }),
  },
  {
    $id: 'Thread',
    title: 'Thread',
    description:
      'The exchange around a claim, walked breadth first each way. A link appears at most once in each list, at ' +
      'the depth it is first reached; each claim is followed once, so cycles end. Deleted claims and their links ' +
      'are left out.',
  },
)
export type Thread = Static<typeof ThreadSchema>
