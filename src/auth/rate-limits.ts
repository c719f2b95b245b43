// Inbound rate limits (per API key, per client, per IP) and outbound limits (per upstream host), on
// rate-limiter-flexible: in memory by default, shared by every process through Redis when REDIS_URL is set.
import { createRequire } from 'node:module'
import type { Redis } from 'ioredis'
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Logger } from 'pino'
import type { Config } from '../config/schema.js'
import { AppError } from '../errors/app-error.js'
import type { Principal } from './principal.js'

type Scope = 'key' | 'user' | 'client' | 'ip' | 'outbound' | 'public' | 'platform_key' | 'agent' | 'agent_concurrency'

/**
 * What a check returns: nothing when the request is allowed without waiting (the limit is off), otherwise a
 * promise that settles with the decision. Access control runs on every request; with no limit configured it
 * then costs no promise at all.
 */
export type Check = Promise<void> | undefined

const allowed = () => {}

/**
 * Each limit allows `points` requests per window, plus a burst of as many again spread over ten windows
 * (BurstyRateLimiter): a sustained rate with room for short bursts, as a token bucket gives.
 */
class ScopedLimiter {
  private readonly byPoints = new Map<number, BurstyRateLimiter | RateLimiterAbstract>()

  constructor(
    private readonly make: (points: number, duration: number, prefix: string) => RateLimiterAbstract,
    private readonly prefix: string,
    private readonly scope: Scope,
    private readonly windowSeconds: number,
    private readonly onLimited: (scope: string) => void,
    /** false: exactly `points` per window, no burst on top (a documented per-minute quota) */
    private readonly burst = true,
  ) {}

  private limiter(points: number): BurstyRateLimiter | RateLimiterAbstract {
    let limiter = this.byPoints.get(points)
    if (!limiter) {
      limiter = !this.burst ? this.make(points, this.windowSeconds, `${this.prefix}:${this.scope}:${points}`) : new BurstyRateLimiter(
        this.make(points, this.windowSeconds, `${this.prefix}:${this.scope}:${points}`),
        this.make(points, this.windowSeconds * 10, `${this.prefix}:${this.scope}:${points}:burst`),
      )
      this.byPoints.set(points, limiter)
    }
    return limiter
  }

  /**
   * resolves when allowed; rejects with 429 rate_limited and the seconds to wait. A plain promise chain, not
   * an async function: this runs up to three times on every request.
   */
  consume(key: string, points: number, what: string): Check {
    if (points <= 0) return undefined
    return this.limiter(points).consume(key).then(allowed, (err: unknown) => {
      if (!(err instanceof RateLimiterRes)) throw err
      this.onLimited(this.scope)
      const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000))
      throw new AppError('rate_limited', `rate limit reached for ${what}: ${points} requests per ${this.windowSeconds} s`, { retryAfter, data: { scope: this.scope } })
    })
  }
}

export class RateLimits {
  private readonly redis: Redis | undefined
  private readonly key: ScopedLimiter
  /** session users (JWT sub), with the per-key limit */
  private readonly user: ScopedLimiter
  private readonly client: ScopedLimiter
  private readonly ip: ScopedLimiter
  private readonly outbound: ScopedLimiter
  /** callers of public routes, per address and route */
  private readonly publicRoutes: ScopedLimiter
  /** platform keys (pk_live_…): their own requests_per_minute, a one-minute window without burst */
  private readonly platformKey: ScopedLimiter
  /** Workspace agents: their calls per second, per minute and per hour, exact windows without burst */
  private readonly agentWindows: ScopedLimiter[]
  /** Workspace agents' calls running at once: a slot is a point taken, given back when the call ends */
  private readonly agentSlots = new Map<number, RateLimiterAbstract>()
  private readonly make: (points: number, duration: number, keyPrefix: string) => RateLimiterAbstract

  constructor(private readonly config: Config['rateLimits'], redisUrl: string | undefined, logger: Logger, onLimited: (scope: string) => void) {
    if (redisUrl) {
      // ioredis loads only when Redis is configured (it costs start-up time otherwise)
      const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis')
      this.redis = new RedisClient(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false })
      this.redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error (rate limits fall back to this process)'))
    }
    const make = this.make = (points: number, duration: number, keyPrefix: string): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ points, duration, keyPrefix })
      // while Redis is unreachable, each process keeps limiting on its own rather than not at all
      return this.redis ? new RateLimiterRedis({ storeClient: this.redis, points, duration, keyPrefix, insuranceLimiter: memory }) : memory
    }
    const window = config.windowSeconds
    // the prefix separates deployments (or test runs) that share one Redis
    const prefix = config.keyPrefix
    this.key = new ScopedLimiter(make, prefix, 'key', window, onLimited)
    this.user = new ScopedLimiter(make, prefix, 'user', window, onLimited)
    this.client = new ScopedLimiter(make, prefix, 'client', window, onLimited)
    this.ip = new ScopedLimiter(make, prefix, 'ip', window, onLimited)
    this.outbound = new ScopedLimiter(make, prefix, 'outbound', window, onLimited)
    this.publicRoutes = new ScopedLimiter(make, prefix, 'public', window, onLimited)
    this.platformKey = new ScopedLimiter(make, prefix, 'platform_key', 60, onLimited, false)
    this.agentWindows = [1, 60, 3600].map((seconds) => new ScopedLimiter(make, `${prefix}:${seconds}`, 'agent', seconds, onLimited, false))
    this.onLimited = onLimited
  }

  private readonly onLimited: (scope: string) => void

  /** a call to Workspace agent `agentId` under its per-second, per-minute and per-hour limits (0 = unlimited) */
  async checkAgent(agentId: string, limits: { perSecond: number; perMinute: number; perHour: number }): Promise<void> {
    const points = [limits.perSecond, limits.perMinute, limits.perHour]
    // one window after the other: a call refused by the first does not use up the longer windows
    for (const [i, limiter] of this.agentWindows.entries()) await limiter.consume(agentId, points[i]!, 'this agent')
  }

  /**
   * A slot among the agent's `max` concurrent calls, or 429. The slot is given back by the returned release;
   * one a crashed process never gives back expires after `holdSeconds` (the longest a call may last).
   */
  async acquireAgentSlot(agentId: string, max: number, holdSeconds: number): Promise<() => void> {
    if (max <= 0) return () => {}
    let limiter = this.agentSlots.get(max)
    if (!limiter) {
      limiter = this.make(max, holdSeconds, `${this.config.keyPrefix}:agent_concurrency:${max}`)
      this.agentSlots.set(max, limiter)
    }
    try {
      await limiter.consume(agentId)
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err
      // a refused consume still counted its point: give it back, or every refusal would hold a slot
      await limiter.reward(agentId, 1).catch(() => {})
      this.onLimited('agent_concurrency')
      throw new AppError('rate_limited', `this agent already has ${max} calls running (its concurrency limit)`, { retryAfter: 1, data: { scope: 'agent_concurrency' } })
    }
    let released = false
    return () => {
      if (released) return
      released = true
      limiter.reward(agentId, 1).catch(() => {})
    }
  }

  /** a platform key's requests_per_minute: 429 rate_limited with Retry-After once they are used up */
  checkPlatformKey(publicId: string, perMinute: number): Check {
    return this.platformKey.consume(publicId, perMinute, 'this API key')
  }

  /**
   * The per-address limit, checked before the key is looked at: requests with bad keys count too, so one
   * address cannot hammer key checks (or guess keys) faster than its limit. The admin key is not limited.
   */
  checkAddress(ip: string): Check {
    return this.ip.consume(ip, this.config.perIp, 'this address')
  }

  /** the per-key (or the key's own rate_limit) or per-user, and per-client limits, once the caller is known */
  checkCaller(principal: Principal, client: string | undefined): Check {
    if (principal.kind === 'admin') return undefined
    const byKey = principal.kind === 'key' ? this.key.consume(principal.publicId, principal.rateLimit ?? this.config.perKey, 'this API key')
      : principal.kind === 'user' ? this.user.consume(principal.sub, this.config.perKey, 'this user')
      : undefined
    if (!client) return byKey
    // the client's limit is charged only once the key's has passed
    return byKey ? byKey.then(() => this.checkClient(client)) : this.checkClient(client)
  }

  private checkClient(client: string): Check {
    return this.client.consume(client.toLowerCase(), this.config.perClient, `client "${client}"`)
  }

  /** a call of public route `route` from `ip`, `points` per window (rateLimits.publicPerIp or the route's own) */
  async checkPublic(ip: string, route: string, points: number): Promise<void> {
    await this.publicRoutes.consume(`${route}|${ip}`, points, 'this address on this public route')
  }

  /** waits for nothing: an upstream call over its host's limit is refused with 429 */
  async acquireOutbound(host: string): Promise<void> {
    await this.outbound.consume(host.toLowerCase(), this.config.outboundPerHost, `calls to ${host}`)
  }

  async close(): Promise<void> {
    this.redis?.disconnect()
  }
}
