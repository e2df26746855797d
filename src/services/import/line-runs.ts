import { ApiError, problemBody } from '../../http/problem-details.js'
import {
  type ImportCountsOutput,
  type ImportLineError,
  LINE_ERRORS_LISTED,
  type LinkLineInput,
  type ReviewLineInput,
} from '../../schemas/import.schema.js'
import type { ImportContext } from './import-context.js'
import { type CheckedLine, checkLine, type ImportClaimLine, parseJson } from './line-check.js'
import { applyLine } from './line-upserts.js'
import { type NewClaimLine, type NewLinkLine, type NewReviewLine, type Run, writeRun } from './new-record-runs.js'

const COUNTED_AS = { party: 'parties', claim: 'claims', link: 'links', review: 'reviews' } as const

/**
 * The lines of one import, applied batch by batch, and what they did.
 *
 * Each batch is checked against its schemas first, and the refs it names are looked up in one query. Then its
 * lines are taken in order: consecutive claim lines (or link, or review lines) that create their record form a
 * run, written set-based (a statement per table for the whole run) once the run ends; every other line (a party,
 * a line whose ref is known, an adoption) is applied on its own, as are the lines a run finds it cannot create
 * after all. A run ends before any line that could see what it writes: another type, its own ref again, the same
 * two claims again. So every line sees exactly what line-by-line processing would have shown it, and each is
 * still checked whole before anything of it is written.
 */
export class ImportRun {
  readonly counts: ImportCountsOutput = {
    parties: { created: 0, updated: 0, unchanged: 0 },
    claims: { created: 0, updated: 0, unchanged: 0 },
    links: { created: 0, updated: 0, unchanged: 0 },
    reviews: { created: 0, updated: 0, unchanged: 0 },
  }
  readonly lineErrors: ImportLineError[] = []
  errorCount = 0
  /** This batch's bad lines: a run reports its own only when it is written, so they are put in order at the end. */
  private batchErrors: ImportLineError[] = []
  private run: Run | undefined
  /** The refs of the run, and the claim pairs of a run of links: a line naming one again ends the run. */
  private readonly runRefs = new Set<string>()
  private readonly runPairs = new Set<string>()

  constructor(private readonly ctx: ImportContext) {}

  /** Applies a batch of lines as read; a bad line is recorded, and has written nothing. */
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
    await this.checkedBatch(checked)
  }

  /** Applies a batch of lines that passed their schemas. */
  async checkedBatch(checked: CheckedLine[]): Promise<void> {
    await this.ctx.refs.lookUp(checked)
    for (const line of checked) await this.take(line)
    await this.flush()
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

  /** Adds a line to the run, or applies it on its own after the run is written. */
  private async take(checked: CheckedLine): Promise<void> {
    if (this.run !== undefined && this.run.type !== checked.type) await this.flush()
    let joined = false
    try {
      if (checked.type === 'claim') joined = await this.joinClaimRun(checked.number, checked.line as ImportClaimLine)
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
  private async joinClaimRun(number: number, line: ImportClaimLine): Promise<boolean> {
    if (this.runRefs.has(`claim/${line.ref}`)) return false
    const partyKey = await this.ctx.refs.key('party', line.party, 'party')
    if ((await this.ctx.refs.known('claim', line.ref)) !== undefined) return false
    if (this.run === undefined) this.run = { type: 'claim', lines: [] }
    ;(this.run.lines as NewClaimLine[]).push({ number, line, partyKey })
    this.runRefs.add(`claim/${line.ref}`)
    return true
  }

  /** Whether a link line joins the run of new links; false for a line that may update or adopt a link. */
  private async joinLinkRun(number: number, line: LinkLineInput): Promise<boolean> {
    if (this.runRefs.has(`link/${line.ref}`)) return false
    const fromClaimId = await this.ctx.refs.key('claim', line.from, 'from')
    const toClaimId = await this.ctx.refs.key('claim', line.to, 'to')
    if ((await this.ctx.refs.known('link', line.ref)) !== undefined) return false
    // A second line for the same two claims adopts the link the first one makes, or conflicts with it.
    if (this.runPairs.has(`${fromClaimId}/${toClaimId}`)) return false
    if (this.run === undefined) this.run = { type: 'link', lines: [] }
    ;(this.run.lines as NewLinkLine[]).push({ number, line, fromClaimId, toClaimId })
    this.runRefs.add(`link/${line.ref}`)
    this.runPairs.add(`${fromClaimId}/${toClaimId}`)
    return true
  }

  /** Whether a review line joins the run of new reviews; false for a line that updates a review. */
  private async joinReviewRun(number: number, line: ReviewLineInput): Promise<boolean> {
    if (this.runRefs.has(`review/${line.ref}`)) return false
    const claimId = await this.ctx.refs.key('claim', line.claim, 'claim')
    const reviewerKey = await this.ctx.refs.key('party', line.reviewer, 'reviewer')
    if ((await this.ctx.refs.known('review', line.ref)) !== undefined) return false
    if (this.run === undefined) this.run = { type: 'review', lines: [] }
    ;(this.run.lines as NewReviewLine[]).push({ number, line, claimId, reviewerKey })
    this.runRefs.add(`review/${line.ref}`)
    return true
  }

  /** Writes the run, if there is one, then lets the lines that found their record there adopt it. */
  private async flush(): Promise<void> {
    const run = this.run
    if (run === undefined) return
    this.run = undefined
    this.runRefs.clear()
    this.runPairs.clear()
    const written = await writeRun(this.ctx, run, (number, ref, problem) => this.fail(number, ref, problem))
    this.counts[COUNTED_AS[run.type]].created += written.created
    for (const line of written.adopting) await this.one(line)
  }

  /** Applies one line on its own; a bad line is recorded, and has written nothing. */
  private async one(checked: CheckedLine): Promise<void> {
    try {
      const outcome = await applyLine(this.ctx, checked)
      this.counts[COUNTED_AS[checked.type]][outcome]++
    } catch (error) {
      this.fail(checked.number, checked.line.ref, error)
    }
  }
}
