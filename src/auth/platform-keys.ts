// Platform keys of the Databases API (pk_live_<public id><secret>): creation for a user (made, with a primary
// team, on first use of an e-mail address), and the checks of a presented key: known, not revoked, its IP list,
// its inactivity expiry, its monthly quota. The secret is stored and compared as gateway keys' are
// (api-key-format.ts: SHA-256, constant-time comparison). Per-minute limits are the caller's (rate-limits.ts).
import { randomBytes, randomUUID } from 'node:crypto'
import type { Catalog } from '../catalog/catalog.js'
import { AppError } from '../errors/app-error.js'
import type { Executor } from '../sources/driver.js'
import { hashSecret, secretMatches } from './api-key-format.js'
import { compileAllowList, ipAllowed, validateAllowList } from './ip-policy.js'
import type { PlatformPrincipal } from './principal.js'

export const PLATFORM_SCOPES = ['databases:read', 'databases:write', 'blueprints:read', 'blueprints:write', 'queries:write', 'webhooks:read', 'webhooks:write'] as const
export type PlatformScope = (typeof PLATFORM_SCOPES)[number]

const PREFIX = 'pk_live_'
const PUBLIC_ID = /^[a-f0-9]{16}$/
const SECRET = /^[a-f0-9]{48}$/
/** last_used_at is written at most this often per key: a key used every request would otherwise write every request */
const TOUCH_EVERY_MS = 60_000

export interface PlatformKeyInput {
  email: string
  name?: string
  user_name?: string
  scopes?: string[]
  requests_per_minute?: number
  monthly_quota?: number | null
  allowed_ip_list?: string[]
  inactive_ttl_days?: number | null
}

export interface PlatformKeyRecord {
  id: string
  public_id: string
  user_id: number
  name: string
  scopes: string[]
  requests_per_minute: number
  monthly_quota: number | null
  allowed_ips: string[]
  inactive_ttl_days: number | null
  last_used_at: string | null
  revoked_at: string | null
  created_at: string
}

interface KeyRow extends PlatformKeyRecord {
  secret_hash: Buffer
  email: string
  user_name: string
  primary_team_id: number
  team_ids: number[]
}

/** what one authenticated request knows of its key (GET /api/v1/me shows it) */
export interface PlatformKeyContext {
  principal: PlatformPrincipal
  key: PlatformKeyRecord
  user: { email: string; name: string }
  /** requests per minute, for the caller's rate limit */
  requestsPerMinute: number
}

/** the public id of a presented pk_live_<public id><secret> key, when it has that shape (never the secret) */
export function platformKeyPublicId(presented: string): string | undefined {
  const publicId = presented.slice(PREFIX.length, PREFIX.length + 16)
  return presented.startsWith(PREFIX) && PUBLIC_ID.test(publicId) ? publicId : undefined
}

/** the text shown in place of the key: its prefix and public id, never the secret */
export const keyPreview = (publicId: string) => `${PREFIX}${publicId}…`

export class PlatformKeys {
  private readonly touched = new Map<string, number>()

  constructor(private readonly catalog: Catalog) {}

  /** creates the key (and its user and primary team on first use of the e-mail); the key text is returned only here */
  async create(input: PlatformKeyInput): Promise<{ key: string; record: PlatformKeyRecord; user: { id: number; email: string; primary_team_id: number } }> {
    const email = input.email.trim()
    const scopes = [...new Set(input.scopes ?? PLATFORM_SCOPES)]
    for (const scope of scopes) {
      if (!(PLATFORM_SCOPES as readonly string[]).includes(scope)) {
        throw new AppError('invalid_request', `scopes: "${scope}" is not a scope`, { hint: `scopes are ${PLATFORM_SCOPES.join(', ')}` })
      }
    }
    const allowedIps = validateAllowList(input.allowed_ip_list ?? [])
    const publicId = randomBytes(8).toString('hex')
    const secret = randomBytes(24).toString('hex')
    return this.catalog.transaction(async (tx) => {
      const user = await findOrCreateUser(tx, email, input.user_name ?? email.split('@')[0]!)
      const res = await tx.query({
        sql: `INSERT INTO atrium.platform_keys (id, public_id, secret_hash, user_id, name, scopes, requests_per_minute, monthly_quota, allowed_ips, inactive_ttl_days)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
              RETURNING id, public_id, user_id, name, scopes, requests_per_minute, monthly_quota, allowed_ips, inactive_ttl_days, last_used_at, revoked_at, created_at`,
        params: [randomUUID(), publicId, hashSecret(secret), user.id, input.name ?? 'default', scopes, input.requests_per_minute ?? 60,
          input.monthly_quota ?? null, allowedIps, input.inactive_ttl_days ?? null],
      })
      return { key: `${PREFIX}${publicId}${secret}`, record: res.rows[0] as unknown as PlatformKeyRecord, user }
    })
  }

  /**
   * The context of a presented key, or the refusal: 401 invalid_api_key (unknown, malformed, revoked), 403
   * ip_not_allowed, 403 inactive_key_expired, 429 monthly_quota_exceeded. Counts the request against the month.
   */
  async authenticate(presented: string, ip: string): Promise<PlatformKeyContext> {
    const publicId = platformKeyPublicId(presented)
    const secret = presented.slice(PREFIX.length + 16)
    if (publicId === undefined || !SECRET.test(secret)) throw invalidKey()
    const row = (await this.catalog.rows<KeyRow>(
      `SELECT k.*, u.email, u.name AS user_name, u.primary_team_id,
              ARRAY(SELECT m.team_id FROM atrium.platform_team_members m WHERE m.user_id = u.id ORDER BY m.team_id) AS team_ids
         FROM atrium.platform_keys k JOIN atrium.platform_users u ON u.id = k.user_id
        WHERE k.public_id = $1`, [publicId]))[0]
    if (!row || row.revoked_at || !secretMatches(secret, row.secret_hash)) throw invalidKey()
    const allowList = compileAllowList(row.allowed_ips)
    if (allowList && !ipAllowed(allowList, ip)) {
      throw new AppError('ip_not_allowed', `this API key may not be used from ${ip}`, { hint: 'the key\'s allowed_ip_list names the addresses it may be used from' })
    }
    if (row.inactive_ttl_days !== null) {
      const lastActive = Date.parse(row.last_used_at ?? row.created_at)
      if (Date.now() - lastActive > row.inactive_ttl_days * 86_400_000) {
        throw new AppError('inactive_key_expired', `this API key expired after ${row.inactive_ttl_days} days without use`, { hint: 'create a new key with POST /admin/platform-keys' })
      }
    }
    await this.countRequest(row)
    this.touch(row.id)
    const teamIds = [row.primary_team_id, ...row.team_ids.map(Number).filter((t) => t !== Number(row.primary_team_id))].map(Number)
    const { secret_hash: _hash, email, user_name, primary_team_id: _primary, team_ids: _teams, ...key } = row
    return {
      principal: {
        kind: 'platform', keyId: row.id, publicId: row.public_id, userId: Number(row.user_id), email,
        teamIds, primaryTeamId: Number(row.primary_team_id), scopes: new Set(row.scopes),
      },
      key: { ...key, user_id: Number(key.user_id) },
      user: { email, name: user_name },
      requestsPerMinute: row.requests_per_minute,
    }
  }

  /** one request against the key's calendar month; over monthly_quota is 429 until the month turns */
  private async countRequest(row: KeyRow): Promise<void> {
    const res = await this.catalog.query({
      sql: `INSERT INTO atrium.platform_key_usage (key_id, month, requests) VALUES ($1, date_trunc('month', now() AT TIME ZONE 'UTC')::date, 1)
            ON CONFLICT (key_id, month) DO UPDATE SET requests = atrium.platform_key_usage.requests + 1
            RETURNING requests, extract(epoch FROM (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month') - (now() AT TIME ZONE 'UTC'))::int AS seconds_left`,
      params: [row.id],
    })
    const { requests, seconds_left: secondsLeft } = res.rows[0] as { requests: string; seconds_left: number }
    if (row.monthly_quota !== null && Number(requests) > row.monthly_quota) {
      throw new AppError('monthly_quota_exceeded', `this API key has used its monthly quota of ${row.monthly_quota} requests`, { retryAfter: Math.max(1, secondsLeft) })
    }
  }

  /** records use (the inactivity expiry counts from it), at most once a minute per key, off the request path */
  private touch(keyId: string): void {
    const now = Date.now()
    if (now - (this.touched.get(keyId) ?? 0) < TOUCH_EVERY_MS) return
    this.touched.set(keyId, now)
    this.catalog.query({ sql: 'UPDATE atrium.platform_keys SET last_used_at = now() WHERE id = $1', params: [keyId] }).catch(() => this.touched.delete(keyId))
  }
}

const invalidKey = () => new AppError('invalid_api_key', 'the API key is not valid', { hint: 'send Authorization: Bearer pk_live_…, as POST /admin/platform-keys returned it' })

/** the user with this e-mail, or a new one with a primary team of their own */
async function findOrCreateUser(tx: Executor, email: string, name: string): Promise<{ id: number; email: string; primary_team_id: number }> {
  // serialises first uses of one address: two creates at once make one user
  await tx.query({ sql: "SELECT pg_advisory_xact_lock(hashtext('atrium.platform_users:' || lower($1)))", params: [email] })
  const found = await tx.query({ sql: 'SELECT id, email, primary_team_id FROM atrium.platform_users WHERE lower(email) = lower($1)', params: [email] })
  if (found.rows[0]) return normalizeUser(found.rows[0])
  const team = await tx.query({ sql: 'INSERT INTO atrium.platform_teams (name) VALUES ($1) RETURNING id', params: [`${name}'s team`] })
  const teamId = team.rows[0]!.id
  const user = await tx.query({ sql: 'INSERT INTO atrium.platform_users (email, name, primary_team_id) VALUES ($1, $2, $3) RETURNING id, email, primary_team_id', params: [email, name, teamId] })
  await tx.query({ sql: 'INSERT INTO atrium.platform_team_members (team_id, user_id) VALUES ($1, $2)', params: [teamId, user.rows[0]!.id] })
  return normalizeUser(user.rows[0]!)
}

// bigint columns arrive as strings
const normalizeUser = (r: Record<string, unknown>) => ({ id: Number(r.id), email: String(r.email), primary_team_id: Number(r.primary_team_id) })
