// Caps on raw-SQL requests running at once, per API key and per client, so one key cannot take a client's
// whole raw-SQL pool. A request over a cap waits its turn for a short, bounded time (rawSqlSessions.queueTimeoutMs)
// and is refused with 429 after that, or at once when too many already wait. Counters live in this process
// only; the gate knows nothing of rights or of what the SQL does.
import type { Principal } from '../auth/principal.js'
import { AppError } from '../errors/app-error.js'

export interface RawSqlGateLimits {
  /** per API key; 0 = no cap */
  maxConcurrentPerKey: number
  /** per client, all callers together; 0 = the client's raw-SQL pool size */
  maxConcurrentPerClient: number
  /** how long a request over a cap may wait for a turn; 0 = refuse at once */
  queueTimeoutMs: number
}

/** a raw-SQL request running on its own pool is over in well under a second or cut at its deadline */
const RETRY_AFTER_SECONDS = 1
/** waiting requests per client, as a multiple of its cap: beyond this, waiting would only pile up memory */
const QUEUE_PER_SLOT = 32

interface Waiter {
  keyId: string | undefined
  keyCap: number
  grant(): void
}

export class RawSqlGate {
  private readonly perKey = new Map<string, number>()
  private readonly perClient = new Map<string, number>()
  /** requests waiting for a turn, first come first served, per client */
  private readonly waiting = new Map<string, Waiter[]>()

  constructor(private readonly limits: RawSqlGateLimits) {}

  /**
   * Counts one raw-SQL request in, waiting for a turn when a cap is reached, or throws 429
   * too_many_concurrent_queries; the returned function counts it out and must be called exactly once.
   * `clientPoolSize` is the default client cap: past it a request would only queue for a connection.
   */
  async enter(principal: Principal, client: string, clientPoolSize: number, signal?: AbortSignal): Promise<() => void> {
    const clientCap = this.limits.maxConcurrentPerClient || clientPoolSize
    // a key never holds all of a client's raw-SQL capacity (when there is more than one slot), whatever the setting
    // a session user counts as a key of its own (its sub), so one user cannot hold a client's every slot either
    const keyId = principal.kind === 'key' ? principal.keyId : principal.kind === 'user' ? `user:${principal.sub}` : undefined
    const keyCap = keyId !== undefined ? Math.min(this.limits.maxConcurrentPerKey || Infinity, Math.max(1, clientCap - 1)) : Infinity
    // Freed slots go to waiting requests at once (wakeNext), so a request that fits now overtakes no one that could
    // run: whoever still waits is held by its own key's cap.
    if (this.fits(client, clientCap, keyId, keyCap)) return this.take(client, clientCap, keyId)
    const queue = this.waiting.get(client)

    const reason = this.fits(client, clientCap, keyId, Infinity)
      ? `this API key already has ${this.perKey.get(keyId!) ?? 0} raw SQL requests running; at most ${keyCap} may run at once`
      : `client "${client}" already has ${this.perClient.get(client) ?? 0} raw SQL requests running; at most ${clientCap} may run at once`
    if (this.limits.queueTimeoutMs <= 0 || (queue?.length ?? 0) >= clientCap * QUEUE_PER_SLOT) throw tooMany(reason)
    return new Promise((resolve, reject) => {
      const list = queue ?? []
      this.waiting.set(client, list)
      const giveUp = (err: AppError | Error) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        const at = list.indexOf(waiter)
        if (at >= 0) list.splice(at, 1)
        if (!list.length) this.waiting.delete(client)
        reject(err)
        // a request queued behind this one may fit now
        this.wakeNext(client, clientCap)
      }
      const onAbort = () => giveUp(new AppError('request_timeout', 'the request ended while it waited for a raw SQL turn'))
      const waiter: Waiter = {
        keyId,
        keyCap,
        grant: () => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          resolve(this.take(client, clientCap, keyId))
        },
      }
      const timer = setTimeout(() => giveUp(tooMany(`${reason}, and no turn came within ${this.limits.queueTimeoutMs} ms`)), this.limits.queueTimeoutMs)
      signal?.addEventListener('abort', onAbort, { once: true })
      list.push(waiter)
    })
  }

  private fits(client: string, clientCap: number, keyId: string | undefined, keyCap: number): boolean {
    if ((this.perClient.get(client) ?? 0) >= clientCap) return false
    return keyId === undefined || (this.perKey.get(keyId) ?? 0) < keyCap
  }

  private take(client: string, clientCap: number, keyId: string | undefined): () => void {
    if (keyId !== undefined) this.perKey.set(keyId, (this.perKey.get(keyId) ?? 0) + 1)
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1)
    let left = false
    return () => {
      if (left) return
      left = true
      if (keyId !== undefined) decrement(this.perKey, keyId)
      decrement(this.perClient, client)
      this.wakeNext(client, clientCap)
    }
  }

  /** gives free slots to waiting requests in arrival order, skipping those whose key is still at its own cap */
  private wakeNext(client: string, clientCap: number): void {
    const list = this.waiting.get(client)
    while (list?.length) {
      const at = list.findIndex((w) => this.fits(client, clientCap, w.keyId, w.keyCap))
      if (at < 0) return
      const [next] = list.splice(at, 1)
      if (!list.length) this.waiting.delete(client)
      next.grant()
    }
  }
}

function decrement(counts: Map<string, number>, name: string): void {
  const n = (counts.get(name) ?? 1) - 1
  if (n <= 0) counts.delete(name)
  else counts.set(name, n)
}

const tooMany = (message: string) => new AppError('too_many_concurrent_queries', message, {
  hint: 'wait for a running query to finish, then retry',
  retryAfter: RETRY_AFTER_SECONDS,
})
