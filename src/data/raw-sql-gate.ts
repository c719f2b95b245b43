// Caps on raw-SQL requests running at once, per API key and per client, so one key cannot take a client's
// whole raw-SQL pool. Counters live in this process only; it knows nothing of rights or of what the SQL does.
import type { Principal } from '../auth/principal.js'
import { AppError } from '../errors/app-error.js'

export interface RawSqlGateLimits {
  /** per API key; 0 = no cap */
  maxConcurrentPerKey: number
  /** per client, all callers together; 0 = the client's raw-SQL pool size */
  maxConcurrentPerClient: number
}

/** a raw-SQL request running on its own pool is over in well under a second or cut at its deadline */
const RETRY_AFTER_SECONDS = 1

export class RawSqlGate {
  private readonly perKey = new Map<string, number>()
  private readonly perClient = new Map<string, number>()

  constructor(private readonly limits: RawSqlGateLimits) {}

  /**
   * Counts one raw-SQL request in, or throws 429 too_many_concurrent_queries; the returned function counts it
   * out and must be called exactly once. `clientPoolSize` is the default client cap: past it a request would
   * only queue for a connection, so it is refused instead.
   */
  enter(principal: Principal, client: string, clientPoolSize: number): () => void {
    const clientCap = this.limits.maxConcurrentPerClient || clientPoolSize
    // a key never holds all of a client's raw-SQL capacity (when there is more than one slot), whatever the setting
    const keyCap = principal.kind === 'key' ? Math.min(this.limits.maxConcurrentPerKey || Infinity, Math.max(1, clientCap - 1)) : 0
    const keyId = principal.kind === 'key' ? principal.keyId : undefined
    const keyCount = keyId === undefined ? 0 : this.perKey.get(keyId) ?? 0
    if (keyCap > 0 && keyCount >= keyCap) {
      throw tooMany(`this API key already has ${keyCount} raw SQL ${keyCount === 1 ? 'request' : 'requests'} running; at most ${keyCap} may run at once`)
    }
    const clientCount = this.perClient.get(client) ?? 0
    if (clientCount >= clientCap) {
      throw tooMany(`client "${client}" already has ${clientCount} raw SQL ${clientCount === 1 ? 'request' : 'requests'} running; at most ${clientCap} may run at once`)
    }
    if (keyId !== undefined) this.perKey.set(keyId, keyCount + 1)
    this.perClient.set(client, clientCount + 1)
    let left = false
    return () => {
      if (left) return
      left = true
      if (keyId !== undefined) decrement(this.perKey, keyId)
      decrement(this.perClient, client)
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
