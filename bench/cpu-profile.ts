import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/**
 * Where a `.cpuprofile` (node --cpu-prof) spent its time: self time by function and by package, which is what
 * tells a serializer from a driver from the framework. Samples are weighed by the time before the next one.
 *
 *   npx tsx bench/cpu-profile.ts FILE.cpuprofile [--top N] [--requests N]
 */

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

export interface SelfTime {
  name: string
  ms: number
  share: number
}

/** The package a script belongs to: the module under node_modules, our own code, or Node's internals. */
function packageOf(url: string): string {
  if (url === '') return '(native, GC)'
  if (url.startsWith('node:')) return 'node (internals)'
  const vendored = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (vendored !== null) return vendored[1]!
  const own = /\/(dist|src|bench)\/(.*)$/.exec(url)
  return own === null ? url : `${own[1]}/${own[2]!.split('/')[0]}`
}

export async function summarizeProfile(file: string): Promise<{
  totalMs: number
  busyMs: number
  functions: SelfTime[]
  packages: SelfTime[]
}> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const selfUs = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    // A sample's time runs until the next one; the last runs to the end of the profile.
    const delta = i + 1 < profile.timeDeltas.length ? profile.timeDeltas[i + 1]! : 0
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + Math.max(0, delta))
  }
  const functions = new Map<string, number>()
  const packages = new Map<string, number>()
  let totalUs = 0
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id)!
    const where =
      callFrame.url === '' ? '' : ` ${callFrame.url.replace(/^.*?\/(node_modules|dist|src|bench)\//, '$1/')}`
    const name = `${callFrame.functionName || '(anonymous)'}${where}${callFrame.url === '' ? '' : `:${callFrame.lineNumber + 1}`}`
    functions.set(name, (functions.get(name) ?? 0) + us)
    const pkg = packageOf(callFrame.url)
    if (callFrame.functionName !== '(idle)') packages.set(pkg, (packages.get(pkg) ?? 0) + us)
    totalUs += us
  }
  // Shares are of the time the process was busy: idle time says how long it waited, not what it spent.
  const busyUs = totalUs - (functions.get('(idle)') ?? 0)
  const ranked = (entries: Map<string, number>) =>
    [...entries]
      .filter(([name]) => name !== '(idle)')
      .map(([name, us]) => ({ name, ms: us / 1000, share: busyUs === 0 ? 0 : us / busyUs }))
      .sort((a, b) => b.ms - a.ms)
  return {
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    functions: ranked(functions),
    packages: ranked(packages),
  }
}

/** With `requests`, each line also says its µs per request: the self time divided by the requests answered. */
export function formatSummary(
  summary: Awaited<ReturnType<typeof summarizeProfile>>,
  top = 25,
  requests?: number,
): string {
  const perRequest = (ms: number) =>
    requests === undefined || requests === 0 ? '' : `${((ms * 1000) / requests).toFixed(1).padStart(8)} µs/req  `
  const line = (entry: SelfTime) =>
    `${(100 * entry.share).toFixed(1).padStart(5)}%  ${entry.ms.toFixed(0).padStart(7)} ms  ${perRequest(entry.ms)}${entry.name}`
  return [
    `profiled ${(summary.totalMs / 1000).toFixed(1)} s, busy ${(summary.busyMs / 1000).toFixed(1)} s` +
      `${requests === undefined ? '' : ` over ${requests} requests`} (shares are of the busy time)`,
    '',
    'self time by package:',
    ...summary.packages.slice(0, 15).map(line),
    '',
    'self time by function:',
    ...summary.functions.slice(0, top).map(line),
  ].join('\n')
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, ...flags] = process.argv.slice(2)
  if (file === undefined) {
    console.error('usage: npx tsx bench/cpu-profile.ts FILE.cpuprofile [--top N] [--requests N]')
    process.exit(2)
  }
  const flag = (name: string) => {
    const at = flags.indexOf(name)
    return at === -1 || flags[at + 1] === undefined ? undefined : Number(flags[at + 1])
  }
  console.log(formatSummary(await summarizeProfile(file), flag('--top'), flag('--requests')))
}
