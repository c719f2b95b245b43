// The admin operations on keys, rights and enforcement: store the change, then tell every process.
import { AppError } from '../errors/app-error.js'
import { generateKey } from './api-key-format.js'
import type { ApiKeyRecord, KeyChanges, RightRecord } from './api-key-store.js'
import { validateAllowList } from './ip-policy.js'
import type { Config } from '../config/schema.js'
import type { ApiKeyStore } from './api-key-store.js'
import type { KeyAuthenticator } from './key-authenticator.js'

// RFC 3339 date-time with an offset, or a plain date (midnight UTC). Checked here rather than by the
// catalog, because JavaScript and PostgreSQL both accept (and silently roll over) far more than this.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2}))?$/

/** the expiry as an ISO string, or a 400 naming the accepted forms */
/** what this module needs, passed in from boot.ts */
export interface ApiKeyAdminDeps {
  apiKeys: ApiKeyStore
  /** told of every change, so this and every other process drop what they cached */
  auth: KeyAuthenticator
  config: Pick<Config, 'security'>
}

export function parseExpiry(text: string): string {
  const m = DATE_TIME.exec(text.trim())
  const bad = () => new AppError('invalid_request', `expires_at: "${text}" is not a date-time`, { hint: 'use RFC 3339, e.g. 2030-01-31T00:00:00Z, or a date such as 2030-01-31' })
  if (!m) throw bad()
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = m
  const asUtc = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s))
  // the fields must survive a round trip: 2030-02-30 or 25:00 are refused, not rolled over
  if (+y < 1970 || asUtc.getUTCMonth() !== +mo - 1 || asUtc.getUTCDate() !== +d || asUtc.getUTCHours() !== +h || asUtc.getUTCMinutes() !== +mi) throw bad()
  if (m[4] === undefined) return `${y}-${mo}-${d}T00:00:00.000Z`
  const at = new Date(text.trim().replace(/^(.{10})[Tt ]/, '$1T').replace(/z$/, 'Z'))
  if (Number.isNaN(at.getTime())) throw bad() // an offset such as +99:00
  return at.toISOString()
}

function checkChanges(changes: KeyChanges): KeyChanges {
  if (typeof changes.expires_at === 'string') changes.expires_at = parseExpiry(changes.expires_at)
  if (changes.allowed_ips) changes.allowed_ips = validateAllowList(changes.allowed_ips)
  if (changes.rights) changes.rights = [...new Set(changes.rights)]
  return changes
}

/** the full key is in the answer of this call only; the catalog keeps its hash */
export async function createApiKey(deps: ApiKeyAdminDeps, input: KeyChanges & { name: string }): Promise<{ api_key: string; record: ApiKeyRecord }> {
  const { key, publicId, secretHash } = generateKey()
  const record = await deps.apiKeys.create({ ...checkChanges({ ...input }), name: input.name, publicId, secretHash })
  return { api_key: key, record }
}

export async function updateApiKey(deps: ApiKeyAdminDeps, id: string, changes: KeyChanges): Promise<ApiKeyRecord> {
  const record = await deps.apiKeys.update(id, checkChanges({ ...changes }))
  if (!record) throw new AppError('api_key_not_found', `no API key with id "${id}"`)
  await deps.auth.changed({ publicId: record.public_id })
  return record
}

export async function deleteApiKey(deps: ApiKeyAdminDeps, id: string): Promise<string> {
  const removed = await deps.apiKeys.remove(id)
  if (!removed) throw new AppError('api_key_not_found', `no API key with id "${id}"`)
  await deps.auth.changed({ publicId: removed.public_id })
  return removed.id
}

export async function listApiKeys(deps: ApiKeyAdminDeps): Promise<ApiKeyRecord[]> {
  return deps.apiKeys.list()
}

export function listRights(deps: ApiKeyAdminDeps): Promise<RightRecord[]> {
  return deps.apiKeys.listRights()
}

export function createRight(deps: ApiKeyAdminDeps, name: string, description: string | null): Promise<RightRecord> {
  return deps.apiKeys.createRight(name, description)
}

export async function updateRight(deps: ApiKeyAdminDeps, id: string, name: string, description: string | null): Promise<RightRecord> {
  const right = await deps.apiKeys.updateRight(id, name, description)
  if (!right) throw new AppError('right_not_found', `no right with id "${id}"`)
  // keys holding a renamed right were rewritten in the catalog; cached copies must go
  await deps.auth.changed('keys')
  return right
}

export async function deleteRight(deps: ApiKeyAdminDeps, id: string): Promise<string> {
  const removed = await deps.apiKeys.removeRight(id)
  if (!removed) throw new AppError('right_not_found', `no right with id "${id}"`)
  await deps.auth.changed('keys')
  return removed.id
}

export async function enforcementConfig(deps: ApiKeyAdminDeps) {
  const { global, clients } = await deps.apiKeys.enforcement()
  return { global: global ?? { enforce_api_keys: deps.config.security.enforceApiKeys, updated_at: new Date().toISOString() }, clients }
}

export async function setGlobalEnforcement(deps: ApiKeyAdminDeps, enforce: boolean) {
  await deps.apiKeys.setGlobal(enforce)
  await deps.auth.changed('config')
  return enforcementConfig(deps)
}

export async function setClientEnforcement(deps: ApiKeyAdminDeps, client: string, enforce: boolean) {
  const row = await deps.apiKeys.setClient(client, enforce)
  await deps.auth.changed('config')
  return row
}

/** removes a client's override (client names are case-insensitive); returns the name it was stored under */
export async function removeClientEnforcement(deps: ApiKeyAdminDeps, client: string): Promise<string> {
  if (!(await deps.apiKeys.removeClient(client))) throw new AppError('enforcement_override_not_found', `client "${client}" has no enforcement override`)
  await deps.auth.changed('config')
  return client.toLowerCase()
}
