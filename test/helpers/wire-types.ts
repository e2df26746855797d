import type { Static, TUnsafe } from '@sinclair/typebox'
import type { CreatedApiKeySchema } from '../../src/schemas/api-key.schema.js'
import type { ClaimReviewDocumentSchema } from '../../src/schemas/claim-review.schema.js'
import type { Page as PageSchema, ProblemSchema } from '../../src/schemas/common.schema.js'
import type { Matrix } from '../../src/schemas/dispute.schema.js'
import type { ImportRejectedSchema } from '../../src/schemas/import.schema.js'

// The JSON bodies the API sends, as its TypeBox schemas define them: tests read responses through these types, so a
// field renamed or retyped in a schema fails the type check of every test that reads it.
export type { ApiKey } from '../../src/schemas/api-key.schema.js'
export type { Claim, ClaimSource, ClaimVersion } from '../../src/schemas/claim.schema.js'
export type { Dispute, Matrix, RebuttalSummary } from '../../src/schemas/dispute.schema.js'
export type { ImportLineError, ImportResult } from '../../src/schemas/import.schema.js'
export type { Link, Rebuttal } from '../../src/schemas/link.schema.js'
export type { Party, PartyRef } from '../../src/schemas/party.schema.js'
export type { Review, ReviewSummary, ReviewVersion } from '../../src/schemas/review.schema.js'
export type { Thread, ThreadEntry } from '../../src/schemas/thread.schema.js'

/** A page of a keyset-paginated list of `Item`s, as the schemas' `Page(item)` writes it. */
export type Page<Item> = Static<ReturnType<typeof PageSchema<TUnsafe<Item>>>>

/** An RFC 9457 problem, and one bad field of a validation problem. */
export type Problem = Static<typeof ProblemSchema>
export type FieldError = NonNullable<Problem['errors']>[number]

/** The 422 of an all-or-nothing import: a problem that lists the bad lines. */
export type ImportRejected = Static<typeof ImportRejectedSchema>

/** One pair of the dispute matrix. */
export type MatrixCell = Matrix['cells'][number]

/** A new API key, with the token that is shown only once. */
export type CreatedApiKey = Static<typeof CreatedApiKeySchema>

/** A claim as schema.org JSON-LD. */
export type ClaimReviewDocument = Static<typeof ClaimReviewDocumentSchema>
