import type { Db } from '../db/schema.js'
import { SqlState, sqlStateOf } from '../db/postgres-error-codes.js'
import { ApiError, type FieldError, type ProblemCode } from '../errors/problems.js'
import { type DataSet, DataSetSchema } from '../schemas/data-set.schema.js'
import { compileJsonValidator, fieldErrorsOf } from '../validation/json-validation.js'
import { importCheckedLines, ImportRejected } from './import/import.service.js'
import type { CheckedLine } from './import/line-check.js'

const validateDataSet = compileJsonValidator(DataSetSchema)

export class InvalidDataSetError extends Error {
  override name = 'InvalidDataSetError'
}

/** Checks that `value` is a data set, naming every bad field the way the API would. */
export function parseDataSet(value: unknown): DataSet {
  if (validateDataSet(value)) return value as DataSet
  const problems = fieldErrorsOf(validateDataSet.errors ?? [], 'body').map((e) => `${e.field} ${e.message}`)
  throw new InvalidDataSetError(`the data set is not valid:\n  ${problems.join('\n  ')}`)
}

export interface LoadCounts {
  created: number
  unchanged: number
}

/**
 * A data set's records are loaded from the command line, by no API key (they are changed by `admin` keys only),
 * and their import refs are the data set's own, apart from any key's or keyless import's.
 */
const DATA_SET_REFS = 'data-set'

/**
 * A data set as import lines, in its order: a party's or an event's ref is its slug, a claim's its id (which it keeps), a link's
 * its two claims. A party or claim refers to a party by slug, a link to its claims by id, as the API takes them.
 */
function dataSetLines(dataSet: DataSet): { lines: CheckedLine[]; entries: string[] } {
  const lines: CheckedLine[] = []
  const entries: string[] = []
  const add = (entry: string, line: Omit<CheckedLine, 'number'>) => {
    lines.push({ number: lines.length + 1, ...line })
    entries.push(entry)
  }
  for (const [index, party] of dataSet.parties.entries()) {
    add(`parties[${index}]`, { type: 'party', line: { type: 'party', ref: party.slug, ...party } })
  }
  for (const [index, event] of (dataSet.events ?? []).entries()) {
    add(`events[${index}]`, { type: 'event', line: { type: 'event', ref: event.slug, ...event } })
  }
  for (const [index, claim] of dataSet.claims.entries()) {
    add(`claims[${index}]`, { type: 'claim', line: { type: 'claim', ref: claim.id.toLowerCase(), ...claim } })
  }
  for (const [index, { from, to, ...link }] of dataSet.links.entries()) {
    const ends = { from: from.toLowerCase(), to: to.toLowerCase() }
    add(`links[${index}]`, { type: 'link', line: { type: 'link', ref: `${ends.from}/${ends.to}`, ...ends, ...link } })
  }
  return { lines, entries }
}

/**
 * Loads a data set through the importer, in one transaction: everything or, on any error, nothing. What is
 * already there (a record the set loaded before, a party by slug, a live link between the same two claims) is
 * left as it is, and so is what was deleted since an earlier load (a party, a claim, and the links a claim took
 * with it). Loading the same set again changes nothing. A problem names the entry that raised it (`links[3]: …`).
 */
export async function loadDataSet(db: Db, dataSet: DataSet) {
  const { lines, entries } = dataSetLines(dataSet)
  const load = () =>
    importCheckedLines(db, lines, {
      mode: 'all-or-nothing',
      key: null,
      refNamespace: DATA_SET_REFS,
      existing: 'keep',
    })
  let result
  try {
    try {
      result = await load()
    } catch (error) {
      // Another load of the same set committed a record or ref this one was about to make: this one waited for
      // it, and now finds it there.
      const conflict =
        error instanceof ApiError ? error.code === 'conflict' : sqlStateOf(error) === SqlState.uniqueViolation
      if (!conflict) throw error
      result = await load()
    }
  } catch (error) {
    const first = error instanceof ImportRejected ? error.result.line_errors[0] : undefined
    if (first === undefined) throw error
    const { code, detail, errors } = first.problem
    throw new ApiError(code as ProblemCode, `${entries[first.line - 1]}: ${detail}`, {
      errors: errors as FieldError[] | undefined,
    })
  }
  const counted = ({ created, unchanged }: LoadCounts) => ({ created, unchanged })
  return {
    parties: counted(result.counts.parties),
    events: counted(result.counts.events),
    claims: counted(result.counts.claims),
    links: counted(result.counts.links),
  }
}
