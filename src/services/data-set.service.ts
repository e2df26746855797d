import type { Db } from '../db/schema.js'
import { inTransaction } from '../db/transaction.js'
import { ApiError } from '../http/problem-details.js'
import { compileJsonValidator, fieldErrorsOf } from '../http/validation.js'
import * as claims from '../repositories/claim.repository.js'
import * as links from '../repositories/link.repository.js'
import * as parties from '../repositories/party.repository.js'
import { type DataSet, DataSetSchema } from '../schemas/data-set.schema.js'
import { recordClaim } from './claim.service.js'
import * as derived from './derived-state.js'
import { linkClaims } from './link.service.js'
import { recordParty } from './party.service.js'

const validateDataSet = compileJsonValidator(DataSetSchema)
/** How a data set's link names its two claims, for problems. */
const DATA_SET_ENDS = { from: { in: 'body', field: 'from' }, to: { in: 'body', field: 'to' } } as const

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

/** Runs one entry's work; a problem it raises names the entry (`links[3]: …`). */
async function atEntry(entry: string, work: () => Promise<void>): Promise<void> {
  try {
    await work()
  } catch (error) {
    if (!(error instanceof ApiError)) throw error
    throw new ApiError(error.code, `${entry}: ${error.detail}`, error.extras)
  }
}

/**
 * Loads a data set in one transaction: everything or, on any error, nothing. What is already there (a party by
 * slug, a claim by id, a live link by its two claims) is left as it is, and so is what was deleted since an
 * earlier load (a party, a claim, and the links a claim took with it). Loading the same set again changes
 * nothing. Safe beside a running service: the claims the links join are locked all at once, in id order like
 * every writer's, before any link is looked at, and the rebuttal matrix's counts move once, in key order.
 */
export async function loadDataSet(db: Db, dataSet: DataSet) {
  try {
    return await loadOnce(db, dataSet)
  } catch (error) {
    // Another load of the same set committed a record this one was about to make: this one waited for it, and
    // now finds it there.
    if (!(error instanceof ApiError && error.code === 'conflict')) throw error
    return loadOnce(db, dataSet)
  }
}

/** A data set is loaded from the command line, by no API key: its records are changed by `admin` keys only. */
const LOADED_BY_COMMAND = null

async function loadOnce(db: Db, dataSet: DataSet) {
  return inTransaction(db, async (trx) => {
    const counts = {
      parties: { created: 0, unchanged: 0 },
      claims: { created: 0, unchanged: 0 },
      links: { created: 0, unchanged: 0 },
    } satisfies Record<string, LoadCounts>
    for (const [index, party] of dataSet.parties.entries()) {
      await atEntry(`parties[${index}]`, async () => {
        if (await parties.partySlugUsed(trx, party.slug)) counts.parties.unchanged++
        else {
          await recordParty(trx, party, LOADED_BY_COMMAND)
          counts.parties.created++
        }
      })
    }
    for (const [index, { id, ...claim }] of dataSet.claims.entries()) {
      await atEntry(`claims[${index}]`, async () => {
        if (await claims.claimIdTaken(trx, id)) counts.claims.unchanged++
        else {
          await recordClaim(trx, claim, { id, createdBy: LOADED_BY_COMMAND })
          counts.claims.created++
        }
      })
    }
    const linked = dataSet.links.map((link) => ({ ...link, from: link.from.toLowerCase(), to: link.to.toLowerCase() }))
    const linkedIds = [...new Set(linked.flatMap((link) => [link.from, link.to]))]
    await derived.lockClaims(trx, linkedIds)
    // Read once: a deleted claim stays deleted, and the live ones are locked until the load ends.
    const deleted = new Set(await claims.deletedClaimIds(trx, linkedIds))
    const pairCounts = new derived.PendingPairCounts()
    for (const [index, link] of linked.entries()) {
      await atEntry(`links[${index}]`, async () => {
        const there = (await links.findLinkBetween(trx, link.from, link.to)) !== undefined
        // A claim deleted since an earlier load stays deleted, and its links with it.
        if (there || deleted.has(link.from) || deleted.has(link.to)) counts.links.unchanged++
        else {
          const request = {
            fromClaimId: link.from,
            toClaimId: link.to,
            kind: link.kind,
            note: link.note ?? null,
            createdBy: LOADED_BY_COMMAND,
          }
          await linkClaims(trx, request, DATA_SET_ENDS, pairCounts)
          counts.links.created++
        }
      })
    }
    await derived.settlePairCounts(trx, pairCounts)
    return counts
  })
}
