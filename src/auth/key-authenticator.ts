// Turns a presented API key into a principal: format, secret (constant time), active, expiry, client binding,
// IP allow list and lock-in — from a short-lived in-memory cache of the catalog's records, so the hot path
// does not ask the catalog on every request. Also holds the key-enforcement switches.
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import { AppError } from '../errors/app-error.js'
import { secretMatches, splitKey, wellFormed, type ParsedKey } from './api-key-format.js'
import type { ApiKeyRow, ApiKeyStore } from './api-key-store.js'
import { compileAllowList, ipAllowed } from './ip-policy.js'
import type { KeyPrincipal } from './principal.js'

export const KEYS_CHANNEL = 'atrium_keys'
const LAST_USED_FLUSH_MS = 5_000
/**
 * Presented public ids the catalog does not know are remembered too (so one bad key repeated does not
 * cost a catalog query each time), but in a separate, bounded map: a flood of random keys must neither
 * grow memory without limit nor push real keys (and their fail-open state) out of the cache.
 */
const MAX_UNKNOWN_KEYS = 1_024

export interface KeyContext {
  /** the client the request is for (a registered client's name), when the route has one */
  client?: string
  /** the caller's address (X-Forwarded-For only from trusted proxies) */
  ip: string
  /** false: check the key but do not lock a lock-in key to this request (the request is about to fail) */
  bind?: boolean
}

/** client names are case-insensitive everywhere (X-Athena-Client, bindings, overrides) */
const sameClient = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

interface CacheEntry {
  row: ApiKeyRow | null
  /** when the catalog was last asked */
  checkedAt: number
  /** when the secret last matched (fail-open window) */
  validatedAt?: number
  allowList?: ReturnType<typeof compileAllowList>
  /** built once per catalog read, not per request */
  principal?: KeyPrincipal
}

export class KeyAuthenticator {
  /** keys the catalog holds; bounded by the number of keys in the catalog */
  private readonly cache = new Map<string, CacheEntry>()
  /** presented public ids the catalog does not hold, oldest first */
  private readonly unknown = new Map<string, number>()
  /** public id → when it was last used (ms), written to the catalog every few seconds */
  private readonly lastUsed = new Map<string, number>()
  private globalEnforce: boolean
  private readonly clientEnforce = new Map<string, boolean>()
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly store: ApiKeyStore,
    private readonly catalog: Catalog,
    private readonly security: Config['security'],
    private readonly logger: Logger,
  ) {
    this.globalEnforce = security.enforceApiKeys
  }

  async start(): Promise<void> {
    await this.store.seedGlobal(this.security.enforceApiKeys)
    await this.reloadEnforcement()
    // another process changed a key or the switches: forget what we cached
    await this.catalog.listen(KEYS_CHANNEL, (payload) => {
      if (payload.startsWith('key:')) this.forget(payload.slice(4))
      else if (payload === 'keys') this.forgetAll()
      else if (payload === 'config') void this.reloadEnforcement().catch(() => {})
    })
    this.catalog.onListenerReconnect(() => {
      this.forgetAll()
      void this.reloadEnforcement().catch(() => {})
    })
    this.timer = setInterval(() => void this.flushLastUsed(), LAST_USED_FLUSH_MS)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.flushLastUsed()
  }

  /** is a key required on this client? per-client override, else the global switch */
  enforced(client: string | undefined): boolean {
    if (client === undefined || this.clientEnforce.size === 0) return this.globalEnforce
    return this.clientEnforce.get(client.toLowerCase()) ?? this.globalEnforce
  }

  /** false when every client must present a key, so a request without one can be refused before its body */
  mayBeUnenforced(): boolean {
    return !this.globalEnforce || [...this.clientEnforce.values()].some((v) => !v)
  }

  async reloadEnforcement(): Promise<void> {
    const { global, clients } = await this.store.enforcement()
    this.globalEnforce = global?.enforce_api_keys ?? this.security.enforceApiKeys
    this.clientEnforce.clear()
    for (const c of clients) this.clientEnforce.set(c.client_name.toLowerCase(), c.enforce_api_keys)
  }

  /** tells this and every other process sharing the catalog that a key (or the switches) changed */
  async changed(what: { publicId: string } | 'keys' | 'config'): Promise<void> {
    if (what === 'config') await this.reloadEnforcement()
    else if (what === 'keys') this.forgetAll()
    else this.forget(what.publicId)
    await this.catalog.notify(KEYS_CHANNEL, typeof what === 'string' ? what : `key:${what.publicId}`).catch(() => {})
  }

  /**
   * The principal of a presented key, or an error saying why it is refused. Answered from memory, without a
   * promise, on every request but the first within the cache TTL; a promise only when the catalog must be
   * asked or a lock-in key bound. Callers await it either way; a refusal may be thrown rather than rejected.
   */
  authenticate(presented: string, ctx: KeyContext): KeyPrincipal | Promise<KeyPrincipal> {
    const parsed = splitKey(presented)
    if (!parsed) throw malformedKey()
    // public ids in memory came from the catalog, so only an id not found there has its characters checked
    const entry = this.remembered(parsed.publicId)
    if (entry) return this.admit(entry, parsed, ctx)
    if (!wellFormed(parsed)) throw malformedKey()
    return this.lookup(parsed.publicId).then((found) => this.admit(found, parsed, ctx))
  }

  private admit(entry: CacheEntry, key: ParsedKey, ctx: KeyContext): KeyPrincipal | Promise<KeyPrincipal> {
    const row = entry.row
    // unknown key and wrong secret answer the same, so the public id cannot be probed
    if (!row || !secretMatches(key.secret, row.secret_hash)) throw wellFormed(key) ? new AppError('invalid_api_key', 'the presented API key is not valid') : malformedKey()
    entry.validatedAt = Date.now()
    if (!row.is_active) throw new AppError('inactive_api_key', 'this API key has been deactivated')
    if (row.expires_at && Date.parse(row.expires_at) <= Date.now()) throw new AppError('expired_api_key', `this API key expired at ${row.expires_at}`)
    if (row.client_name && ctx.client !== undefined && !sameClient(ctx.client, row.client_name)) {
      throw new AppError('client_not_allowed', `this API key is bound to client "${row.client_name}" and cannot be used for "${ctx.client}"`)
    }
    if (entry.allowList && !ipAllowed(entry.allowList, ctx.ip)) {
      throw new AppError('ip_not_allowed', `requests from ${ctx.ip} are not allowed for this API key`)
    }
    if (row.lock_in && (ctx.bind ?? true) && this.unbound(row, ctx)) return this.bindLockIn(row, ctx).then(() => this.principalOf(entry, row, ctx))
    return this.principalOf(entry, row, ctx)
  }

  /** the last checks of an admitted key (lock-in), its last use, and its principal (built once per catalog read) */
  private principalOf(entry: CacheEntry, row: ApiKeyRow, ctx: KeyContext): KeyPrincipal {
    if (row.lock_in) this.checkLockIn(row, ctx)
    this.lastUsed.set(row.public_id, Date.now())
    entry.principal ??= Object.freeze({
      kind: 'key',
      keyId: row.id,
      publicId: row.public_id,
      name: row.name,
      clientName: row.client_name,
      rights: new Set(row.rights),
      rateLimit: row.rate_limit,
    })
    return entry.principal
  }

  private forget(publicId: string): void {
    this.cache.delete(publicId)
    this.unknown.delete(publicId)
  }

  private forgetAll(): void {
    this.cache.clear()
    this.unknown.clear()
  }

  /** what the catalog said about a public id less than the cache TTL ago, if anything */
  private remembered(publicId: string): CacheEntry | undefined {
    const ttl = this.security.keyCacheTtlMs
    const cached = this.cache.get(publicId)
    if (cached && Date.now() - cached.checkedAt < ttl) return cached
    const missedAt = this.unknown.get(publicId)
    if (missedAt !== undefined && Date.now() - missedAt < ttl) return { row: null, checkedAt: missedAt }
    return undefined
  }

  /** asks the catalog (or, while it is down, a recently validated key from memory when allowed) */
  private async lookup(publicId: string): Promise<CacheEntry> {
    const cached = this.cache.get(publicId)
    let row: ApiKeyRow | undefined
    try {
      row = await this.store.findByPublicId(publicId)
    } catch (err) {
      // fail closed, unless the operator allowed recently validated keys to keep working
      const window = this.security.failOpenMinutes * 60_000
      if (cached?.validatedAt && window > 0 && Date.now() - cached.validatedAt < window) {
        this.logger.warn({ publicId }, 'catalog unavailable; accepting a recently validated API key from memory')
        return cached
      }
      throw err instanceof AppError && err.code === 'catalog_unavailable'
        ? new AppError('catalog_unavailable', 'API keys cannot be checked right now: the catalog is unavailable', { retryAfter: 5 })
        : err
    }
    if (!row) {
      this.cache.delete(publicId)
      this.unknown.delete(publicId)
      this.unknown.set(publicId, Date.now())
      if (this.unknown.size > MAX_UNKNOWN_KEYS) this.unknown.delete(this.unknown.keys().next().value!)
      return { row: null, checkedAt: Date.now() }
    }
    this.unknown.delete(publicId)
    const entry: CacheEntry = { row, checkedAt: Date.now(), validatedAt: cached?.validatedAt, allowList: compileAllowList(row.allowed_ips) }
    this.cache.set(publicId, entry)
    return entry
  }

  /**
   * A lock-in key binds itself on first use to the client (and, with security.lockInSourceAddress, the address)
   * it was used from; from then on any other client or address is refused.
   */
  private unbound(row: ApiKeyRow, ctx: KeyContext): boolean {
    return (ctx.client !== undefined && row.locked_client === null) || (this.security.lockInSourceAddress && row.locked_address === null)
  }

  private async bindLockIn(row: ApiKeyRow, ctx: KeyContext): Promise<void> {
    const wantAddress = this.security.lockInSourceAddress
    const locked = await this.store.lockIn(row.public_id, ctx.client ?? null, wantAddress ? ctx.ip : null)
    row.locked_client = locked.locked_client
    row.locked_address = locked.locked_address
    await this.catalog.notify(KEYS_CHANNEL, `key:${row.public_id}`).catch(() => {})
  }

  private checkLockIn(row: ApiKeyRow, ctx: KeyContext): void {
    if (row.locked_client !== null && ctx.client !== undefined && !sameClient(ctx.client, row.locked_client)) {
      throw new AppError('key_locked_in', `this API key is locked in to client "${row.locked_client}"`)
    }
    if (this.security.lockInSourceAddress && row.locked_address !== null && ctx.ip !== row.locked_address) {
      throw new AppError('key_locked_in', 'this API key is locked in to the address it was first used from')
    }
  }

  /** writes the batched last_used_at times now (they are also written every few seconds) */
  async flushLastUsed(): Promise<void> {
    if (!this.lastUsed.size) return
    const batch = new Map(this.lastUsed)
    this.lastUsed.clear()
    try {
      await this.store.touch(batch)
    } catch (err) {
      // lost last_used_at updates are not worth retrying forever; the next use records it again
      this.logger.warn({ err: (err as Error).message }, 'could not record API key last use')
    }
  }
}

const malformedKey = () => new AppError('invalid_api_key', 'the presented key is not a valid API key', { hint: 'API keys look like ath_<public id>.<secret>' })
