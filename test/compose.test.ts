import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parse } from 'yaml'
import { loadConfig, SETTING_LIST } from '../src/config.js'

/**
 * The production compose file (docker-compose.scale.yml) and the configuration files it mounts, checked against the
 * service's own settings and against each other: no Docker engine runs here, so nothing else would notice a setting
 * renamed in src/config.ts, an instance HAProxy does not list, or prepared statements left on behind transaction
 * pooling. When HAProxy is installed, it checks its configuration file itself.
 */

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')

interface Service {
  image?: string
  build?: string | { context: string }
  command?: string[]
  entrypoint?: string[]
  environment?: Record<string, string>
  depends_on?: string[] | Record<string, { condition: string }>
  volumes?: string[]
  ports?: string[]
  networks?: string[] | Record<string, { ipv4_address?: string } | null>
  stop_grace_period?: string
}

interface ComposeFile {
  services: Record<string, Service>
  networks?: Record<string, { ipam?: { config?: Array<{ subnet: string; ip_range?: string }> } } | null>
  volumes?: Record<string, unknown>
}

/** A compose file as Compose reads it: YAML with `<<` merge keys. */
const composeFile = (path: string) => parse(read(path), { merge: true }) as ComposeFile

const scale = composeFile('docker-compose.scale.yml')
const services = scale.services

/** The services that run this project's image: built from the project's root. */
const builtHere = (service: Service) =>
  service.build === '.' || (typeof service.build === 'object' && service.build.context === '.')
/** The API instances: this project's image running its default command, the server. */
const instances = Object.entries(services).filter(([, service]) => builtHere(service) && service.command === undefined)
const settingNames = new Set(SETTING_LIST.map((setting) => setting.variable))

/** An ini file (PgBouncer's): sections of `key = value`, `;` and `#` comments. */
function ini(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {}
  let section = ''
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue
    const header = /^\[(.+)\]$/.exec(line)
    if (header) {
      section = header[1]!
      sections[section] ??= {}
      continue
    }
    const [key = '', ...value] = line.split('=')
    ;(sections[section] ??= {})[key.trim()] = value.join('=').trim()
  }
  return sections
}

/** HAProxy's configuration: each section (`backend api`, `defaults`, …) and its lines, comments dropped. */
function haproxySections(text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>()
  let current: string[] = []
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trimEnd()
    if (line.trim() === '') continue
    if (!/^\s/.test(line)) {
      current = []
      sections.set(line.trim(), current)
    } else current.push(line.trim().replace(/\s+/g, ' '))
  }
  return sections
}

/** Milliseconds of a duration as Compose and HAProxy write it (`15s`, `1m30s`, `500ms`, `10000`). */
function durationMs(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
  if (/^\d+$/.test(text)) return Number(text)
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)]
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) throw new Error(`not a duration: ${text}`)
  return parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * units[unit!]!, 0)
}

/** Whether an IPv4 address is in a CIDR range. */
function inRange(address: string, range: string): boolean {
  const [base = '', bits = '32'] = range.split('/')
  const number = (ip: string) => ip.split('.').reduce((sum, part) => sum * 256 + Number(part), 0)
  const size = 2 ** (32 - Number(bits))
  return Math.floor(number(address) / size) === Math.floor(number(base) / size)
}

const pgbouncer = ini(read('deploy/pgbouncer/pgbouncer.ini'))
const haproxy = haproxySections(read('deploy/haproxy.cfg'))
const environmentOf = (name: string) => services[name]?.environment ?? {}
const dependenciesOf = (service: Service) =>
  Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {})

t.test('there are several API instances, and each runs with the same settings', async (t) => {
  t.ok(instances.length >= 2, `${instances.length} instances`)
  const [, first] = instances[0]!
  for (const [name, service] of instances) t.same(service.environment, first.environment, `${name}: as the others`)
})

t.test('every variable set for this project’s image is a setting of the service, with a valid value', async (t) => {
  const checked = [
    ...Object.entries(services).filter(([, service]) => builtHere(service)),
    ...Object.entries(composeFile('docker-compose.yml').services)
      .filter(([, service]) => builtHere(service))
      .map(([name, service]) => [`${name} (docker-compose.yml)`, service] as const),
  ]
  for (const [name, service] of checked) {
    for (const variable of Object.keys(service.environment ?? {})) {
      t.ok(settingNames.has(variable), `${name}: ${variable} is a setting of src/config.ts`)
    }
    t.doesNotThrow(() => loadConfig(service.environment ?? {}), `${name}: the service accepts its settings`)
  }
})

t.test('the instances write through PgBouncer in transaction mode, with unnamed statements', async (t) => {
  for (const [name] of instances) {
    const config = loadConfig(environmentOf(name))
    const url = new URL(config.databaseUrl!)
    t.equal(url.hostname, 'pgbouncer', `${name}: DATABASE_URL names the pooler`)
    t.ok(services[url.hostname], `${name}: the pooler is a service`)
    t.equal(url.port, pgbouncer.pgbouncer?.listen_port, `${name}: at the port PgBouncer listens on`)
    const database = url.pathname.slice(1)
    t.ok(pgbouncer.databases?.[database], `${name}: PgBouncer serves the database ${database}`)
    t.equal(pgbouncer.pgbouncer?.pool_mode, 'transaction')
    // Behind transaction pooling a named statement prepared on one server connection is unknown on the next.
    t.equal(config.databasePreparedStatements, false, `${name}: DATABASE_PREPARED_STATEMENTS=false`)
  }
  // What the service sends when it connects, which PgBouncer 1.18 refuses unless told to ignore it
  // (test/pgbouncer.test.ts runs the service through PgBouncer with the same list).
  const ignored = (pgbouncer.pgbouncer?.ignore_startup_parameters ?? '').split(',').map((name) => name.trim())
  for (const parameter of ['extra_float_digits', 'options', 'statement_timeout']) {
    t.ok(ignored.includes(parameter), `PgBouncer ignores the startup parameter ${parameter}`)
  }
  const clients = instances.reduce((sum, [name]) => sum + loadConfig(environmentOf(name)).databasePoolMax, 0)
  t.ok(
    Number(pgbouncer.pgbouncer?.max_client_conn) >= clients,
    `PgBouncer takes ${pgbouncer.pgbouncer?.max_client_conn} clients, the instances' pools hold ${clients}`,
  )
})

t.test('PgBouncer, the migrations and the replica all lead to one primary', async (t) => {
  const target = /\bhost=(\S+)\s+port=(\d+)/.exec(pgbouncer.databases?.counterclaim ?? '')
  t.ok(target, 'PgBouncer names the host and port of its database')
  const [, primary = '', primaryPort] = target ?? []
  t.ok(services[primary], `PgBouncer's host ${primary} is a service`)
  t.equal(primaryPort, '5432')

  const migrate = Object.entries(services).filter(([, service]) => builtHere(service) && service.command !== undefined)
  t.same(
    migrate.map(([, service]) => service.command),
    [['node', 'dist/cli/migrate.js']],
    'one service migrates',
  )
  for (const [name] of migrate) {
    t.equal(new URL(environmentOf(name).DATABASE_URL!).hostname, primary, `${name} migrates the primary itself`)
  }
  for (const [name, service] of instances) {
    t.equal(
      loadConfig(environmentOf(name)).migrateOnStart,
      false,
      `${name} leaves the migrations to the migrate service`,
    )
    t.same(
      (service.depends_on as Record<string, { condition: string }>)[migrate[0]![0]],
      { condition: 'service_completed_successfully' },
      `${name} starts once the migrations are applied`,
    )
  }

  for (const [name] of instances) {
    const replicas = loadConfig(environmentOf(name)).databaseReadUrl ?? []
    t.ok(replicas.length > 0, `${name}: DATABASE_READ_URL names a replica`)
    for (const url of replicas) {
      const host = new URL(url).hostname
      const replica = services[host]
      t.ok(replica, `${name}: the replica ${host} is a service`)
      t.not(host, primary, `${name}: reads go to a replica, not to the primary`)
      t.equal(replica?.environment?.PRIMARY_HOST, primary, `${host} is a replica of the primary`)
      t.ok(
        replica?.volumes?.some((volume) => volume.startsWith('./deploy/postgres/replica-entrypoint.sh:')),
        `${host} is made by the replica entrypoint (pg_basebackup -R)`,
      )
    }
  }
  t.ok(
    services[primary]?.volumes?.some((volume) => volume.startsWith('./deploy/postgres/primary-init.sh:')),
    'the primary creates the replication role and the role settings PgBouncer drops',
  )
})

t.test('HAProxy lists every instance, checks /readyz, and is the proxy the instances trust', async (t) => {
  const backend = haproxy.get('backend api') ?? []
  t.ok(backend.includes('option httpchk'), 'health checks over HTTP')
  t.ok(backend.includes('http-check send meth GET uri /readyz'), 'GET /readyz')
  t.ok(backend.includes('http-check expect status 200'), 'ready only on a 200')
  const defaultServer = backend.find((line) => line.startsWith('default-server ')) ?? ''
  t.match(defaultServer, /\bcheck\b/, 'every server is checked')

  const servers = backend.filter((line) => line.startsWith('server ')).map((line) => line.split(' ')[2]!)
  t.same(
    servers.sort(),
    instances.map(([name]) => `${name}:${loadConfig(environmentOf(name)).port}`).sort(),
    'one server per instance, at the port it listens on',
  )
  for (const [name] of instances)
    t.equal(loadConfig(environmentOf(name)).host, '0.0.0.0', `${name} listens beyond loopback`)

  const frontend = haproxy.get('frontend api') ?? []
  const bound = /^bind :(\d+)$/.exec(frontend.find((line) => line.startsWith('bind ')) ?? '')?.[1]
  t.ok(
    services.haproxy?.ports?.some((port) => port.endsWith(`:${bound}`)),
    `the port HAProxy listens on (${bound}) is published`,
  )
  t.ok(haproxy.get('defaults')?.includes('option forwardfor'), 'HAProxy forwards the client address')
  const address = (services.haproxy?.networks as Record<string, { ipv4_address?: string }>).backend?.ipv4_address
  const { subnet, ip_range: dynamic = '' } = scale.networks?.backend?.ipam?.config?.[0] ?? { subnet: '' }
  t.ok(inRange(address ?? '', subnet), `HAProxy's address ${address} is in ${subnet}`)
  // Outside the range Docker hands out to the other containers, so that one of them cannot hold it first.
  t.not(dynamic, '', 'the other containers take their addresses from a range of their own')
  t.notOk(inRange(address ?? '', dynamic), `HAProxy's address is outside ${dynamic}`)
  for (const [name] of instances) {
    t.same(loadConfig(environmentOf(name)).trustProxy, [address], `${name} trusts HAProxy's forwarded address only`)
  }
})

t.test('timeouts fit together', async (t) => {
  const keepAlive = /^timeout http-keep-alive (\S+)$/.exec(
    haproxy.get('defaults')?.find((line) => line.startsWith('timeout http-keep-alive')) ?? '',
  )?.[1]
  const defaultServer = haproxy.get('backend api')?.find((line) => line.startsWith('default-server ')) ?? ''
  const checkInterval = durationMs(/\binter (\S+)/.exec(defaultServer)?.[1] ?? '2s')
  const fall = Number(/\bfall (\d+)/.exec(defaultServer)?.[1] ?? 3)
  for (const [name, service] of instances) {
    const config = loadConfig(environmentOf(name))
    // An instance closing a kept-alive connection as HAProxy sends on it would fail that request.
    t.ok(durationMs(keepAlive ?? '') < config.keepAliveTimeoutMs, `${name}: HAProxy closes idle connections first`)
    const drainMs = Number(environmentOf(name).SHUTDOWN_DRAIN_MS ?? 0)
    // A drain before the port closes is only worth its time if HAProxy's checks see it: failed `fall` times.
    if (drainMs > 0) t.ok(drainMs > checkInterval * fall, `${name}: HAProxy takes the instance out within the drain`)
    t.ok(
      durationMs(service.stop_grace_period ?? '10s') > drainMs + config.shutdownGraceMs,
      `${name}: requests in flight finish before Docker kills the container`,
    )
  }
})

t.test('every service, volume and file named exists', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    for (const dependency of dependenciesOf(service)) t.ok(services[dependency], `${name} depends on ${dependency}`)
    for (const volume of service.volumes ?? []) {
      const [source = ''] = volume.split(':')
      if (source.startsWith('./')) t.ok(existsSync(join(ROOT, source)), `${name} mounts ${source}`)
      else t.ok(scale.volumes && source in scale.volumes, `${name}: the volume ${source} is declared`)
    }
    const context = typeof service.build === 'string' ? service.build : service.build?.context
    if (context !== undefined) t.ok(existsSync(join(ROOT, context, 'Dockerfile')), `${name} builds ${context}`)
    const networks = Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? {})
    for (const network of networks) t.ok(scale.networks && network in scale.networks, `${name}: ${network} declared`)
  }
})

const haproxyBinary = ['haproxy', '/usr/sbin/haproxy'].find((path) => spawnSync(path, ['-v']).status === 0)

t.test(
  'HAProxy accepts its configuration',
  { skip: haproxyBinary === undefined ? 'haproxy is not installed (apt-get install haproxy)' : false },
  async (t) => {
    // The instances' names resolve only on the compose network: HAProxy warns of that and starts them unresolved.
    const result = spawnSync(haproxyBinary!, ['-c', '-f', join(ROOT, 'deploy/haproxy.cfg')], { encoding: 'utf8' })
    t.equal(result.status, 0, `haproxy -c: ${result.stdout}${result.stderr}`)
    t.match(result.stdout + result.stderr, /Configuration file is valid/)
  },
)
