// Catalog clients through the admin API: validate, write atrium.clients in one transaction with its NOTIFY,
// apply to this process's registry at once, and shape records with masked connection strings.
import { maskUrl, seal } from '../auth/secret-box.js'
import {
  findLiveClient, insertClient, listLiveClients, softDeleteClient, updateClient,
  type ClientChanges, type ClientRecord,
} from './clients-store.js'
import { AppError } from '../errors/app-error.js'
import type { Executor } from '../sources/driver.js'
import { isCatalogDatabase } from '../sources/is-catalog-database.js'
import type { Catalog } from '../catalog/catalog.js'
import type { SourceRegistry } from '../sources/registry.js'
import type { RegistrySync } from './registry-sync.js'

/** what this module needs, passed in from boot.ts */
export interface ClientsDeps {
  catalog: Catalog
  registry: SourceRegistry
  clientSync: RegistrySync
  /** seals connection strings stored in the catalog */
  secretKey: Buffer
}

export interface ClientInput {
  client_name?: string
  description?: string | null
  pg_uri?: string | null
  pg_uri_env_var?: string | null
  is_active?: boolean
}

export interface ClientView {
  id: string
  client_name: string
  description: string | null
  pg_uri: string | null
  pg_uri_env_var: string | null
  config_uri_template: string | null
  source: string
  is_active: boolean
  is_frozen: boolean
  /** private: an Assistant connection, served only to its owner through /api */
  visibility: 'shared' | 'private'
  last_synced_from_config_at: string | null
  last_seen_at: string | null
  metadata: Record<string, unknown>
  created_at: string
  updated_at: string
  deleted_at: string | null
}

export interface RuntimeClientView {
  client_name: string
  source: string
  description: string | null
  pg_uri: string | null
  pg_uri_env_var: string | null
  config_uri_template: string | null
  is_active: boolean
  is_frozen: boolean
  visibility: 'shared' | 'private'
  pool_connected: boolean
  /** null until the database could be asked */
  superuser: boolean | null
  warnings: string[]
}

const CLIENT_NAME = /^[a-z0-9_][a-z0-9_-]{0,62}$/
const ENV_VAR = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/
const URL_SCHEMES = ['postgres:', 'postgresql:', 'mysql:', 'mariadb:']

export function assertClientName(name: unknown): string {
  if (typeof name !== 'string' || !CLIENT_NAME.test(name)) {
    throw new AppError('invalid_request', 'client_name must be 1-63 characters of lower-case letters, digits, "_" or "-", starting with a letter, digit or "_"')
  }
  return name
}

/** checks a connection URL without ever echoing it (it may hold a password) */
export function assertConnectionUrl(deps: ClientsDeps, url: string, what: string): void {
  let parsed: URL | undefined
  try {
    parsed = url.length <= 4096 ? new URL(url) : undefined
  } catch {
    parsed = undefined
  }
  if (!parsed || !URL_SCHEMES.includes(parsed.protocol) || !parsed.hostname) {
    throw new AppError('invalid_request', `${what} must be a postgres://, postgresql://, mysql:// or mariadb:// URL with a host`)
  }
  // A client on the catalog would hand its keys, clients and request log to anyone holding sql.read.
  if (isCatalogDatabase(url, deps.catalog.url)) {
    throw new AppError('client_is_catalog', `${what} names Atrium's catalog database, which can never be a client`, {
      hint: 'create a database of its own for the client (and a role that owns it) and point the client there',
    })
  }
}

/** config, env and embedded sources belong to the process configuration, not to the catalog */
function assertCatalogOwned(deps: ClientsDeps, name: string): void {
  const source = deps.registry.get(name)
  if (source && source.origin !== 'catalog') {
    throw new AppError('read_only_client', `client "${name}" is defined in ${source.origin === 'embedded' ? 'Atrium itself (the embedded default)' : 'configuration'} and is read-only through /admin/clients`, {
      hint: 'change it in atrium.yaml or the ATRIUM_CLIENT_<NAME> variable and restart',
      data: { client_name: name, source: source.origin },
    })
  }
}

function notFound(name: string): AppError {
  return new AppError('client_not_found', `no catalog client named "${name}"`, { hint: 'GET /admin/clients lists them' })
}

/** the connection columns for whichever of pg_uri / pg_uri_env_var the input sets */
function connectionChanges(deps: ClientsDeps, input: ClientInput): Pick<ClientChanges, 'pg_uri_encrypted' | 'pg_uri_env_var'> | undefined {
  const uri = input.pg_uri ?? null
  const envVar = input.pg_uri_env_var ?? null
  if (uri !== null && envVar !== null) throw new AppError('invalid_request', 'give either pg_uri or pg_uri_env_var, not both')
  if (uri !== null) {
    assertConnectionUrl(deps, uri, 'pg_uri')
    return { pg_uri_encrypted: seal(deps.secretKey, uri), pg_uri_env_var: null }
  }
  if (envVar !== null) {
    if (!ENV_VAR.test(envVar)) throw new AppError('invalid_request', 'pg_uri_env_var must be an environment variable name (letters, digits, "_")')
    const value = deps.clientSync.env[envVar]
    if (!value) throw new AppError('invalid_request', `environment variable ${envVar} is not set in this Atrium process`)
    assertConnectionUrl(deps, value, `environment variable ${envVar}`)
    return { pg_uri_encrypted: null, pg_uri_env_var: envVar }
  }
  return undefined
}

export function toClientView(deps: ClientsDeps, row: ClientRecord): ClientView {
  const url = row.pg_uri_encrypted ? deps.clientSync.resolveUrl(row) : undefined
  return {
    id: row.id,
    client_name: row.client_name,
    description: row.description,
    pg_uri: row.pg_uri_encrypted ? (url ? maskUrl(url) : '****') : null,
    pg_uri_env_var: row.pg_uri_env_var,
    config_uri_template: row.config_uri_template,
    source: row.source,
    is_active: row.is_active,
    is_frozen: row.is_frozen,
    visibility: row.owner_sub ? 'private' : 'shared',
    last_synced_from_config_at: row.last_synced_from_config_at,
    last_seen_at: row.last_seen_at,
    metadata: row.metadata ?? {},
    created_at: row.created_at,
    updated_at: row.updated_at,
    deleted_at: row.deleted_at,
  }
}

// How long GET /admin/clients waits for privilege checks still outstanding (a source that was down at
// registration); a source that does not answer in time is listed with superuser: null.
const PRIVILEGE_WAIT_MS = 1_500

/** retries the privilege check of sources not checked yet, waiting a bounded time */
async function settlePrivilegeChecks(deps: ClientsDeps): Promise<void> {
  const pending = deps.registry.list().filter((s) => !s.privileges).map((s) => s.checkPrivileges().catch(() => undefined))
  if (!pending.length) return
  let timer: NodeJS.Timeout | undefined
  await Promise.race([Promise.all(pending), new Promise((resolve) => { timer = setTimeout(resolve, PRIVILEGE_WAIT_MS) })])
  clearTimeout(timer)
}

/** catalog records plus what this process is actually serving (config sources included, as source "config") */
export async function listClients(deps: ClientsDeps): Promise<{ clients: ClientView[]; runtime: RuntimeClientView[] }> {
  const [rows] = await Promise.all([listLiveClients(deps.catalog), settlePrivilegeChecks(deps)])
  const byName = new Map(rows.map((r) => [r.client_name, r]))
  const runtime = deps.registry.list().map((source) => {
    const row = source.origin === 'catalog' ? byName.get(source.name) : undefined
    return {
      client_name: source.name,
      source: source.origin === 'catalog' ? 'database' : source.origin,
      description: source.description,
      pg_uri: maskUrl(source.url),
      pg_uri_env_var: row?.pg_uri_env_var ?? null,
      config_uri_template: null,
      is_active: true,
      is_frozen: source.frozen,
      visibility: source.owner ? 'private' as const : 'shared' as const,
      pool_connected: source.hasDriver && source.driver.stats().connected,
      superuser: source.privileges?.superuser ?? null,
      warnings: source.privileges?.warnings ?? [],
    }
  }).sort((a, b) => a.client_name.localeCompare(b.client_name))
  return { clients: rows.map((r) => toClientView(deps, r)), runtime }
}

/**
 * Creates a catalog client. `owner` (never from a request body) makes it private to that session user: see
 * SourceRegistry.resolve, which answers unknown_client for it on every surface.
 */
export async function createClient(deps: ClientsDeps, input: ClientInput, owner?: string): Promise<ClientView> {
  const name = assertClientName(input.client_name)
  const existing = deps.registry.get(name)
  if (existing && existing.origin !== 'catalog') {
    throw new AppError('client_exists', `a configured source named "${name}" already exists`, { data: { client_name: name, source: existing.origin } })
  }
  const connection = connectionChanges(deps, input)
  if (!connection) throw new AppError('invalid_request', 'a new client needs pg_uri or pg_uri_env_var')
  const row = await deps.catalog.transaction(async (tx) => {
    if (await findLiveClient(tx, name)) throw new AppError('client_exists', `client "${name}" already exists`, { data: { client_name: name } })
    const inserted = await insertClient(tx, {
      client_name: name,
      description: input.description ?? null,
      pg_uri_encrypted: connection.pg_uri_encrypted ?? null,
      pg_uri_env_var: connection.pg_uri_env_var ?? null,
      is_active: input.is_active ?? true,
      owner_sub: owner ?? null,
    })
    await deps.clientSync.announceClientChange(tx, name)
    return inserted
  }).catch((err: unknown) => {
    // two creates racing past the check meet the unique index instead
    if (err instanceof AppError && err.code === 'unique_violation') throw new AppError('client_exists', `client "${name}" already exists`)
    throw err
  })
  await deps.clientSync.reloadClient(name)
  return toClientView(deps, row)
}

export async function updateClientSettings(deps: ClientsDeps, name: string, input: ClientInput): Promise<ClientView> {
  assertClientName(name)
  assertCatalogOwned(deps, name)
  if (input.client_name !== undefined && input.client_name !== name) {
    throw new AppError('invalid_request', 'clients cannot be renamed; create a client with the new name and delete this one')
  }
  const changes: ClientChanges = { ...connectionChanges(deps, input) }
  if (input.description !== undefined) changes.description = input.description
  if (input.is_active !== undefined) changes.is_active = input.is_active
  return changeClient(deps, name, (tx) => updateClient(tx, name, changes))
}

export async function setClientFrozen(deps: ClientsDeps, name: string, frozen: boolean): Promise<ClientView> {
  assertClientName(name)
  assertCatalogOwned(deps, name)
  return changeClient(deps, name, (tx) => updateClient(tx, name, { is_frozen: frozen }))
}

export async function deleteClient(deps: ClientsDeps, name: string): Promise<ClientView> {
  assertClientName(name)
  assertCatalogOwned(deps, name)
  return changeClient(deps, name, (tx) => softDeleteClient(tx, name))
}

async function changeClient(deps: ClientsDeps, name: string, change: (tx: Executor) => Promise<ClientRecord | undefined>): Promise<ClientView> {
  const row = await deps.catalog.transaction(async (tx) => {
    const changed = await change(tx)
    if (!changed) throw notFound(name)
    await deps.clientSync.announceClientChange(tx, name)
    return changed
  })
  await deps.clientSync.reloadClient(name)
  return toClientView(deps, row)
}
