import { inTransaction } from '../db/transaction.js'
import type { Db } from '../db/schema.js'
import { fieldErrorsOf, compileJsonValidator } from '../http/validation.js'
import * as claims from '../repositories/claim.repository.js'
import * as links from '../repositories/link.repository.js'
import * as parties from '../repositories/party.repository.js'
import { type DataSet, DataSetSchema } from '../schemas/data-set.schema.js'
import { recordClaim } from './claim.service.js'
import { linkClaims } from './link.service.js'
import { recordParty } from './party.service.js'

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
 * Loads a data set in one transaction: everything or, on any error, nothing. What is already there (a party by
 * slug, a claim by id, a live link by its two claims) is left as it is, and so is what was deleted since an
 * earlier load: a deleted claim, and the links it took with it. Loading the same set again changes nothing.
 */
export async function loadDataSet(db: Db, dataSet: DataSet) {
  return inTransaction(db, async (trx) => {
    const counts = {
      parties: { created: 0, unchanged: 0 },
      claims: { created: 0, unchanged: 0 },
      links: { created: 0, unchanged: 0 },
    } satisfies Record<string, LoadCounts>
    for (const party of dataSet.parties) {
      if ((await parties.findPartyId(trx, party.slug)) !== undefined) counts.parties.unchanged++
      else {
        await recordParty(trx, party)
        counts.parties.created++
      }
    }
    for (const { id, ...claim } of dataSet.claims) {
      if (await claims.claimIdTaken(trx, id)) counts.claims.unchanged++
      else {
        await recordClaim(trx, claim, { id })
        counts.claims.created++
      }
    }
    for (const link of dataSet.links) {
      const there = (await links.findLinkBetween(trx, link.from, link.to)) !== undefined
      // A claim deleted since an earlier load stays deleted, and its links with it.
      if (there || (await claims.deletedClaimIds(trx, [link.from, link.to])).length > 0) counts.links.unchanged++
      else {
        await linkClaims(trx, { fromClaimId: link.from, toClaimId: link.to, kind: link.kind, note: link.note ?? null })
        counts.links.created++
      }
    }
    return counts
  })
}
