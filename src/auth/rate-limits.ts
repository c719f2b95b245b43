// Inbound rate limits (per API key, per client, per IP) and outbound limits (per upstream host), on
// rate-limiter-flexible: in memory by default, shared by every process through Redis when REDIS_URL is set.
import { createRequire } from 'node:module'
import type { Redis } from 'ioredis'
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Logger } from 'pino'
import type { Config } from '../config/schema.js'
import { AppError } from '../errors/app-error.js'
import type { Principal } from './principal.js'

type Scope = 'key' | 'client' | 'ip' | 'outbound'

/**
 * Each limit allows `points` requests per window, plus a burst of as many again spread over ten windows
 * (BurstyRateLimiter): a sustained rate with room for short bursts, as a token bucket gives.
 */
class ScopedLimiter {
  private readonly byPoints = new Map<number, BurstyRateLimiter>()

  constructor(
    private readonly make: (points: number, duration: number, prefix: string) => RateLimiterAbstract,
    private readonly prefix: string,
    private readonly scope: Scope,
    private readonly windowSeconds: number,
  ) {}

  private limiter(points: number): BurstyRateLimiter {
    let limiter = this.byPoints.get(points)
    if (!limiter) {
      limiter = new BurstyRateLimiter(
        this.make(points, this.windowSeconds, `${this.prefix}:${this.scope}:${points}`),
        this.make(points, this.windowSeconds * 10, `${this.prefix}:${this.scope}:${points}:burst`),
      )
      this.byPoints.set(points, limiter)
    }
    return limiter
  }

  /** resolves when allowed; throws 429 rate_limited with the seconds to wait */
  async consume(key: string, points: number, what: string): Promise<void> {
    if (points <= 0) return
    try {
      await this.limiter(points).consume(key)
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000))
        throw new AppError('rate_limited', `rate limit reached for ${what}: ${points} requests per ${this.windowSeconds} s`, { retryAfter, data: { scope: this.scope } })
      }
      throw err
    }
  }
}

export class RateLimits {
  private readonly redis: Redis | undefined
  private readonly key: ScopedLimiter
  private readonly client: ScopedLimiter
  private readonly ip: ScopedLimiter
  private readonly outbound: ScopedLimiter

  constructor(private readonly config: Config['rateLimits'], redisUrl: string | undefined, logger: Logger, private readonly onLimited: (scope: string) => void) {
    if (redisUrl) {
      // ioredis loads only when Redis is configured (it costs start-up time otherwise)
      const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis')
      this.redis = new RedisClient(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false })
      this.redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error (rate limits fall back to this process)'))
    }
    const make = (points: number, duration: number, keyPrefix: string): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ points, duration, keyPrefix })
      // while Redis is unreachable, each process keeps limiting on its own rather than not at all
      return this.redis ? new RateLimiterRedis({ storeClient: this.redis, points, duration, keyPrefix, insuranceLimiter: memory }) : memory
    }
    const window = config.windowSeconds
    // the prefix separates deployments (or test runs) that share one Redis
    const prefix = config.keyPrefix
    this.key = new ScopedLimiter(make, prefix, 'key', window)
    this.client = new ScopedLimiter(make, prefix, 'client', window)
    this.ip = new ScopedLimiter(make, prefix, 'ip', window)
    this.outbound = new ScopedLimiter(make, prefix, 'outbound', window)
  }

  /**
   * The per-address limit, checked before the key is looked at: requests with bad keys count too, so one
   * address cannot hammer key checks (or guess keys) faster than its limit. The admin key is not limited.
   */
  async checkAddress(ip: string): Promise<void> {
    await this.counted(() => this.ip.consume(ip, this.config.perIp, 'this address'))
  }

  /** the per-key (or the key's own rate_limit) and per-client limits, once the caller is known */
  async checkCaller(principal: Principal, client: string | undefined): Promise<void> {
    if (principal.kind === 'admin') return
    await this.counted(async () => {
      if (principal.kind === 'key') await this.key.consume(principal.publicId, principal.rateLimit ?? this.config.perKey, 'this API key')
      if (client) await this.client.consume(client.toLowerCase(), this.config.perClient, `client "${client}"`)
    })
  }

  private async counted(check: () => Promise<void>): Promise<void> {
    try {
      await check()
    } catch (err) {
      if (err instanceof AppError && err.code === 'rate_limited') this.onLimited(String(err.extra.data?.scope))
      throw err
    }
  }

  /** waits for nothing: an upstream call over its host's limit is refused with 429 */
  async acquireOutbound(host: string): Promise<void> {
    await this.counted(() => this.outbound.consume(host.toLowerCase(), this.config.outboundPerHost, `calls to ${host}`))
  }

  async close(): Promise<void> {
    this.redis?.disconnect()
  }
}
