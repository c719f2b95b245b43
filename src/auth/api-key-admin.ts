// The admin operations on keys, rights and enforcement: store the change, then tell every process.
import { AppError } from '../errors/app-error.js'
import type { Services } from '../services.js'
import { generateKey } from './api-key-format.js'
import type { ApiKeyRecord, KeyChanges, RightRecord } from './api-key-store.js'
import { validateAllowList } from './ip-policy.js'

// RFC 3339 date-time with an offset, or a plain date (midnight UTC). Checked here rather than by the
// catalog, because JavaScript and PostgreSQL both accept (and silently roll over) far more than this.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2}))?$/

/** the expiry as an ISO string, or a 400 naming the accepted forms */
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
export async function createApiKey(services: Services, input: KeyChanges & { name: string }): Promise<{ api_key: string; record: ApiKeyRecord }> {
  const { key, publicId, secretHash } = generateKey()
  const record = await services.apiKeys.create({ ...checkChanges({ ...input }), name: input.name, publicId, secretHash })
  return { api_key: key, record }
}

export async function updateApiKey(services: Services, id: string, changes: KeyChanges): Promise<ApiKeyRecord> {
  const record = await services.apiKeys.update(id, checkChanges({ ...changes }))
  if (!record) throw new AppError('api_key_not_found', `no API key with id "${id}"`)
  await services.auth.changed({ publicId: record.public_id })
  return record
}

export async function deleteApiKey(services: Services, id: string): Promise<string> {
  const removed = await services.apiKeys.remove(id)
  if (!removed) throw new AppError('api_key_not_found', `no API key with id "${id}"`)
  await services.auth.changed({ publicId: removed.public_id })
  return removed.id
}

export async function listApiKeys(services: Services): Promise<ApiKeyRecord[]> {
  return services.apiKeys.list()
}

export function listRights(services: Services): Promise<RightRecord[]> {
  return services.apiKeys.listRights()
}

export function createRight(services: Services, name: string, description: string | null): Promise<RightRecord> {
  return services.apiKeys.createRight(name, description)
}

export async function updateRight(services: Services, id: string, name: string, description: string | null): Promise<RightRecord> {
  const right = await services.apiKeys.updateRight(id, name, description)
  if (!right) throw new AppError('right_not_found', `no right with id "${id}"`)
  // keys holding a renamed right were rewritten in the catalog; cached copies must go
  await services.auth.changed('keys')
  return right
}

export async function deleteRight(services: Services, id: string): Promise<string> {
  const removed = await services.apiKeys.removeRight(id)
  if (!removed) throw new AppError('right_not_found', `no right with id "${id}"`)
  await services.auth.changed('keys')
  return removed.id
}

export async function enforcementConfig(services: Services) {
  const { global, clients } = await services.apiKeys.enforcement()
  return { global: global ?? { enforce_api_keys: services.config.security.enforceApiKeys, updated_at: new Date().toISOString() }, clients }
}

export async function setGlobalEnforcement(services: Services, enforce: boolean) {
  await services.apiKeys.setGlobal(enforce)
  await services.auth.changed('config')
  return enforcementConfig(services)
}

export async function setClientEnforcement(services: Services, client: string, enforce: boolean) {
  const row = await services.apiKeys.setClient(client, enforce)
  await services.auth.changed('config')
  return row
}

/** removes a client's override (client names are case-insensitive); returns the name it was stored under */
export async function removeClientEnforcement(services: Services, client: string): Promise<string> {
  if (!(await services.apiKeys.removeClient(client))) throw new AppError('enforcement_override_not_found', `client "${client}" has no enforcement override`)
  await services.auth.changed('config')
  return client.toLowerCase()
}
