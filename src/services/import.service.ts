import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Readable, Transform, finished, pipeline } from 'node:stream'
import type { ErrorObject, ValidateFunction } from 'ajv'
import split2 from 'split2'
import type { Db, ImportRefKind } from '../db/schema.js'
import { inTransaction, type Transaction } from '../db/transaction.js'
import {
  ApiError,
  type FieldError,
  invalidField,
  problemBody,
  unknownReference,
  unprocessableField,
} from '../http/problem-details.js'
import { compileJsonValidator, fieldErrorsOf } from '../http/validation.js'
import * as claims from '../repositories/claim.repository.js'
import * as refs from '../repositories/import-ref.repository.js'
import * as links from '../repositories/link.repository.js'
import type { LinkRecord } from '../repositories/link.repository.js'
import * as parties from '../repositories/party.repository.js'
import * as reviews from '../repositories/review.repository.js'
import { insertVersions, updateRecord } from '../repositories/record-version.js'
import type { Claim, UpdateClaimInput } from '../schemas/claim.schema.js'
import {
  ClaimLine,
  type ClaimLineInput,
  IMPORT_LINE_TYPES,
  type ImportCountsOutput,
  type ImportLineError,
  type ImportLineType,
  type ImportMode,
  type ImportResult,
  LINE_ERRORS_LISTED,
  LinkLine,
  type LinkLineInput,
  PartyLine,
  type PartyLineInput,
  type RecordRefInput,
  ReviewLine,
  type ReviewLineInput,
} from '../schemas/import.schema.js'
import type { NewClaimRow, NewReviewRow, PartyRowUpdate } from '../db/schema.js'
import type { UpdatePartyInput } from '../schemas/party.schema.js'
import type { ApiKeyIdentity } from '../schemas/api-key.schema.js'
import type { CreateReviewInput, UpdateReviewInput } from '../schemas/review.schema.js'
import {
  DEFAULT_LANGUAGE,
  newClaimRow,
  recordClaim,
  reviseClaim,
  storedContent,
  storedSourceList,
  toClaim,
} from './claim.service.js'
import * as derived from './derived-state.js'
import { linkClaims, linkedClaims, linkTaken, toLink } from './link.service.js'
import {
  assertSlugShape,
  lockPartyReference,
  lockPartyReferences,
  recordParty,
  reviseParty,
  unknownParty,
} from './party.service.js'
import {
  checkReviewer,
  checkedRating,
  claimNotLive,
  newReviewRow,
  recordReview,
  reviseReview,
  storedReviewContent,
  toReview,
} from './review.service.js'
import { ownedBy, type Precondition } from './precondition.js'
import { storedInstant } from './stored-instant.js'

/** The longest line an import takes, in bytes: a claim with every field at its longest fits many times over. */
export const MAX_LINE_BYTES = 1024 * 1024

/**
 * Lines read and checked together, whose new claims and links are written a statement per table: large enough
 * that the round trips cost little next to the rows, small enough that a statement stays well within the
 * protocol's 65,535 parameters (a claim takes 13) and a batch of long lines within a few MiB.
 */
const BATCH_LINES = 1000
const BATCH_CHARS = 4 * 1024 * 1024

const VALIDATORS: Record<ImportLineType, ValidateFunction> = {
  party: compileJsonValidator(PartyLine),
  claim: compileJsonValidator(ClaimLine),
  link: compileJsonValidator(LinkLine),
  review: compileJsonValidator(ReviewLine),
}

const COUNTED_AS = { party: 'parties', claim: 'claims', link: 'links', review: 'reviews' } as const
type Outcome = 'created' | 'updated' | 'unchanged'

/** How a link line names its two claims, for problems. */
const LINE_ENDS = { from: { in: 'body', field: 'from' }, to: { in: 'body', field: 'to' } } as const

/** What the fields that take either a key or `{"ref": …}` take, for a problem about one of them. */
const REFERENCE_FORMS: Record<string, string> = {
  side: 'a party id or slug (1 to 100 characters), or {"ref": …}',
  party: 'a party id or slug (1 to 100 characters), or {"ref": …}',
  reviewer: 'a party id or slug (1 to 100 characters), or {"ref": …}',
  from: 'a claim id (uuid), or {"ref": …}',
  to: 'a claim id (uuid), or {"ref": …}',
  claim: 'a claim id (uuid), or {"ref": …}',
}

/**
 * Thrown by a line whose write failed in the database after its checks passed (a slug taken meanwhile by another
 * session): the transaction is aborted, so the import cannot go on to the next line.
 */
class ImportAborted extends Error {
  constructor(readonly problem: ApiError) {
    super(problem.detail)
  }
}

/** Rolls an all-or-nothing import with bad lines back, carrying what it found. */
class ImportRejected extends Error {
  constructor(readonly result: ImportResult) {
    super('the import has bad lines')
  }
}

/**
 * The import refs met so far, newest kept: later lines mostly name records made shortly before, and a cap keeps
 * memory flat however long the file. What falls out is read from the database again.
 */
class RefCache {
  private readonly ids = new Map<string, string>()

  constructor(private readonly capacity: number) {}

  get(kind: ImportRefKind, ref: string): string | undefined {
    return this.ids.get(refKey(kind, ref))
  }

  set(kind: ImportRefKind, ref: string, id: string): void {
    if (this.ids.size >= this.capacity) {
      const oldest = this.ids.keys().next()
      if (!oldest.done) this.ids.delete(oldest.value)
    }
    this.ids.set(refKey(kind, ref), id)
  }
}

const refKey = (kind: ImportRefKind, ref: string) => `${kind}\u0000${ref}`

/** A line that passed its schema: its number, and what it says. */
interface CheckedLine {
  number: number
  type: ImportLineType
  line: ParsedLine
}

/** A claim line that creates its claim, waiting to be written with the lines of its run. */
interface NewClaimLine {
  number: number
  line: ClaimLineInput
  /** The party as the API takes it: the line's id or slug, or the id its `{"ref": …}` names. */
  partyKey: string
}

/** A link line that makes a new link, waiting to be written with the lines of its run. */
interface NewLinkLine {
  number: number
  line: LinkLineInput
  fromClaimId: string
  toClaimId: string
}

/** A review line that makes a new review, waiting to be written with the lines of its run. */
interface NewReviewLine {
  number: number
  line: ReviewLineInput
  claimId: string
  /** The reviewer as the API takes it: the line's id or slug, or the id its `{"ref": …}` names. */
  reviewerKey: string
}

type Run =
  | { type: 'claim'; lines: NewClaimLine[] }
  | { type: 'link'; lines: NewLinkLine[] }
  | { type: 'review'; lines: NewReviewLine[] }

/**
 * One import, within its transaction: what the lines refer to, what they did, and the matrix counts to move.
 *
 * Lines come in batches. Each batch is checked against its schemas first, and the refs it names are looked up in
 * one query. Then its lines are taken in order: consecutive claim lines (or link lines) that create their record
 * form a run, written set-based (a statement per table for the whole run) once the run ends; every other line
 * (a party, a review, a line whose ref is known, an adoption) is applied on its own, as are the lines a run finds
 * it cannot create after all. A run ends before any line that could see what it writes: another type, its own
 * ref again, the same two claims again. So every line sees exactly what line-by-line processing would have shown
 * it, and each is still checked whole before anything of it is written.
 */
class ImportRun {
  readonly counts: ImportCountsOutput = {
    parties: { created: 0, updated: 0, unchanged: 0 },
    claims: { created: 0, updated: 0, unchanged: 0 },
    links: { created: 0, updated: 0, unchanged: 0 },
    reviews: { created: 0, updated: 0, unchanged: 0 },
  }
  readonly lineErrors: ImportLineError[] = []
  errorCount = 0
  readonly pairCounts = new derived.PendingPairCounts()
  private readonly cache = new RefCache(20_000)
  /** Refs that this batch's lookup found unknown, until a line of it makes them. */
  private readonly absent = new Set<string>()
  /** This batch's bad lines: a run reports its own only when it is written, so they are put in order at the end. */
  private batchErrors: ImportLineError[] = []
  private run: Run | undefined
  /** The refs of the run, and the claim pairs of a run of links: a line naming one again ends the run. */
  private readonly runRefs = new Set<string>()
  private readonly runPairs = new Set<string>()

  /** Records this import creates belong to its key; those it changes must be the key's, unless it is admin. */
  private readonly createdBy: string | null
  private readonly mayChange: Precondition<unknown>
  /** Each key's refs are its own. */
  private readonly refNamespace: string

  constructor(
    private readonly trx: Transaction,
    key: ApiKeyIdentity | null,
  ) {
    this.createdBy = key?.id ?? null
    this.mayChange = ownedBy(key)
    this.refNamespace = key?.id ?? ''
  }

  /** Applies a batch of lines; a bad line is recorded, and has written nothing. */
  async batch(lines: Array<{ number: number; text: string }>): Promise<void> {
    const checked: CheckedLine[] = []
    for (const { number, text } of lines) {
      let ref: string | null = null
      try {
        const value = parseJson(text)
        if (typeof (value as { ref?: unknown }).ref === 'string') ref = (value as { ref: string }).ref
        checked.push({ number, ...checkLine(value) })
      } catch (error) {
        this.fail(number, ref, error)
      }
    }
    await this.lookUpRefs(checked)
    for (const line of checked) await this.take(line)
    await this.flush()
    this.absent.clear()
    this.batchErrors.sort((a, b) => a.line - b.line)
    for (const error of this.batchErrors) {
      if (this.lineErrors.length >= LINE_ERRORS_LISTED) break
      this.lineErrors.push(error)
    }
    this.batchErrors = []
  }

  /** Records a bad line; anything but a problem is a failure of the whole import. */
  private fail(number: number, ref: string | null, error: unknown): void {
    if (!(error instanceof ApiError)) throw error
    this.errorCount++
    const { instance: _instance, ...problem } = problemBody(error, '')
    this.batchErrors.push({ line: number, ref, problem })
  }

  /** Reads the refs a batch gives and names, those not cached yet, in one query. */
  private async lookUpRefs(checked: CheckedLine[]): Promise<void> {
    const wanted = new Map<string, { kind: ImportRefKind; ref: string }>()
    const want = (kind: ImportRefKind, value: string | RecordRefInput | undefined) => {
      if (value === undefined || typeof value === 'string') return
      if (this.cache.get(kind, value.ref) === undefined) wanted.set(refKey(kind, value.ref), { kind, ref: value.ref })
    }
    for (const { type, line } of checked) {
      want(type, { ref: line.ref })
      if (type === 'party') want('party', (line as PartyLineInput).side)
      if (type === 'claim') want('party', (line as ClaimLineInput).party)
      if (type === 'link') {
        want('claim', (line as LinkLineInput).from)
        want('claim', (line as LinkLineInput).to)
      }
      if (type === 'review') {
        want('claim', (line as ReviewLineInput).claim)
        want('party', (line as ReviewLineInput).reviewer)
      }
    }
    const found = await refs.findRefRecordIds(this.trx, this.refNamespace, [...wanted.values()])
    for (const row of found) {
      this.cache.set(row.kind, row.ref, row.record_id)
      wanted.delete(refKey(row.kind, row.ref))
    }
    for (const key of wanted.keys()) this.absent.add(key)
  }

  /** Adds a line to the run, or applies it on its own after the run is written. */
  private async take(checked: CheckedLine): Promise<void> {
    if (this.run !== undefined && this.run.type !== checked.type) await this.flush()
    let joined = false
    try {
      if (checked.type === 'claim') joined = await this.joinClaimRun(checked.number, checked.line as ClaimLineInput)
      if (checked.type === 'link') joined = await this.joinLinkRun(checked.number, checked.line as LinkLineInput)
      if (checked.type === 'review') joined = await this.joinReviewRun(checked.number, checked.line as ReviewLineInput)
    } catch (error) {
      this.fail(checked.number, checked.line.ref, error)
      return
    }
    if (joined) return
    await this.flush()
    await this.one(checked)
  }

  /** Whether a claim line joins the run of new claims; false for a line that may update a claim. */
  private async joinClaimRun(number: number, line: ClaimLineInput): Promise<boolean> {
    if (this.runRefs.has(refKey('claim', line.ref))) return false
    const partyKey = await this.key('party', line.party, 'party')
    if ((await this.known('claim', line.ref)) !== undefined) return false
    if (this.run === undefined) this.run = { type: 'claim', lines: [] }
    ;(this.run.lines as NewClaimLine[]).push({ number, line, partyKey })
    this.runRefs.add(refKey('claim', line.ref))
    return true
  }

  /** Whether a link line joins the run of new links; false for a line that may update or adopt a link. */
  private async joinLinkRun(number: number, line: LinkLineInput): Promise<boolean> {
    if (this.runRefs.has(refKey('link', line.ref))) return false
    const fromClaimId = await this.key('claim', line.from, 'from')
    const toClaimId = await this.key('claim', line.to, 'to')
    if ((await this.known('link', line.ref)) !== undefined) return false
    // A second line for the same two claims adopts the link the first one makes, or conflicts with it.
    if (this.runPairs.has(`${fromClaimId}/${toClaimId}`)) return false
    if (this.run === undefined) this.run = { type: 'link', lines: [] }
    ;(this.run.lines as NewLinkLine[]).push({ number, line, fromClaimId, toClaimId })
    this.runRefs.add(refKey('link', line.ref))
    this.runPairs.add(`${fromClaimId}/${toClaimId}`)
    return true
  }

  /** Whether a review line joins the run of new reviews; false for a line that updates a review. */
  private async joinReviewRun(number: number, line: ReviewLineInput): Promise<boolean> {
    if (this.runRefs.has(refKey('review', line.ref))) return false
    const claimId = await this.key('claim', line.claim, 'claim')
    const reviewerKey = await this.key('party', line.reviewer, 'reviewer')
    if ((await this.known('review', line.ref)) !== undefined) return false
    if (this.run === undefined) this.run = { type: 'review', lines: [] }
    ;(this.run.lines as NewReviewLine[]).push({ number, line, claimId, reviewerKey })
    this.runRefs.add(refKey('review', line.ref))
    return true
  }

  /** Writes the run, if there is one. */
  private async flush(): Promise<void> {
    const run = this.run
    if (run === undefined) return
    this.run = undefined
    this.runRefs.clear()
    this.runPairs.clear()
    if (run.type === 'claim') await this.createClaims(run.lines)
    else if (run.type === 'link') await this.createLinks(run.lines)
    else await this.createReviews(run.lines)
  }

  /**
   * Records a run of new claims as recordClaim records each: the parties locked (all at once, in id order), the
   * claims, their first versions (read back from the rows the insert returns, as recordClaim reads its claim
   * back), and their refs, a statement each.
   */
  private async createClaims(run: NewClaimLine[]): Promise<void> {
    const partyIds = await lockPartyReferences(this.trx, [...new Set(run.map((claim) => claim.partyKey))])
    const made: Array<{ ref: string; id: string; row: NewClaimRow }> = []
    for (const { number, line, partyKey } of run) {
      const partyId = partyIds.get(partyKey)?.id
      if (partyId === undefined) {
        this.fail(number, line.ref, unknownParty(partyKey, 'party'))
        continue
      }
      const { type: _type, ref, party: _party, ...input } = line
      // Made here, not by the database, so that each line knows its row whatever order the rows come back in.
      const id = randomUUID()
      made.push({ ref, id, row: newClaimRow(input, partyId, this.createdBy, id) })
    }
    const stored = new Map(
      (
        await claims.insertClaims(
          this.trx,
          made.map((claim) => claim.row),
        )
      ).map((row) => [row.id, row]),
    )
    await insertVersions(
      this.trx,
      'claims',
      made.map(({ id }) => {
        const row = stored.get(id)
        if (row === undefined) throw new Error(`claim ${id} was inserted but not returned`)
        return { recordId: id, version: row.version, snapshot: storedContent(row) }
      }),
    )
    await this.bindAll('claim', made)
    this.counts.claims.created += made.length
  }

  /**
   * Records a run of new links as linkClaims records each: their claims locked (all at once, in id order), each
   * link checked by linkClaims' rules against them and against the live links between the same claims (one query),
   * then the links, the answered claims' recount and the refs, a statement each. A line whose two claims are
   * already linked so adopts that link, on its own, as it would have line by line.
   */
  private async createLinks(run: NewLinkLine[]): Promise<void> {
    const locked = await derived.lockClaims(this.trx, [
      ...new Set(run.flatMap((link) => [link.fromClaimId, link.toClaimId])),
    ])
    const valid: Array<NewLinkLine & ReturnType<typeof linkedClaims>> = []
    for (const link of run) {
      try {
        valid.push({ ...link, ...linkedClaims(link, locked, LINE_ENDS) })
      } catch (error) {
        this.fail(link.number, link.line.ref, error)
      }
    }
    const existing = new Map(
      (await links.findLiveLinksBetween(this.trx, valid)).map((row) => [
        `${row.from_claim_id}/${row.to_claim_id}`,
        row,
      ]),
    )
    const made: Array<{ ref: string; id: string; row: links.NewLink }> = []
    const adopting: CheckedLine[] = []
    for (const link of valid) {
      const { number, line, fromClaimId, toClaimId, from, to } = link
      const other = existing.get(`${fromClaimId}/${toClaimId}`)
      if (other !== undefined && other.kind === line.kind) {
        adopting.push({ number, type: 'link', line })
      } else if (other !== undefined) {
        this.fail(number, line.ref, linkTaken(link, other))
      } else {
        made.push({
          ref: line.ref,
          id: randomUUID(),
          row: {
            fromClaimId,
            toClaimId,
            fromPartyId: from.party_id,
            toPartyId: to.party_id,
            kind: line.kind,
            note: line.note ?? null,
            toClaim: to,
            fromClaimStatedAt: from.stated_at,
            createdBy: this.createdBy,
          },
        })
      }
    }
    await links.insertLinks(
      this.trx,
      made.map(({ id, row }) => ({ ...row, id })),
    )
    await derived.linksAdded(
      this.trx,
      made.map(({ row }) => row),
      this.pairCounts,
    )
    await this.bindAll('link', made)
    this.counts.links.created += made.length
    for (const line of adopting) await this.one(line)
  }

  /**
   * Records a run of new reviews as recordReview records each: their claims locked (all at once, in id order),
   * then their reviewers, each review checked by recordReview's rules, then the reviews, the claims' recount,
   * the first versions (from the rows the insert returns) and the refs, a statement each. A line for a claim its
   * reviewer has already reviewed, earlier or earlier in the run, adopts that review, on its own, as it would
   * have line by line.
   */
  private async createReviews(run: NewReviewLine[]): Promise<void> {
    const locked = new Map(
      (await derived.lockClaims(this.trx, [...new Set(run.map((review) => review.claimId))])).map((claim) => [
        claim.id,
        claim,
      ]),
    )
    const reviewers = await lockPartyReferences(this.trx, [...new Set(run.map((review) => review.reviewerKey))])
    const pairs = run.flatMap(({ claimId, reviewerKey }) => {
      const reviewer = reviewers.get(reviewerKey)
      return reviewer === undefined ? [] : [{ claimId, reviewerId: reviewer.id }]
    })
    const reviewed = new Set(
      (await reviews.findReviewsOf(this.trx, pairs)).map((row) => `${row.claim_id}/${row.reviewer_party_id}`),
    )
    const made: Array<{ ref: string; id: string; row: NewReviewRow }> = []
    const adopting: CheckedLine[] = []
    for (const { number, line, claimId, reviewerKey } of run) {
      try {
        const reviewer = reviewers.get(reviewerKey)
        const pair = `${claimId}/${reviewer?.id}`
        if (reviewer !== undefined && reviewed.has(pair)) {
          adopting.push({ number, type: 'review', line })
          continue
        }
        const claim = locked.get(claimId)
        if (claim === undefined) throw claimNotLive(claimId, { in: 'body', field: 'claim' })
        if (reviewer === undefined) throw unknownParty(reviewerKey, 'reviewer')
        checkReviewer(reviewer, reviewerKey, claim.party_id)
        const rating = checkedRating({
          rating_value: line.rating_value ?? null,
          best_rating: line.best_rating ?? null,
          worst_rating: line.worst_rating ?? null,
        })
        const { type: _type, ref, claim: _claim, ...fields } = line
        const id = randomUUID()
        made.push({
          ref,
          id,
          row: {
            ...newReviewRow(claim.id, reviewer.id, { ...fields, reviewer: reviewerKey }, rating, this.createdBy),
            id,
          },
        })
        reviewed.add(pair)
      } catch (error) {
        this.fail(number, line.ref, error)
      }
    }
    const stored = new Map(
      (
        await reviews.insertReviews(
          this.trx,
          made.map(({ row }) => row),
        )
      ).map((row) => [row.id, row]),
    )
    await derived.reviewsChanged(
      this.trx,
      made.map(({ row }) => row.claim_id),
    )
    await insertVersions(
      this.trx,
      'reviews',
      made.map(({ id }) => {
        const row = stored.get(id)
        if (row === undefined) throw new Error(`review ${id} was inserted but not returned`)
        return { recordId: id, version: row.version, snapshot: storedReviewContent(row) }
      }),
    )
    await this.bindAll('review', made)
    this.counts.reviews.created += made.length
    for (const line of adopting) await this.one(line)
  }

  private async bindAll(kind: ImportRefKind, made: Array<{ ref: string; id: string }>): Promise<void> {
    await refs.bindRefs(
      this.trx,
      this.refNamespace,
      kind,
      made.map(({ ref, id }) => ({ ref, recordId: id })),
    )
    for (const { ref, id } of made) {
      this.cache.set(kind, ref, id)
      this.absent.delete(refKey(kind, ref))
    }
  }

  /** Applies one line on its own; a bad line is recorded, and has written nothing. */
  private async one({ number, type, line }: CheckedLine): Promise<void> {
    try {
      const outcome = await this.apply(type, line)
      this.counts[COUNTED_AS[type]][outcome]++
    } catch (error) {
      this.fail(number, line.ref, error)
    }
  }

  private apply(type: ImportLineType, line: ParsedLine): Promise<Outcome> {
    switch (type) {
      case 'party':
        return this.party(line as PartyLineInput)
      case 'claim':
        return this.claim(line as ClaimLineInput)
      case 'link':
        return this.link(line as LinkLineInput)
      case 'review':
        return this.review(line as ReviewLineInput)
    }
  }

  /** The record a known ref names (live or deleted), or undefined for a ref not seen before. */
  private async known(kind: ImportRefKind, ref: string): Promise<string | undefined> {
    const cached = this.cache.get(kind, ref)
    if (cached !== undefined) return cached
    if (this.absent.has(refKey(kind, ref))) return undefined
    const [found] = await refs.findRefRecordIds(this.trx, this.refNamespace, [{ kind, ref }])
    if (found !== undefined) this.cache.set(kind, ref, found.record_id)
    return found?.record_id
  }

  private async bind(kind: ImportRefKind, ref: string, id: string): Promise<void> {
    await refs.bindRefs(this.trx, this.refNamespace, kind, [{ ref, recordId: id }])
    this.cache.set(kind, ref, id)
    this.absent.delete(refKey(kind, ref))
  }

  /** What the API itself takes for a reference (an id or slug), given as such or as `{"ref": …}`. */
  private async key(kind: ImportRefKind, value: string | RecordRefInput, field: string): Promise<string> {
    if (typeof value === 'string') return kind === 'claim' ? value.toLowerCase() : value
    const id = await this.known(kind, value.ref)
    if (id === undefined) throw unknownReference('body', `${field}.ref`, `no ${kind} has the import ref ${value.ref}`)
    return id
  }

  private async party(line: PartyLineInput): Promise<Outcome> {
    assertSlugShape(line.slug)
    const side = line.side === undefined ? undefined : await this.key('party', line.side, 'side')
    const known = await this.known('party', line.ref)
    // A party is known by its slug too: a new ref for a live party's slug adopts that party.
    const id = known ?? (await parties.findPartyId(this.trx, line.slug))
    if (id === undefined) {
      const { type: _type, ref: _ref, ...input } = line
      const party = await abortOnConflict(() => recordParty(this.trx, { ...input, side }, this.createdBy))
      await this.bind('party', line.ref, party.id)
      return 'created'
    }
    const current = await parties.findPartyByKey(this.trx, id, { forUpdate: true })
    if (current === undefined) throw deletedRecord('party', line.ref)
    const sideId = side === undefined ? null : await lockPartyReference(this.trx, side, 'side')
    const wanted: Required<{ [K in keyof PartyRowUpdate & keyof UpdatePartyInput]: unknown }> = {
      slug: line.slug,
      name: line.name,
      kind: line.kind,
      country: line.country ?? null,
      wikidata: line.wikidata ?? null,
      description: line.description ?? null,
    }
    const patch: UpdatePartyInput = {}
    for (const [field, value] of Object.entries(wanted)) {
      if (current[field as keyof typeof wanted] !== value) Object.assign(patch, { [field]: value })
    }
    if (sideId !== current.side_id) patch.side = sideId
    if (patch.slug !== undefined) {
      const holder = await parties.findPartyId(this.trx, patch.slug)
      if (holder !== undefined && holder !== current.id) throw slugTaken(patch.slug)
    }
    const outcome = Object.keys(patch).length === 0 ? 'unchanged' : 'updated'
    if (outcome === 'updated') await abortOnConflict(() => reviseParty(this.trx, current.id, patch, this.mayChange))
    if (known === undefined) await this.bind('party', line.ref, current.id)
    return outcome
  }

  private async claim(line: ClaimLineInput): Promise<Outcome> {
    const party = await this.key('party', line.party, 'party')
    const id = await this.known('claim', line.ref)
    if (id === undefined) {
      const { type: _type, ref: _ref, ...input } = line
      const claim = await recordClaim(this.trx, { ...input, party }, { createdBy: this.createdBy })
      await this.bind('claim', line.ref, claim.id)
      return 'created'
    }
    // Compared under its lock: an edit that lands between a read and the write would keep fields the line resets.
    const row = await claims.findClaimById(this.trx, id, { forUpdate: true })
    if (row === undefined) throw deletedRecord('claim', line.ref)
    const partyId = await lockPartyReference(this.trx, party, 'party')
    if (partyId !== row.party_id) {
      throw unprocessableField(
        'body',
        'party',
        `differs from the party of the claim of ref ${line.ref}: a claim's party cannot change; give the line a ` +
          'new ref to record another claim',
      )
    }
    const patch = claimChanges(toClaim(row), line)
    if (Object.keys(patch).length === 0) return 'unchanged'
    const answered = patch.stated_at === undefined ? [] : await derived.lockAnsweredAfter(this.trx, id)
    await reviseClaim(this.trx, id, patch, this.mayChange, answered)
    return 'updated'
  }

  private async link(line: LinkLineInput): Promise<Outcome> {
    const from = await this.key('claim', line.from, 'from')
    const to = await this.key('claim', line.to, 'to')
    const note = line.note ?? null
    const known = await this.known('link', line.ref)
    if (known !== undefined) {
      const current = await links.findLinkById(this.trx, known)
      if (current === undefined) throw deletedRecord('link', line.ref)
      if (current.from_claim_id !== from || current.to_claim_id !== to || current.kind !== line.kind) {
        throw unprocessableField(
          'body',
          'ref',
          `names a link ${current.from_claim_id} ${current.kind} ${current.to_claim_id}: a link's ends and kind ` +
            'cannot change; give the line a new ref',
        )
      }
      return this.linkNote(current, note)
    }
    // Two claims have one live link at most: the same link under a new ref is adopted; another kind is refused
    // by linkClaims, as the API refuses it.
    const existing = await links.findLinkBetween(this.trx, from, to)
    if (existing !== undefined && existing.kind === line.kind) {
      const current = await links.findLinkById(this.trx, existing.id)
      if (current === undefined) throw deletedRecord('link', line.ref)
      const outcome = await this.linkNote(current, note)
      await this.bind('link', line.ref, existing.id)
      return outcome
    }
    const link = await linkClaims(
      this.trx,
      { fromClaimId: from, toClaimId: to, kind: line.kind, note, createdBy: this.createdBy },
      LINE_ENDS,
      this.pairCounts,
    )
    await this.bind('link', line.ref, link.id)
    return 'created'
  }

  private async linkNote(current: LinkRecord, wanted: string | null): Promise<Outcome> {
    if (current.note === wanted) return 'unchanged'
    this.mayChange(toLink(current), current.created_by)
    await updateRecord(this.trx, 'links', current.id, { note: wanted })
    return 'updated'
  }

  private async review(line: ReviewLineInput): Promise<Outcome> {
    const claimId = await this.key('claim', line.claim, 'claim')
    const reviewer = await this.key('party', line.reviewer, 'reviewer')
    const { type: _type, ref: _ref, claim: _claim, ...fields } = line
    const input: CreateReviewInput = { ...fields, reviewer }
    const known = await this.known('review', line.ref)
    let id = known
    if (id === undefined) {
      // A fact-checker reviews a claim once: a new ref for a review already there adopts it.
      const reviewerId = await parties.findPartyId(this.trx, reviewer)
      const existing = reviewerId === undefined ? undefined : await reviews.findReviewOf(this.trx, claimId, reviewerId)
      if (existing === undefined) {
        const review = await recordReview(this.trx, claimId, input, this.createdBy, { in: 'body', field: 'claim' })
        await this.bind('review', line.ref, review.id)
        return 'created'
      }
      id = existing.id
    }
    const row = await reviews.findReviewById(this.trx, id, { forUpdate: true })
    if (row === undefined) throw deletedRecord('review', line.ref)
    const reviewerId = await parties.findPartyId(this.trx, reviewer)
    if (row.claim_id !== claimId || row.reviewer_id !== reviewerId) {
      throw unprocessableField(
        'body',
        'ref',
        `names the review of claim ${row.claim_id} by ${row.reviewer_slug}: a review's claim and reviewer cannot ` +
          'change; give the line a new ref',
      )
    }
    const patch = reviewChanges(toReview(row), input)
    const outcome = Object.keys(patch).length === 0 ? 'unchanged' : 'updated'
    if (outcome === 'updated') await reviseReview(this.trx, id, patch, this.mayChange)
    if (known === undefined) await this.bind('review', line.ref, id)
    return outcome
  }
}

type ParsedLine = PartyLineInput | ClaimLineInput | LinkLineInput | ReviewLineInput

/** A line as a JSON object. */
function parseJson(text: string): object {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new ApiError('malformed-request', `the line is not valid JSON: ${(error as Error).message}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidField('body', 'body', 'must be a JSON object')
  }
  return value
}

/** A line checked against its type's schema; every problem is a bad line, named as the API names them. */
function checkLine(value: object): { type: ImportLineType; line: ParsedLine } {
  const type = (value as { type?: unknown }).type
  if (!IMPORT_LINE_TYPES.includes(type as ImportLineType)) {
    const message = type === undefined ? 'is required' : `must be one of: ${IMPORT_LINE_TYPES.join(', ')}`
    throw invalidField('body', 'type', message)
  }
  const validate = VALIDATORS[type as ImportLineType]
  if (!validate(value)) {
    const errors = lineFieldErrors(validate.errors ?? [])
    throw new ApiError('validation-failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors })
  }
  const nul = fieldWithNul(value)
  if (nul !== undefined) throw invalidField('body', nul, 'must not contain the NUL character (U+0000)')
  return { type: type as ImportLineType, line: value as ParsedLine }
}

/**
 * Ajv's errors as the API words them, except that a field taking a key or `{"ref": …}` gets one problem saying
 * so, instead of one per form it did not match.
 */
function lineFieldErrors(errors: ErrorObject[]): FieldError[] {
  const eitherForm = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath))
  const kept = errors.filter((e) => !eitherForm.has(e.instancePath))
  const fieldErrors = [...eitherForm].map((path): FieldError => {
    const field = path.slice(1)
    return { in: 'body', field, message: `must be ${REFERENCE_FORMS[field] ?? 'a key or {"ref": …}'}` }
  })
  return [...fieldErrors, ...fieldErrorsOf(kept, 'body')]
}

/** The field of a checked line (a few levels deep at most) whose string holds a NUL, which PostgreSQL refuses. */
function fieldWithNul(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined
  if (value === null || typeof value !== 'object') return undefined
  for (const [key, item] of Object.entries(value)) {
    const found = fieldWithNul(item, Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * The fields of a claim that differ from what the line says; what the line leaves out is cleared. The line's
 * times are taken as they would be stored, so that a time given finer than a millisecond compares equal.
 */
function claimChanges(current: Claim, line: ClaimLineInput): UpdateClaimInput {
  const wanted = {
    text: line.text,
    quote: line.quote ?? null,
    stated_at: storedInstant(line.stated_at),
    event_at: line.event_at === undefined ? null : storedInstant(line.event_at),
    location:
      line.location === undefined
        ? null
        : { name: line.location.name, lat: line.location.lat ?? null, lon: line.location.lon ?? null },
    language: line.language ?? DEFAULT_LANGUAGE,
    tags: line.tags ?? [],
    sources: storedSourceList(line.sources ?? []),
  }
  const patch: UpdateClaimInput = {}
  for (const [field, value] of Object.entries(wanted)) {
    if (!sameJson(current[field as keyof typeof wanted], value)) Object.assign(patch, { [field]: value })
  }
  return patch
}

/** The fields of a review that differ from what the line says; the rating and its scale change together. */
function reviewChanges(current: ReturnType<typeof toReview>, line: CreateReviewInput): UpdateReviewInput {
  const wanted = {
    verdict: line.verdict,
    rating_label: line.rating_label,
    url: line.url ?? null,
    summary: line.summary ?? null,
    published_at: storedInstant(line.published_at),
  }
  const patch: UpdateReviewInput = {}
  for (const [field, value] of Object.entries(wanted)) {
    if (current[field as keyof typeof wanted] !== value) Object.assign(patch, { [field]: value })
  }
  const rating = {
    rating_value: line.rating_value ?? null,
    best_rating: line.best_rating ?? null,
    worst_rating: line.worst_rating ?? null,
  }
  if (
    rating.rating_value !== current.rating_value ||
    rating.best_rating !== current.best_rating ||
    rating.worst_rating !== current.worst_rating
  ) {
    Object.assign(patch, rating)
  }
  return patch
}

/** Equality of JSON values, whatever the order of object members (jsonb keeps its own). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const aKeys = Object.keys(a).filter((key) => (a as Record<string, unknown>)[key] !== undefined)
  const bKeys = Object.keys(b).filter((key) => (b as Record<string, unknown>)[key] !== undefined)
  if (aKeys.length !== bKeys.length) return false
  return aKeys.every((key) => sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
}

const deletedRecord = (kind: ImportRefKind, ref: string) =>
  unprocessableField(
    'body',
    'ref',
    `${ref} names a ${kind} that was deleted; an import does not bring it back: give the line a new ref to ` +
      'record it again',
  )

const slugTaken = (slug: string) =>
  new ApiError('conflict', `a party with the slug ${slug} already exists`, {
    errors: [{ in: 'body', field: 'slug', message: 'is taken by another party' }],
  })

/**
 * Runs a party write whose checks have passed: a conflict it still meets came from the database (a slug taken
 * by another session meanwhile), which has aborted the transaction, so the whole import fails with it.
 */
async function abortOnConflict<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write()
  } catch (error) {
    if (error instanceof ApiError && error.code === 'conflict') throw new ImportAborted(error)
    throw error
  }
}

/**
 * A 413 raised while the body still arrives. It closes the connection once answered: otherwise the server would
 * go on receiving the rest of the body, however large, only to discard it before the next request.
 */
const tooLarge = (detail: string) => new ApiError('payload-too-large', detail, { headers: { connection: 'close' } })

/**
 * Holds a body to its limits as it passes: its size, and the length of each line. Fails with the 413 to answer.
 */
function bodyLimits(bodyLimitBytes: number): Transform {
  let received = 0
  let lineNumber = 1
  let lineBytes = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length
      if (received > bodyLimitBytes) {
        callback(tooLarge(`the body is larger than the ${bodyLimitBytes} bytes an import may have`))
        return
      }
      for (let at = 0; ;) {
        const newline = chunk.indexOf(10, at)
        lineBytes += (newline === -1 ? chunk.length : newline) - at
        if (lineBytes > MAX_LINE_BYTES) {
          callback(tooLarge(`line ${lineNumber} is longer than the ${MAX_LINE_BYTES} bytes a line may have`))
          return
        }
        if (newline === -1) break
        lineNumber++
        lineBytes = 0
        at = newline + 1
      }
      callback(null, chunk)
    },
  })
}

/**
 * Writes the body to a file as it arrives, held to its limits, and resolves once the file is complete and
 * closed. A client gone before the end of its body (the only way the request itself fails) fails it with a 400:
 * nothing is imported from the part that came, and the answer, which cannot reach the client, is logged as a
 * client's error, not as the server's. The request is never destroyed here, so that a problem can still be
 * answered on it.
 */
async function spool(body: Readable, path: string, bodyLimitBytes: number): Promise<Buffer> {
  const limits = bodyLimits(bodyLimitBytes)
  const file = createWriteStream(path, { flags: 'wx' })
  // The body's SHA-256, taken as it passes, for what an idempotent retry must repeat.
  const digest = createHash('sha256')
  limits.on('data', (chunk: Buffer) => digest.update(chunk))
  try {
    await new Promise<void>((resolve, reject) => {
      limits.on('error', reject)
      file.on('error', reject)
      file.on('close', resolve)
      finished(body, (error) => {
        if (error) reject(new ApiError('malformed-request', 'the connection closed before the end of the body'))
      })
      body.pipe(limits).pipe(file)
    })
    return digest.digest()
  } finally {
    body.unpipe(limits)
    limits.destroy()
    if (!file.closed) {
      await new Promise<void>((resolve) => {
        file.once('close', () => resolve())
        file.destroy()
      })
    }
  }
}

/**
 * Applies a spooled body in one transaction, batch by batch as its lines are read from the file: only as fast as
 * the database takes them, holding a batch at most in memory. The import locks claims run after run, in file
 * order, so a writer that locks in id order can deadlock with it; PostgreSQL then rolls one back, and when that
 * is the import, the whole file is applied again from its start, in a new transaction, as inTransaction reruns
 * any unit of work.
 */
async function applyFile(db: Db, path: string, mode: ImportMode, key: ApiKeyIdentity | null): Promise<ImportResult> {
  return inTransaction(db, async (trx) => {
    const run = new ImportRun(trx, key)
    const lines = pipeline(createReadStream(path), split2({ maxLength: MAX_LINE_BYTES }), () => {})
    let number = 0
    let batch: Array<{ number: number; text: string }> = []
    let chars = 0
    try {
      for await (const text of lines) {
        number++
        if ((text as string).trim() === '') continue
        batch.push({ number, text: text as string })
        chars += (text as string).length
        if (batch.length >= BATCH_LINES || chars >= BATCH_CHARS) {
          await run.batch(batch)
          batch = []
          chars = 0
        }
      }
    } finally {
      lines.destroy()
    }
    await run.batch(batch)
    await derived.settlePairCounts(trx, run.pairCounts)
    const result: ImportResult = {
      mode,
      lines: number,
      counts: run.counts,
      line_errors: run.lineErrors,
      line_error_count: run.errorCount,
    }
    if (mode === 'all-or-nothing' && run.errorCount > 0) throw new ImportRejected(result)
    return result
  })
}

/**
 * Imports an NDJSON body of parties, claims, links and reviews in one transaction. A bad line writes nothing and
 * is recorded with its number and problem, and the import goes on, so that all of them are reported at once;
 * all-or-nothing then rolls everything back (422), best-effort keeps the good lines. No savepoints: each line
 * checks every rule before it writes. The rebuttal matrix's counts move once, at the end, in key order.
 *
 * The body is first written to a temporary file, whole, and only then applied. The upload so runs at the speed
 * of the network, and is bounded by the server's request timeout like any other body, however long applying it
 * then takes; and the transaction, with the locks it takes (on the embedded database, its one session), is not
 * held while a slow client sends. The file is read back line by line: memory stays flat whatever its size.
 */
export async function importRecords(
  db: Db,
  body: Readable,
  options: {
    mode: ImportMode
    bodyLimitBytes: number
    /** The key importing: it owns what the import creates, and may change only what it owns, unless admin. */
    key: ApiKeyIdentity | null
    /**
     * Called with the SHA-256 of the whole body once it is in, before anything is applied: false skips the
     * import (an earlier request with the same body was answered again instead), and undefined is returned.
     */
    beforeApply?: (bodySha256: Buffer) => Promise<boolean>
  },
): Promise<ImportResult | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'counterclaim-import-'))
  try {
    const path = join(dir, 'body.ndjson')
    const bodySha256 = await spool(body, path, options.bodyLimitBytes)
    if (options.beforeApply !== undefined && !(await options.beforeApply(bodySha256))) return undefined
    return await applyFile(db, path, options.mode, options.key)
  } catch (error) {
    if (error instanceof ImportAborted) throw error.problem
    if (error instanceof ImportRejected) {
      const { mode, lines: read, line_errors, line_error_count } = error.result
      throw new ApiError('import-rejected', `${line_error_count} of ${read} line(s) are bad; nothing was imported`, {
        members: { mode, lines: read, line_errors, line_error_count },
      })
    }
    throw error
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
