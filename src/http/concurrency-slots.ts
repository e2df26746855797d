import { unavailable } from '../errors/problems.js'

/**
 * How many requests of a kind (exports, imports) may run at once. Each holds a pooled connection, and a
 * transaction, for as long as it runs; without a bound, a few of them would take every connection and starve all
 * other requests. One more is refused (503, Retry-After) instead of waiting.
 */
export class ConcurrencySlots {
  private running = 0

  /** `what`, in the plural, names them in the refusal: "as many exports as may run at once". */
  constructor(
    readonly limit: number,
    private readonly what: string,
  ) {}

  /** How many slots are taken now, of how many. */
  usage(): { inUse: number; limit: number } {
    return { inUse: this.running, limit: this.limit }
  }

  /** Takes a slot, or refuses; the function returned gives it back (once, however often it is called). */
  take(): () => void {
    if (this.running >= this.limit) {
      throw unavailable(`as many ${this.what} as may run at once (${this.limit}) are running; retry later`)
    }
    this.running++
    let given = false
    return () => {
      if (!given) {
        given = true
        this.running--
      }
    }
  }
}
