import { ApiError, problemBody } from '../../errors/problems.js'
import {
  type DeletionLineInput,
  type ImportCountsOutput,
  type ImportLineError,
  LINE_ERRORS_LISTED,
  type LinkLineInput,
  type ReviewLineInput,
} from '../../schemas/import.schema.js'
import type { ImportContext } from './import-context.js'
import { type CheckedLine, checkLine, type ImportClaimLine, parseJson } from './line-check.js'
import { applyLine } from './line-upserts.js'
import { type Run, writeRun } from './new-record-runs.js'

const COUNTED_AS = { party: 'parties', event: 'events', claim: 'claims', link: 'links', review: 'reviews' } as const

/** Where a line counts: with the records of its kind; a deletion line with those of the kind it deletes. */
const countedAs = ({ type, line }: CheckedLine) =>
  COUNTED_AS[type === 'deletion' ? (line as DeletionLineInput).of : type]

/**
 * The lines of one import, applied batch by batch, and what they did.
 *
 * Each batch is checked against its schemas first, and the refs it names are looked up in one query. Then its
 * lines are taken in order: consecutive claim lines (or link, or review lines) that create their record form a
 * run, written set-based (a statement per table for the whole run) once the run ends; every other line (a party,
 * a deletion, a line whose ref is known, an adoption) is applied on its own, as are the lines a run finds it
 * cannot create after all. A run ends before any line that could see what it writes: another type, its own ref
 * again, the same two claims again. So every line sees exactly what line-by-line processing would have shown it,
 * and each is still checked whole before anything of it is written.
 *
 * A link line between two claims that the current run of claims creates is put off until that run is written,
 * instead of ending it: the claim lines after it create other claims, which neither see the link nor change what
 * it joins, so it still sees what it would have seen in its place. A file that alternates claims and the links
 * answering them so makes one run of each per batch, as a file of every claim and then every link does.
 */
export class ImportRun {
  readonly counts: ImportCountsOutput = {
    parties: { created: 0, updated: 0, unchanged: 0, deleted: 0 },
    events: { created: 0, updated: 0, unchanged: 0, deleted: 0 },
    claims: { created: 0, updated: 0, unchanged: 0, deleted: 0 },
    links: { created: 0, updated: 0, unchanged: 0, deleted: 0 },
    reviews: { created: 0, updated: 0, unchanged: 0, deleted: 0 },
  }
  readonly lineErrors: ImportLineError[] = []
  errorCount = 0
  /** This batch's bad lines: a run reports its own only when it is written, so they are put in order at the end. */
  private batchErrors: ImportLineError[] = []
  private run: Run | undefined
  /** The refs of the run, and the claim pairs of a run of links: a line naming one again ends the run. */
  private readonly runKeys = new Set<string>()
  /** Link lines between claims of the run of claims, in file order: taken once the run is written. */
  private putOff: CheckedLine[] = []

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
    if (this.linksRunClaims(checked)) {
      this.putOff.push(checked)
      return
    }
    if (this.run !== undefined && this.run.type !== checked.type) await this.flush()
    const { number, type } = checked
    const refs = this.ctx.refs
    let joined = false
    try {
      if (type === 'claim') {
        const line = checked.line as ImportClaimLine
        // A later version of a claim is applied on its own, as an edit of the claim its earlier lines made.
        joined =
          (line.version ?? 1) === 1 &&
          (await this.joinRun(type, line.ref, async () => ({
            runLine: {
              number,
              line,
              partyKey: await refs.key('party', line.party, 'party'),
              eventKey: line.event === undefined ? undefined : await refs.key('event', line.event, 'event'),
            },
          })))
      } else if (type === 'link') {
        const line = checked.line as LinkLineInput
        joined = await this.joinRun(type, line.ref, async () => {
          const fromClaimId = await refs.key('claim', line.from, 'from')
          const toClaimId = await refs.key('claim', line.to, 'to')
          return { runLine: { number, line, fromClaimId, toClaimId }, pair: `${fromClaimId}/${toClaimId}` }
        })
      } else if (type === 'review') {
        const line = checked.line as ReviewLineInput
        joined = await this.joinRun(type, line.ref, async () => ({
          runLine: {
            number,
            line,
            claimId: await refs.key('claim', line.claim, 'claim'),
            reviewerKey: await refs.key('party', line.reviewer, 'reviewer'),
          },
        }))
      }
    } catch (error) {
      this.fail(number, checked.line.ref, error)
      return
    }
    if (joined) return
    await this.flush()
    await this.one(checked)
  }

  /**
   * Whether a line joins the run of new records of its type: false for a line whose ref is known (it may update
   * its record), or is the run's already, and for a link between two claims the run links already (it adopts
   * the link the run makes, or conflicts with it). `entry` reads what the line refers to, and may refuse it.
   */
  private async joinRun(
    type: Run['type'],
    ref: string,
    entry: () => Promise<{ runLine: Run['lines'][number]; pair?: string }>,
  ): Promise<boolean> {
    if (this.runKeys.has(`${type}/${ref}`)) return false
    const { runLine, pair } = await entry()
    if (pair !== undefined && this.runKeys.has(`pair/${pair}`)) return false
    if ((await this.ctx.refs.known(type, ref)) !== undefined) return false
    if (this.run === undefined) this.run = { type, lines: [] } as unknown as Run
    ;(this.run.lines as Array<Run['lines'][number]>).push(runLine)
    this.runKeys.add(`${type}/${ref}`)
    if (pair !== undefined) this.runKeys.add(`pair/${pair}`)
    return true
  }

  /** Whether a line links two claims that the current run of claims creates, named by their refs. */
  private linksRunClaims(checked: CheckedLine): boolean {
    if (checked.type !== 'link' || this.run?.type !== 'claim') return false
    const { from, to } = checked.line as LinkLineInput
    return (
      typeof from !== 'string' &&
      typeof to !== 'string' &&
      this.runKeys.has(`claim/${from.ref}`) &&
      this.runKeys.has(`claim/${to.ref}`)
    )
  }

  /**
   * Writes the run, if there is one, then lets the lines that found their record there adopt it; then takes the
   * link lines put off until it was written, and writes the run they make.
   */
  private async flush(): Promise<void> {
    const run = this.run
    if (run === undefined) return
    this.run = undefined
    this.runKeys.clear()
    const written = await writeRun(this.ctx, run, (number, ref, problem) => this.fail(number, ref, problem))
    this.counts[COUNTED_AS[run.type]].created += written.created
    for (const line of written.adopting) await this.one(line)
    if (this.putOff.length === 0) return
    const putOff = this.putOff
    this.putOff = []
    for (const line of putOff) await this.take(line)
    await this.flush()
  }

  /** Applies one line on its own; a bad line is recorded, and has written nothing. */
  private async one(checked: CheckedLine): Promise<void> {
    try {
      const outcome = await applyLine(this.ctx, checked)
      this.counts[countedAs(checked)][outcome]++
    } catch (error) {
      this.fail(checked.number, checked.line.ref, error)
    }
  }
}
