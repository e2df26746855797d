import type { ColumnType, Generated, Insertable, Kysely, Selectable, Updateable } from 'kysely'

/** How finely a stored time is known (see the time precision migration). */
export type TimePrecision = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second'

/** The storage contract: one interface per table, as the migrations in `migrations/` create them. */
export interface Database {
  parties: PartyTable
  claims: ClaimTable
  claim_versions: ClaimVersionTable
  claim_figures: ClaimFigureTable
  party_versions: PartyVersionTable
  events: EventTable
  event_versions: EventVersionTable
  links: LinkTable
  link_versions: LinkVersionTable
  rebuttal_pairs: RebuttalPairTable
  support_pairs: SupportPairTable
  reviews: ReviewTable
  review_versions: ReviewVersionTable
  import_refs: ImportRefTable
  api_keys: ApiKeyTable
  rate_limit_counters: RateLimitCounterTable
  idempotency_records: IdempotencyRecordTable
}

/**
 * Every table, each after the tables its foreign keys point to (a table may point to itself): the order in which a
 * copy of the whole database fills them (`npm run db:move`). A table of Database left out here does not compile.
 */
export const TABLES_IN_DEPENDENCY_ORDER = [
  'api_keys',
  'parties',
  'party_versions',
  'events',
  'event_versions',
  'claims',
  'claim_versions',
  'claim_figures',
  'links',
  'link_versions',
  'rebuttal_pairs',
  'support_pairs',
  'reviews',
  'review_versions',
  'import_refs',
  'idempotency_records',
  'rate_limit_counters',
] as const satisfies readonly (keyof Database)[]

type NothingLeftOut<Unlisted extends never> = Unlisted
export type EveryTableInDependencyOrder = NothingLeftOut<
  Exclude<keyof Database, (typeof TABLES_IN_DEPENDENCY_ORDER)[number]>
>

/** What every repository function takes first: the database, or a transaction opened by the caller. */
export type Db = Kysely<Database>

type Timestamp = ColumnType<Date, Date | string, Date | string>
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
/** Set by the database: `now()` on insert, and by the repositories on update. */
type CreatedAt = ColumnType<Date, never, never>
type UpdatedAt = ColumnType<Date, never, Date | string>

export interface PartyTable {
  id: Generated<string>
  slug: string
  name: string
  kind: string
  country: string | null
  side_id: string | null
  wikidata: string | null
  description: string | null
  /** Its home page and logo (https URLs). */
  url: string | null
  logo: string | null
  version: Generated<number>
  created_at: CreatedAt
  updated_at: UpdatedAt
  deleted_at: NullableTimestamp
  /** The API key that created the record; null for records made before keys or from the command line. */
  created_by: string | null
  /** The API key that deleted the record; null while it is live, and for deletions without one. */
  deleted_by: ColumnType<string | null, string | null | undefined, string | null>
}

export interface EventTable {
  id: Generated<string>
  slug: string
  name: string
  starts_at: Timestamp
  starts_at_precision: TimePrecision
  ends_at: NullableTimestamp
  /** Set exactly when ends_at is. */
  ends_at_precision: TimePrecision | null
  location_name: string | null
  location_lat: number | null
  location_lon: number | null
  tags: Generated<string[]>
  description: string | null
  version: Generated<number>
  created_at: CreatedAt
  updated_at: UpdatedAt
  deleted_at: NullableTimestamp
  /** The API key that created the record; null for records made from the command line. */
  created_by: string | null
  /** The API key that deleted the record; null while it is live, and for deletions without one. */
  deleted_by: ColumnType<string | null, string | null | undefined, string | null>
}

export interface EventVersionTable {
  event_id: string
  version: number
  snapshot: ColumnType<unknown, string, never>
  recorded_at: CreatedAt
  /** The API key that made the version; null from the command line. */
  recorded_by: string | null
  edit_note: string | null
}

export interface ClaimSourceRecord {
  url: string
  publisher?: string
  title?: string
  published_at?: string
  quote?: string
}

/** Whether a claim still stands as said: its party may since have corrected or retracted it. */
export type ClaimStanding = 'current' | 'corrected' | 'retracted'
export type ClaimCertainty = 'asserted' | 'hedged' | 'speculative'

export interface ClaimTable {
  id: Generated<string>
  party_id: string
  /** The event the claim is about, if any. */
  event_id: ColumnType<string | null, string | null | undefined, string | null>
  text: string
  quote: string | null
  /** The quote's language, when it differs from the claim's; set only beside a quote. */
  quote_language: ColumnType<string | null, string | null | undefined, string | null>
  stated_at: Timestamp
  stated_at_precision: Generated<TimePrecision>
  event_at: NullableTimestamp
  /** Set exactly when event_at is. */
  event_at_precision: TimePrecision | null
  location_name: string | null
  location_lat: number | null
  location_lon: number | null
  language: Generated<string>
  /** How firmly it was asserted; null when not recorded. */
  certainty: ColumnType<ClaimCertainty | null, ClaimCertainty | null | undefined, ClaimCertainty | null>
  tags: Generated<string[]>
  sources: ColumnType<ClaimSourceRecord[], string | undefined, string>
  search: ColumnType<string, never, never>
  rebuttal_count: Generated<number>
  support_count: Generated<number>
  /** Live repeats by other parties: echoes, counted apart from supports. */
  repeat_count: Generated<number>
  /** The parties that relayed the claim, in the order given; never the claimant. */
  relayed_by: Generated<string[]>
  /** The distinct aspects of its live rebuttals ('whole' for one naming none), and the measures they name. */
  disputed_aspects: Generated<string[]>
  disputed_measures: Generated<string[]>
  last_response_at: NullableTimestamp
  /** The earliest stated_at of a live response (rebuttal or support), and of a live rebuttal. */
  first_response_at: NullableTimestamp
  disputed_since: NullableTimestamp
  review_count: Generated<number>
  /** Derived from the live corrections and retractions of the claim. */
  standing: Generated<ClaimStanding>
  version: Generated<number>
  created_at: CreatedAt
  updated_at: UpdatedAt
  deleted_at: NullableTimestamp
  /** The API key that created the record; null for records made before keys or from the command line. */
  created_by: string | null
  /** The API key that deleted the record; null while it is live, and for deletions without one. */
  deleted_by: ColumnType<string | null, string | null | undefined, string | null>
}

/** A figure a claim states: one number (`value`) or a range with either end open (`low`, `high`). */
export interface ClaimFigureTable {
  claim_id: string
  /** Its place among the claim's figures, from 0. */
  position: number
  measure: string
  /** numeric: pg reads it as text, so reads go through JSON, which gives numbers. */
  value: string | number | null
  low: string | number | null
  high: string | number | null
  unit: string | null
  qualifier: string | null
  as_of: NullableTimestamp
  /** Set exactly when as_of is. */
  as_of_precision: TimePrecision | null
}

export interface ClaimVersionTable {
  claim_id: string
  version: number
  snapshot: ColumnType<unknown, string, never>
  recorded_at: CreatedAt
  /** The API key that made the version; null before keys were recorded, and from the command line. */
  recorded_by: string | null
  edit_note: string | null
}

export interface PartyVersionTable {
  party_id: string
  version: number
  snapshot: ColumnType<unknown, string, never>
  recorded_at: CreatedAt
  /** The API key that made the version; null before keys were recorded, and from the command line. */
  recorded_by: string | null
  edit_note: string | null
}

export interface LinkVersionTable {
  link_id: string
  version: number
  snapshot: ColumnType<unknown, string, never>
  recorded_at: CreatedAt
  /** The API key that made the version; null before keys were recorded, and from the command line. */
  recorded_by: string | null
  edit_note: string | null
}

export type LinkAspect = 'cause' | 'figure' | 'attribution' | 'timing' | 'location' | 'evidence' | 'other'

export interface LinkTable {
  id: Generated<string>
  from_claim_id: string
  to_claim_id: string
  from_party_id: string
  to_party_id: string
  kind: 'rebuts' | 'supports' | 'repeats' | 'corrects' | 'retracts'
  note: string | null
  /** A response stated before the claim it answers, on purpose; only such a link may join them in that order. */
  prebuttal: Generated<boolean>
  /** The part of the claim a rebuttal or support answers; null for the whole claim. */
  aspect: LinkAspect | null
  /** For a figure aspect, the measure the figure is of. */
  measure: string | null
  /** Copies of the answered claim's tags and stated_at, kept equal to them, for the matrix's filters. */
  to_claim_tags: string[]
  to_claim_stated_at: Timestamp
  /** A copy of the responding claim's stated_at, kept equal to it, for the latest rebuttals of a claim. */
  from_claim_stated_at: Timestamp
  version: Generated<number>
  created_at: CreatedAt
  updated_at: UpdatedAt
  deleted_at: NullableTimestamp
  /** The API key that created the record; null for records made before keys or from the command line. */
  created_by: string | null
  /** The API key that deleted the record; null while it is live, and for deletions without one. */
  deleted_by: ColumnType<string | null, string | null | undefined, string | null>
}

export interface RebuttalPairTable {
  claimant_party_id: string
  rebutter_party_id: string
  rebuttals: number
}

export interface SupportPairTable {
  claimant_party_id: string
  supporter_party_id: string
  supports: number
}

export type Verdict =
  'false' | 'mostly-false' | 'misleading' | 'mixed' | 'missing-context' | 'mostly-true' | 'true' | 'unproven'

export interface ReviewTable {
  id: Generated<string>
  claim_id: string
  reviewer_party_id: string
  /** The claim version the review rated: one of the claim's `claim_versions`. */
  claim_version: number
  verdict: Verdict
  rating_label: string
  rating_value: number | null
  best_rating: number | null
  worst_rating: number | null
  url: string | null
  summary: string | null
  /** A short restatement of the rated claim, for the ClaimReview's claimReviewed. */
  claim_summary: string | null
  published_at: Timestamp
  version: Generated<number>
  created_at: CreatedAt
  updated_at: UpdatedAt
  deleted_at: NullableTimestamp
  /** The API key that created the record; null for records made before keys or from the command line. */
  created_by: string | null
  /** The API key that deleted the record; null while it is live, and for deletions without one. */
  deleted_by: ColumnType<string | null, string | null | undefined, string | null>
}

export interface ReviewVersionTable {
  review_id: string
  version: number
  snapshot: ColumnType<unknown, string, never>
  recorded_at: CreatedAt
  /** The API key that made the version; null before keys were recorded, and from the command line. */
  recorded_by: string | null
  edit_note: string | null
}

export type ImportRefKind = 'party' | 'event' | 'claim' | 'link' | 'review'

export interface ImportRefTable {
  /** The API key whose import made the ref (its id), or '' for none: each key names records in its own space. */
  namespace: Generated<string>
  kind: ImportRefKind
  ref: string
  record_id: string
  created_at: CreatedAt
}

export interface ApiKeyTable {
  id: Generated<string>
  name: string
  prefix: string
  secret_hash: Buffer
  scopes: string[]
  /** The team (a slug) whose members may change each other's records; null for a key of no team. */
  team: string | null
  created_at: CreatedAt
  last_used_at: NullableTimestamp
  revoked_at: NullableTimestamp
}

export interface RateLimitCounterTable {
  /** `key:<api key id>` or `ip:<address>`. */
  key: string
  hits: number
  window_ends_at: Timestamp
}

export type IdempotencyState = 'in-progress' | 'completed'

export interface IdempotencyRecordTable {
  api_key_id: string
  idempotency_key: string
  /** SHA-256 of the request: method, route, parameters, query and body. */
  fingerprint: Buffer
  /** The request holding the record (a retry that takes an abandoned record over writes its own). */
  attempt_id: string
  state: IdempotencyState
  /** While in progress, the holder renews it; past it, the holder is taken to have died. */
  locked_until: Timestamp
  response_status: number | null
  /** The replayed headers by lower-case name; written as JSON text. */
  response_headers: ColumnType<Record<string, string> | null, string | null, string | null>
  /** Null while in progress, and for an answer not kept (one holding a secret shown only once). */
  response_body: Buffer | null
  created_at: CreatedAt
  expires_at: Timestamp
}

export type PartyRow = Selectable<PartyTable>
export type NewPartyRow = Insertable<PartyTable>
export type PartyRowUpdate = Updateable<PartyTable>
export type NewEventRow = Insertable<EventTable>
export type EventRowUpdate = Updateable<EventTable>
export type ClaimRow = Selectable<ClaimTable>
export type NewClaimRow = Insertable<ClaimTable>
export type ClaimRowUpdate = Updateable<ClaimTable>
export type NewReviewRow = Insertable<ReviewTable>
export type ReviewRowUpdate = Updateable<ReviewTable>
