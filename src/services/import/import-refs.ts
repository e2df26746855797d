import type { Db, ImportRefKind } from '../../db/schema.js'
import { unknownReference } from '../../errors/problems.js'
import * as refs from '../../repositories/import-ref.repository.js'
import type {
  ClaimLineInput,
  DeletionLineInput,
  LinkLineInput,
  PartyLineInput,
  RecordRefInput,
  ReviewLineInput,
} from '../../schemas/import.schema.js'
import type { CheckedLine } from './line-check.js'

const refKey = (kind: ImportRefKind, ref: string) => `${kind}\u0000${ref}`

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

/** The refs of one import's namespace (each key's refs are its own): read a batch at a time, cached, bound. */
export class ImportRefs {
  private readonly cache = new RefCache(20_000)
  /** Refs that this batch's lookup found unknown, until a line of it makes them. */
  private readonly absent = new Set<string>()

  constructor(
    private readonly trx: Db,
    private readonly namespace: string,
  ) {}

  /** Reads the refs a batch gives and names, those not cached yet, in one query. */
  async lookUp(checked: CheckedLine[]): Promise<void> {
    this.absent.clear()
    const wanted = new Map<string, { kind: ImportRefKind; ref: string }>()
    const want = (kind: ImportRefKind, value: string | RecordRefInput | undefined) => {
      if (value === undefined || typeof value === 'string') return
      if (this.cache.get(kind, value.ref) === undefined) wanted.set(refKey(kind, value.ref), { kind, ref: value.ref })
    }
    for (const { type, line } of checked) {
      // A deletion line's ref names the record it deletes.
      want(type === 'deletion' ? (line as DeletionLineInput).of : type, { ref: line.ref })
      if (type === 'party') want('party', (line as PartyLineInput).side)
      if (type === 'claim') {
        want('party', (line as ClaimLineInput).party)
        want('event', (line as ClaimLineInput).event)
      }
      if (type === 'link') {
        want('claim', (line as LinkLineInput).from)
        want('claim', (line as LinkLineInput).to)
      }
      if (type === 'review') {
        want('claim', (line as ReviewLineInput).claim)
        want('party', (line as ReviewLineInput).reviewer)
      }
    }
    const found = await refs.findRefRecordIds(this.trx, this.namespace, [...wanted.values()])
    for (const row of found) {
      this.cache.set(row.kind, row.ref, row.record_id)
      wanted.delete(refKey(row.kind, row.ref))
    }
    for (const key of wanted.keys()) this.absent.add(key)
  }

  /** The record a known ref names (live or deleted), or undefined for a ref not seen before. */
  async known(kind: ImportRefKind, ref: string): Promise<string | undefined> {
    const cached = this.cache.get(kind, ref)
    if (cached !== undefined) return cached
    if (this.absent.has(refKey(kind, ref))) return undefined
    const [found] = await refs.findRefRecordIds(this.trx, this.namespace, [{ kind, ref }])
    if (found !== undefined) this.cache.set(kind, ref, found.record_id)
    return found?.record_id
  }

  /** Gives records of one kind their refs, in one statement. */
  async bind(kind: ImportRefKind, made: Array<{ ref: string; id: string }>): Promise<void> {
    await refs.bindRefs(
      this.trx,
      this.namespace,
      kind,
      made.map(({ ref, id }) => ({ ref, recordId: id })),
    )
    for (const { ref, id } of made) {
      this.cache.set(kind, ref, id)
      this.absent.delete(refKey(kind, ref))
    }
  }

  /** What the API itself takes for a reference (an id or slug), given as such or as `{"ref": …}`. */
  async key(kind: ImportRefKind, value: string | RecordRefInput, field: string): Promise<string> {
    if (typeof value === 'string') return kind === 'claim' ? value.toLowerCase() : value
    const id = await this.known(kind, value.ref)
    if (id === undefined) throw unknownReference('body', `${field}.ref`, `no ${kind} has the import ref ${value.ref}`)
    return id
  }
}
