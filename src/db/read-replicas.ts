import { Kysely, PostgresDialect, sql } from 'kysely'
import { type ServerDatabaseOptions, type ServerPool, openServerPool } from './server-pool.js'
import type { Database, Db } from './schema.js'

/**
 * A position in the write-ahead log, as PostgreSQL writes it (`16/B374D848`: the high and low 32 bits in hex), as
 * a number that compares. Undefined when the text is not one.
 */
export function parseLsn(text: string): bigint | undefined {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text)
  if (match === null) return undefined
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`)
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`
}

/**
 * What the last check found of a replica. `starting`: not checked yet; `down`: it did not answer (or refused a
 * connection); `lagging`: it had not replayed what the primary held REPLICA_MAX_LAG_MS ago; `not-a-replica`: the
 * server is not in recovery (a promoted replica, or a wrong URL), so its positions cannot be compared. Only `ok`
 * replicas serve reads.
 */
export type ReplicaState = 'starting' | 'ok' | 'lagging' | 'down' | 'not-a-replica'

export interface ReplicaStatus {
  /** Its place in DATABASE_READ_URL, from 1 (the URL itself, which may hold a password, is not shown). */
  replica: number
  state: ReplicaState
  /** How far behind the primary it was at the last check, in milliseconds (at least that much when lagging). */
  lagMs: number | undefined
}

/** Where a read is served from, and why there. */
export interface ReadChoice {
  db: Db
  servedBy: 'replica' | 'primary'
  /** How long the read waited for a replica to replay the client's last write. */
  waitedMs: number
}

export interface ReadReplicaOptions extends Omit<ServerDatabaseOptions, 'url'> {
  urls: string[]
  /** A replica further behind the primary than this is skipped until it catches up. */
  maxLagMs: number
  /** How long a read carrying a consistency token waits for a replica to reach it, before the primary serves it. */
  readYourWritesWaitMs: number
  /** How often the replicas' positions and lag are checked (default: a quarter of maxLagMs, 50 ms to 1 s). */
  checkIntervalMs?: number
  /** Called when a replica's state changes (for the logs). */
  onStateChange?: (status: ReplicaStatus, previous: ReplicaState) => void
}

interface Replica {
  index: number
  server: ServerPool
  /** Queries of the checks and of waits: this replica only, no fallback. */
  direct: Db
  /** Queries of the reads: this replica, or the primary when a connection to it cannot be had. */
  reads: Db
  state: ReplicaState
  lagMs: number | undefined
  /** The last replayed position seen. */
  replayLsn: bigint
  /** A position query running now, which waiters share. */
  polling: Promise<bigint | undefined> | undefined
}

interface Sample {
  at: number
  lsn: bigint
}

/** How often a read that waits for a replica asks it how far it has replayed. */
const WAIT_POLL_MS = 5

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves with `work`'s value, or undefined when it fails or has not settled within `ms`. */
async function within<T>(ms: number, work: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms)
  })
  try {
    return await Promise.race([work.catch(() => undefined), late])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Streaming replicas that serve reads, beside the primary that serves writes (and the reads within them).
 *
 * How far behind each replica is, is checked in the background, never per request: every check reads the
 * primary's WAL position and keeps it with the time it was read; a replica that has replayed up to a position the
 * primary held at time t lags by at most now − t. That holds on an idle primary too (where "time since the last
 * replayed transaction" grows without bound). A replica down, lagging more than maxLagMs or not in recovery is
 * skipped until a check finds it well again; a connection that cannot be had to a replica between two checks sends
 * that read to the primary and marks the replica down at once.
 *
 * Read-your-writes: a write answers the primary's WAL position after its commit (currentPrimaryLsn); a read carrying
 * it is served by a replica that has replayed that far, waiting up to readYourWritesWaitMs, else by the primary.
 */
export class ReadReplicas {
  readonly #replicas: Replica[]
  readonly #primary: Db
  readonly #maxLagMs: number
  readonly #waitMs: number
  readonly #intervalMs: number
  readonly #onStateChange: ReadReplicaOptions['onStateChange']
  #samples: Sample[] = []
  #next = 0
  #timer: NodeJS.Timeout | undefined
  #checking: Promise<void> | undefined
  #closed = false

  constructor(primary: { db: Db; server: ServerPool }, options: ReadReplicaOptions) {
    this.#primary = primary.db
    this.#maxLagMs = options.maxLagMs
    this.#waitMs = options.readYourWritesWaitMs
    this.#intervalMs = options.checkIntervalMs ?? Math.min(1000, Math.max(50, Math.floor(options.maxLagMs / 4)))
    this.#onStateChange = options.onStateChange
    this.#replicas = options.urls.map((url, i) => {
      const server = openServerPool({ ...options, url })
      const replica: Replica = {
        index: i + 1,
        server,
        direct: new Kysely<Database>({ dialect: new PostgresDialect({ pool: server.pool }) }),
        reads: new Kysely<Database>({
          dialect: new PostgresDialect({
            pool: {
              connect: () =>
                server.pool.connect().catch(() => {
                  this.#setState(replica, 'down', undefined)
                  return primary.server.pool.connect()
                }),
              // The replica's pool is ended by `direct`; the primary's, by the primary's own Kysely.
              end: async () => undefined,
            },
          }),
        }),
        state: 'starting',
        lagMs: undefined,
        replayLsn: 0n,
        polling: undefined,
      }
      return replica
    })
  }

  /** Starts the background checks; the first runs now (without holding up the start of the service). */
  start(): void {
    const tick = () => {
      this.#checking = this.check().finally(() => {
        this.#checking = undefined
        if (!this.#closed) this.#timer = setTimeout(tick, this.#intervalMs).unref()
      })
    }
    tick()
  }

  status(): ReplicaStatus[] {
    return this.#replicas.map((r) => ({ replica: r.index, state: r.state, lagMs: r.lagMs }))
  }

  /** The primary's WAL position now: after a write's commit, a position at or past it, for read-your-writes. */
  async currentPrimaryLsn(): Promise<string> {
    // The insert position, not the write position: with synchronous_commit off a commit may not be written yet.
    const { rows } = await sql<{ lsn: string }>`SELECT pg_current_wal_insert_lsn()::text AS lsn`.execute(this.#primary)
    return rows[0]!.lsn
  }

  /**
   * The database a read is served from: a replica that is well (in turn), and with `after`, one that has replayed
   * at least that far, waited for up to readYourWritesWaitMs; the primary when there is none.
   */
  async forRead(after?: bigint): Promise<ReadChoice> {
    const healthy = this.#replicas.filter((r) => r.state === 'ok')
    if (healthy.length === 0) return { db: this.#primary, servedBy: 'primary', waitedMs: 0 }
    if (after !== undefined) {
      const reached = healthy.find((r) => r.replayLsn >= after)
      if (reached !== undefined) return { db: reached.reads, servedBy: 'replica', waitedMs: 0 }
    }
    const replica = healthy[this.#next++ % healthy.length]!
    if (after === undefined) return { db: replica.reads, servedBy: 'replica', waitedMs: 0 }
    const started = performance.now()
    const deadline = started + this.#waitMs
    for (;;) {
      const remaining = deadline - performance.now()
      const position = remaining > 0 ? await within(remaining, this.#poll(replica)) : undefined
      const waitedMs = Math.round(performance.now() - started)
      if (position !== undefined && position >= after) return { db: replica.reads, servedBy: 'replica', waitedMs }
      if (position === undefined || performance.now() + WAIT_POLL_MS >= deadline) {
        return { db: this.#primary, servedBy: 'primary', waitedMs }
      }
      await sleep(WAIT_POLL_MS)
    }
  }

  /** One check of every replica; resolves when it is done (the background runs them on its own). */
  async check(): Promise<void> {
    const sampled = await within(this.#checkTimeoutMs(), this.currentPrimaryLsn())
    // Without the primary's position the replicas are still checked: one promoted or gone shows as such, and the
    // lag is measured against the last position known, which makes them lagging once it is too old.
    const now = Date.now()
    if (sampled !== undefined) this.#samples.push({ at: now, lsn: parseLsn(sampled)! })
    // Enough history to tell a lag of maxLagMs, and no more.
    const horizon = now - this.#maxLagMs - 2 * this.#intervalMs
    while (this.#samples.length > 1 && this.#samples[1]!.at < horizon) this.#samples.shift()
    await Promise.all(this.#replicas.map((replica) => this.#checkReplica(replica)))
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    await this.#checking
    await Promise.all(this.#replicas.map((r) => Promise.all([r.reads.destroy(), r.direct.destroy()])))
  }

  /** A check that takes longer finds the server down (or the primary's position unknown). */
  #checkTimeoutMs() {
    return Math.max(2000, 2 * this.#intervalMs)
  }

  async #checkReplica(replica: Replica) {
    const found = await within(
      this.#checkTimeoutMs(),
      sql<{ recovering: boolean; lsn: string | null }>`
        SELECT pg_is_in_recovery() AS recovering, pg_last_wal_replay_lsn()::text AS lsn`.execute(replica.direct),
    )
    const row = found?.rows[0]
    // A replica rebuilt, restarted behind or repointed may have replayed less than before: only a reading counts.
    if (row === undefined || !row.recovering || row.lsn === null) {
      replica.replayLsn = 0n
      return this.#setState(replica, row === undefined ? 'down' : 'not-a-replica', undefined)
    }
    const replayed = parseLsn(row.lsn)!
    replica.replayLsn = replayed
    const now = Date.now()
    // The latest time the primary held no more than the replica has replayed: it is at least that fresh.
    const caughtUp = this.#samples.findLast((sample) => sample.lsn <= replayed)
    const oldest = this.#samples[0]
    if (oldest === undefined) return this.#setState(replica, 'lagging', undefined)
    const lagMs = now - (caughtUp ?? oldest).at
    this.#setState(replica, caughtUp !== undefined && lagMs <= this.#maxLagMs ? 'ok' : 'lagging', lagMs)
  }

  /** How far the replica has replayed now; one query at a time per replica, shared by every read that waits. */
  #poll(replica: Replica): Promise<bigint | undefined> {
    replica.polling ??= sql<{ lsn: string | null }>`SELECT pg_last_wal_replay_lsn()::text AS lsn`
      .execute(replica.direct)
      .then(
        ({ rows }) => {
          const lsn = rows[0]?.lsn == null ? undefined : parseLsn(rows[0].lsn)
          if (lsn !== undefined) replica.replayLsn = lsn
          return lsn
        },
        () => undefined,
      )
      .finally(() => {
        replica.polling = undefined
      })
    return replica.polling
  }

  #setState(replica: Replica, state: ReplicaState, lagMs: number | undefined) {
    const previous = replica.state
    replica.state = state
    replica.lagMs = lagMs
    if (state !== previous) this.#onStateChange?.({ replica: replica.index, state, lagMs }, previous)
  }
}
