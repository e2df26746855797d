import type { Static, TUnsafe } from '@sinclair/typebox'
import type { ClaimReviewDocumentSchema } from '../../src/schemas/claim-review.schema.js'
import type {
  CountedPage as CountedPageSchema,
  Page as PageSchema,
  ProblemSchema,
} from '../../src/schemas/common.schema.js'
import type { ImportRejectedSchema } from '../../src/schemas/import.schema.js'

// The JSON bodies the API sends, as its TypeBox schemas define them: tests read responses through these types, so a
// field renamed or retyped in a schema fails the type check of every test that reads it.
export type { ApiKey } from '../../src/schemas/api-key.schema.js'
export type { Claim, ClaimVersion } from '../../src/schemas/claim.schema.js'
export type { Dispute, Matrix, RebuttalSummary } from '../../src/schemas/dispute.schema.js'
export type { Event, EventVersion } from '../../src/schemas/event.schema.js'
export type { StatedFigure } from '../../src/schemas/figure.schema.js'
export type { ImportLineError, ImportResult } from '../../src/schemas/import.schema.js'
export type { Link, LinkVersion, Rebuttal } from '../../src/schemas/link.schema.js'
export type { Party, PartyRef, PartyVersion } from '../../src/schemas/party.schema.js'
export type { ResponseTimes } from '../../src/schemas/response-times.schema.js'
export type { Review, ReviewVersion } from '../../src/schemas/review.schema.js'
export type { Thread, ThreadEntry } from '../../src/schemas/thread.schema.js'
export type { Tombstone } from '../../src/schemas/tombstone.schema.js'

/** A page of a keyset-paginated list of `Item`s, as the schemas' `Page(item)` writes it. */
export type Page<Item> = Static<ReturnType<typeof PageSchema<TUnsafe<Item>>>>
/** A page of a list that counts and pages back (claims, disputes), as `CountedPage(item)` writes it. */
export type CountedPage<Item> = Static<ReturnType<typeof CountedPageSchema<TUnsafe<Item>>>>

/** An RFC 9457 problem, and one bad field of a validation problem. */
export type Problem = Static<typeof ProblemSchema>
export type FieldError = NonNullable<Problem['errors']>[number]

/** The 422 of an all-or-nothing import: a problem that lists the bad lines. */
export type ImportRejected = Static<typeof ImportRejectedSchema>

/** A claim as schema.org JSON-LD. */
export type ClaimReviewDocument = Static<typeof ClaimReviewDocumentSchema>
