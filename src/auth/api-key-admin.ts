// The admin operations on keys, rights and enforcement: store the change, then tell every process.
import { AppError } from '../errors/app-error.js'
import type { Services } from '../services.js'
import { generateKey } from './api-key-format.js'
import type { ApiKeyRecord, KeyChanges, RightRecord } from './api-key-store.js'
import { validateAllowList } from './ip-policy.js'

function checkChanges(changes: KeyChanges): KeyChanges {
  if (changes.expires_at && Number.isNaN(Date.parse(changes.expires_at))) throw new AppError('invalid_request', 'expires_at must be an ISO-8601 date-time')
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

export async function removeClientEnforcement(services: Services, client: string): Promise<void> {
  if (!(await services.apiKeys.removeClient(client))) throw new AppError('enforcement_override_not_found', `client "${client}" has no enforcement override`)
  await services.auth.changed('config')
}
