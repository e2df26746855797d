import { createWriteStream } from 'node:fs'
import { parseArgs } from 'node:util'

/**
 * Writes an NDJSON body for `POST /v1/import`, for measuring imports: parties first (some of them fact-checkers,
 * some speaking for another), then blocks of claims with sources and tags, links from each block's claims to
 * earlier claims of other parties, and fact-checkers' reviews. It stops at `--lines` lines or at `--bytes` bytes,
 * whichever comes first. The same options write the same file, byte for byte (a seeded generator, no clock), so
 * sending it twice measures an import whose records all exist already.
 *
 *   npx tsx bench/generate-import.ts --lines 10000 --out import-10k.ndjson
 *   npx tsx bench/generate-import.ts --bytes 50000000 --out import-50mb.ndjson
 */

const { values: options } = parseArgs({
  options: {
    lines: { type: 'string' },
    bytes: { type: 'string' },
    parties: { type: 'string', default: '200' },
    // Refs and slugs start with it: two prefixes make two files that do not touch each other's records.
    prefix: { type: 'string', default: 'gen' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
})

const positive = (name: string, value: string | undefined): number => {
  const number = Number(value)
  if (!Number.isInteger(number) || number <= 0) throw new Error(`--${name} ${value}: give a positive integer`)
  return number
}
if (options.lines === undefined && options.bytes === undefined) throw new Error('give --lines or --bytes')
const maxLines = options.lines === undefined ? Number.POSITIVE_INFINITY : positive('lines', options.lines)
const maxBytes = options.bytes === undefined ? Number.POSITIVE_INFINITY : positive('bytes', options.bytes)
const PARTIES = positive('parties', options.parties)
const prefix = options.prefix
if (!/^[a-z0-9]+$/.test(prefix)) throw new Error(`--prefix ${prefix}: use a-z and 0-9 only (it starts slugs)`)

/** mulberry32: small, fast and the same everywhere, which is all a benchmark file needs. */
function generator(seed: number) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const random = generator(positive('seed', options.seed))
const below = (n: number) => Math.floor(random() * n)
const pick = <T>(list: readonly T[]): T => list[below(list.length)] as T

const WORDS = [
  'ceasefire',
  'shelling',
  'village',
  'border',
  'troops',
  'civilians',
  'drone',
  'artillery',
  'ministry',
  'reported',
  'positions',
  'attack',
  'denied',
  'convoy',
  'infrastructure',
  'pipeline',
  'hospital',
  'statement',
  'evidence',
  'footage',
  'night',
  'morning',
  'region',
  'forces',
  'withdrew',
  'advanced',
  'casualties',
  'aid',
  'corridor',
] as const
const TAGS = ['ceasefire', 'shelling', 'civilians', 'drones', 'pipeline', 'aid', 'border', 'casualties'] as const
const KINDS = ['state', 'government', 'military', 'official', 'media', 'organisation', 'person'] as const
const START = Date.UTC(2020, 8, 27)

const sentence = (words: number) =>
  Array.from({ length: words }, () => pick(WORDS))
    .join(' ')
    .replace(/^./, (first) => first.toUpperCase()) + '.'
const timestamp = (minutes: number) => new Date(START + minutes * 60_000).toISOString()

const out = options.out === undefined ? process.stdout : createWriteStream(options.out)
let lines = 0
let bytes = 0

/** Writes a line unless it would pass a limit; false once the file is full. */
async function write(record: object): Promise<boolean> {
  const line = `${JSON.stringify(record)}\n`
  const size = Buffer.byteLength(line)
  if (lines + 1 > maxLines || bytes + size > maxBytes) return false
  lines++
  bytes += size
  if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  return true
}

async function generate(): Promise<void> {
  const checkers = Math.max(1, Math.floor(PARTIES / 10))
  const claimants = PARTIES - checkers
  for (let p = 0; p < PARTIES; p++) {
    const checker = p >= claimants
    const party: Record<string, unknown> = {
      type: 'party',
      ref: `${prefix}-p${p}`,
      slug: `${prefix}-party-${p}`,
      name: `${checker ? 'Fact-checker' : 'Party'} ${p}`,
      kind: checker ? 'fact-checker' : pick(KINDS),
    }
    if (below(3) === 0) party.country = pick(['AZ', 'AM', 'TR', 'RU', 'FR', 'US'])
    if (!checker && p > 0 && below(4) === 0) party.side = { ref: `${prefix}-p${below(p)}` }
    if (!(await write(party))) return
  }
  const partyOf: number[] = []
  const reviewed = new Set<number>()
  let links = 0
  let reviews = 0
  for (let block = 0; ; block++) {
    const first = partyOf.length
    for (let c = first; c < first + 100; c++) {
      const party = below(claimants)
      const claim: Record<string, unknown> = {
        type: 'claim',
        ref: `${prefix}-c${c}`,
        party: { ref: `${prefix}-p${party}` },
        text: sentence(8 + below(25)),
        stated_at: timestamp(c * 7 + below(5)),
        tags: [pick(TAGS), ...(below(2) === 0 ? [pick(TAGS)] : [])].filter((tag, i, all) => all.indexOf(tag) === i),
        sources: Array.from({ length: 1 + below(2) }, (_, s) => ({
          url: `https://news.example.org/${block}/${c}/${s}`,
          publisher: `Outlet ${below(40)}`,
          title: sentence(5),
          published_at: timestamp(c * 7 + 30 + below(600)),
        })),
      }
      if (below(3) === 0) claim.quote = sentence(12)
      if (below(5) === 0) claim.location = { name: `Place ${below(300)}`, lat: 39 + random(), lon: 46 + random() }
      if (!(await write(claim))) return
      partyOf.push(party)
    }
    // Half of the block's claims answer an earlier claim of another party: one link from each at most, so no
    // two lines link the same two claims.
    for (let c = first + 1; c < partyOf.length; c += 2) {
      let to = below(c)
      for (let tries = 0; partyOf[to] === partyOf[c] && tries < c; tries++) to = (to + 1) % c
      if (partyOf[to] === partyOf[c]) continue
      const link: Record<string, unknown> = {
        type: 'link',
        ref: `${prefix}-l${links++}`,
        kind: below(4) === 0 ? 'supports' : 'rebuts',
        from: { ref: `${prefix}-c${c}` },
        to: { ref: `${prefix}-c${to}` },
      }
      if (below(3) === 0) link.note = sentence(6)
      if (!(await write(link))) return
    }
    for (let r = 0; r < 10; r++) {
      const claim = first + below(100)
      if (reviewed.has(claim)) continue
      reviewed.add(claim)
      const rated = below(2) === 0
      const review: Record<string, unknown> = {
        type: 'review',
        ref: `${prefix}-r${reviews++}`,
        claim: { ref: `${prefix}-c${claim}` },
        reviewer: { ref: `${prefix}-p${claimants + below(checkers)}` },
        verdict: pick(['false', 'mostly-false', 'mixed', 'mostly-true', 'true', 'unproven']),
        rating_label: pick(['False', 'Misleading', 'Half true', 'Accurate']),
        published_at: timestamp(claim * 7 + 2000),
        url: `https://check.example.org/${claim}`,
      }
      if (rated) Object.assign(review, { rating_value: 1 + below(5), best_rating: 5, worst_rating: 1 })
      if (!(await write(review))) return
    }
  }
}

await generate()
if (out !== process.stdout) await new Promise<void>((resolve) => out.end(resolve))
console.error(`${lines.toLocaleString('en')} lines, ${bytes.toLocaleString('en')} bytes`)
