import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../db/schema.js'
import { countHits, countHitsOfMany } from '../repositories/rate-limit.repository.js'

type Counted = Parameters<FastifyRateLimitStore['incr']>[1]

/**
 * How long the counters are left alone after a statement on them failed. Requests are then let through without
 * being counted (failing open): a rate limit guards the service, and refusing every request, or answering 500,
 * because the counters cannot be reached would take the service down instead. Requests that need the database
 * fail on their own with a 503 meanwhile; the pause spares them a second wait for a connection that is not coming,
 * and the log a line per request.
 */
const PAUSE_AFTER_FAILURE_MS = 5000

/** How often the requests let through on an instance's own count are sent to the database, all clients at once. */
export const SYNC_INTERVAL_MS = 250

/** Up to this part of its limit, a client's requests are let through on the instance's own count. */
const OWN_COUNT_SHARE = 0.5

class CountersUnavailableError extends Error {
  override name = 'CountersUnavailableError'
}

/** What an instance knows of one client in the current window. */
interface Client {
  /** The client's total in the database, as the latest statement that counted it said. */
  counted: number
  /** This instance's requests let through and not yet sent to the database. */
  pending: number
  /** This instance's requests on their way to the database in a sync statement. */
  syncing: number
  /** When the window ends, by this process's clock; 0 until a statement has said. */
  windowEndsAt: number
  /** Set while a statement counting requests one by one is on its way: the requests waiting for the next one. */
  waiting: Counted[] | undefined
}

/**
 * The store of @fastify/rate-limit, keeping the counters in PostgreSQL (`rate_limit_counters`), where every
 * instance of the service counts, so that several instances behind a load balancer give a client one budget.
 *
 * Waiting for a statement on every request would add a database round trip to each one (it halved the requests
 * a second the service answers). So, while a client is well within its limit (up to half of it), an instance lets
 * its requests through on its own count, the client's total at its latest count plus the requests let through
 * since, and sends them to the database a few times a second, for all clients in one statement. Past half of the
 * limit, and for a client's first request in a window, each request is counted in the database before it is let
 * through; a client's requests that arrive while one of its counts is on its way are counted together by the next
 * statement, each in its own place. So a limit holds exactly on one instance. With several, only requests that an
 * instance let through on its own count and had not yet sent when the database reached the limit pass it: fewer
 * than half the limit per instance and window, sent within one sync interval.
 */
export class PostgresRateLimitStore implements FastifyRateLimitStore {
  private readonly clients = new Map<string, Client>()
  private windowMs = 60_000
  private pausedUntil = 0
  private syncing = false
  private readonly syncTimer: NodeJS.Timeout

  constructor(
    private readonly db: Db,
    private readonly log: FastifyBaseLogger,
  ) {
    this.syncTimer = setInterval(() => this.sync(), SYNC_INTERVAL_MS)
    this.syncTimer.unref()
  }

  incr(key: string, counted: Counted, windowMs: number, max: number): void {
    this.windowMs = windowMs
    if (this.paused()) {
      counted(new CountersUnavailableError('the rate-limit counters are paused after a failure'))
      return
    }
    const now = Date.now()
    let client = this.clients.get(key)
    if (client === undefined) {
      client = { counted: 0, pending: 0, syncing: 0, windowEndsAt: 0, waiting: undefined }
      this.clients.set(key, client)
    } else if (client.windowEndsAt !== 0 && client.windowEndsAt <= now) {
      // Its window ended: the next statement starts a new one, and says when that one ends.
      Object.assign(client, { counted: 0, pending: 0, windowEndsAt: 0 })
    }
    if (client.waiting !== undefined) {
      client.waiting.push(counted)
      return
    }
    const current = client.counted + client.syncing + client.pending + 1
    if (client.windowEndsAt > now && current <= max * OWN_COUNT_SHARE) {
      client.pending++
      counted(null, { current, ttl: client.windowEndsAt - now })
      return
    }
    client.waiting = []
    this.count(key, client, [counted])
  }

  /**
   * Whether a client is past `max` in its current window, as this instance last heard from the database and
   * counted since: no statement is sent. Past half of its limit a client's every request is counted in the
   * database, so this lags the database only by what other instances let through meanwhile.
   */
  isOver(key: string, max: number): boolean {
    const client = this.clients.get(key)
    if (max === 0 || client === undefined || client.windowEndsAt <= Date.now()) return false
    return client.counted + client.syncing + client.pending >= max
  }

  /** Nothing to derive per route: every route counts against the same budget. */
  child(): FastifyRateLimitStore {
    return this
  }

  close(): void {
    clearInterval(this.syncTimer)
  }

  private paused(): boolean {
    return Date.now() < this.pausedUntil
  }

  private failed(error: unknown): void {
    if (this.paused()) return
    this.pausedUntil = Date.now() + PAUSE_AFTER_FAILURE_MS
    this.log.warn(
      { err: error },
      `rate-limit counters unavailable: requests are let through uncounted for ${PAUSE_AFTER_FAILURE_MS} ms`,
    )
  }

  /** Takes in what a statement said of a client's window. */
  private adopt(client: Client, hits: number, resetInMs: number): void {
    const windowEndsAt = Date.now() + resetInMs
    // Two statements in one window tell the same end, give or take their round trips; a new window ends later.
    const sameWindow = client.windowEndsAt !== 0 && Math.abs(windowEndsAt - client.windowEndsAt) < this.windowMs / 2
    client.counted = sameWindow ? Math.max(client.counted, hits) : hits
    if (!sameWindow) client.windowEndsAt = windowEndsAt
  }

  /** Counts these requests, with the client's pending ones, in one statement, and gives each its place. */
  private count(key: string, client: Client, requests: Counted[]): void {
    const carried = client.pending
    client.pending = 0
    // What this instance already knows of: a sync on its way may reach the database after this statement does.
    const known = client.counted + client.syncing + carried
    countHits(this.db, key, carried + requests.length, this.windowMs).then(
      ({ hits, resetInMs }) => {
        const windowKnown = client.windowEndsAt !== 0
        this.adopt(client, hits, resetInMs)
        const before = Math.max(hits, windowKnown ? known + requests.length : 0) - requests.length
        requests.forEach((counted, i) => counted(null, { current: before + i + 1, ttl: resetInMs }))
        this.next(key, client)
      },
      (error: unknown) => {
        this.failed(error)
        // Requests let through earlier are still to be counted: the next sync sends them.
        client.pending += carried
        const failure = error instanceof Error ? error : new Error(String(error))
        for (const counted of requests) counted(failure)
        this.next(key, client)
      },
    )
  }

  private next(key: string, client: Client): void {
    const queue = client.waiting ?? []
    if (queue.length === 0 || this.paused()) {
      client.waiting = undefined
      const paused = new CountersUnavailableError('the rate-limit counters are paused after a failure')
      for (const counted of queue) counted(paused)
      return
    }
    client.waiting = []
    this.count(key, client, queue)
  }

  /** Sends every client's pending requests to the database in one statement; forgets clients whose window ended. */
  private sync(): void {
    if (this.syncing || this.paused()) return
    const now = Date.now()
    const carried = new Map<string, number>()
    for (const [key, client] of this.clients) {
      const idle = client.pending === 0 && client.syncing === 0 && client.waiting === undefined
      if (idle && client.windowEndsAt <= now) this.clients.delete(key)
      else if (client.pending > 0 && client.waiting === undefined) carried.set(key, client.pending)
    }
    if (carried.size === 0) return
    for (const [key, hits] of carried) {
      const client = this.clients.get(key)!
      client.pending -= hits
      client.syncing += hits
    }
    this.syncing = true
    countHitsOfMany(this.db, carried, this.windowMs)
      .then(
        (rows) => {
          for (const { key, hits, resetInMs } of rows) {
            const client = this.clients.get(key)
            if (client !== undefined) this.adopt(client, hits, resetInMs)
          }
          this.settle(carried, false)
        },
        (error: unknown) => {
          this.failed(error)
          // Kept, to be sent with the next sync once the database answers again.
          this.settle(carried, true)
        },
      )
      .finally(() => {
        this.syncing = false
      })
  }

  private settle(carried: Map<string, number>, failed: boolean): void {
    for (const [key, hits] of carried) {
      const client = this.clients.get(key)
      if (client === undefined) continue
      client.syncing -= hits
      if (failed) client.pending += hits
    }
  }
}

/**
 * The store as the plugin takes it: a class, which the plugin instantiates itself. A constructor that returns an
 * object hands that object out instead, so the plugin gets this store, which the caller keeps, to close it.
 */
export function storeClass(store: PostgresRateLimitStore): FastifyRateLimitStoreCtor {
  return function SharedStore() {
    return store
  } as unknown as FastifyRateLimitStoreCtor
}
