// A user's connections: each is a data source in the one registry (a catalog client whose connection string is
// sealed there, served under a generated client name), owned by the user who made it. Another user's
// connection does not exist for them (404). Credentials go in and are never returned.
import { randomBytes } from 'node:crypto'
import { createClient, deleteClient, type ClientsDeps } from '../clients/clients-service.js'
import { AppError } from '../errors/app-error.js'
import type { Config } from '../config/schema.js'
import type { Source } from '../sources/source.js'
import { assertConnectableHost, hostOfUrl } from './connection-address.js'
import { deleteConnectionRow, findConnection, insertConnection, type ConnectionRecord } from './connections-store.js'
import { findDatabaseConnection, type ConnectionUser } from './database-connections.js'

export type ConnectionsDeps = ClientsDeps & { config: { assistant: Pick<Config['assistant'], 'allowPrivateConnections'> } }

export interface ConnectionInput {
  provider?: unknown
  name?: unknown
  allow_writes?: unknown
  config?: { host?: unknown; port?: unknown; database?: unknown; user?: unknown; password?: unknown }
}

export interface ConnectionStatus {
  state: 'ready' | 'error'
  reason?: string
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/
const HOST = /^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]{2,45}\]$/
const PROVIDERS: Record<string, { dialect: 'postgres' | 'mysql'; scheme: string; port: number }> = {
  postgres: { dialect: 'postgres', scheme: 'postgres', port: 5432 },
  postgresql: { dialect: 'postgres', scheme: 'postgres', port: 5432 },
  mysql: { dialect: 'mysql', scheme: 'mysql', port: 3306 },
  mariadb: { dialect: 'mysql', scheme: 'mysql', port: 3306 },
}
/** how long a status check waits for the database */
const STATUS_TIMEOUT_MS = 5_000

const invalid = (message: string) => new AppError('invalid_request', message)

export function assertConnectionName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) throw invalid('the connection name must be 1-63 letters, digits, "_", "." or "-", not starting with "." or "-"')
  return name
}

const text = (value: unknown, field: string, required: boolean): string | undefined => {
  if (value === undefined || value === null) {
    if (required) throw invalid(`config.${field} is required`)
    return undefined
  }
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) throw invalid(`config.${field} must be a string of 1 to 512 characters`)
  return value
}

/** the connection URL of the input; user, password and database are percent-encoded, never interpolated raw */
function connectionUrl(input: ConnectionInput): { url: string; host: string; provider: 'postgres' | 'mysql' } {
  const kind = typeof input.provider === 'string' ? PROVIDERS[input.provider.toLowerCase()] : undefined
  if (!kind) throw invalid('provider must be "postgres" or "mysql"')
  const config = input.config
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw invalid('config must be an object with host, database, user and password')
  const host = text(config.host, 'host', true)!
  if (!HOST.test(host)) throw invalid('config.host must be a host name or an IP address')
  const port = config.port === undefined ? kind.port : Number(config.port)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid('config.port must be an integer from 1 to 65535')
  const database = text(config.database, 'database', true)!
  const user = text(config.user, 'user', true)!
  const password = text(config.password, 'password', false)
  const auth = `${encodeURIComponent(user)}${password === undefined ? '' : `:${encodeURIComponent(password)}`}`
  return { url: `${kind.scheme}://${auth}@${host}:${port}/${encodeURIComponent(database)}`, host, provider: kind.dialect }
}

const notFound = (name: string) => new AppError('assistant_connection_not_found', `no connection named "${name}"`, {
  hint: 'POST /api/connections creates one; connections are seen only by the user who created them',
})

/** what chat, execute and describe need of a connection, whichever kind it is */
export interface ResolvedConnection {
  name: string
  provider: 'postgres' | 'mysql'
  allow_writes: boolean
  /** a connection the user created, or a provisioned database of one of their teams */
  origin: 'connection' | 'database'
}

/** the caller's connection, else a provisioned database of their team named by its uuid (read-only), or a 404 */
export async function connectionOf(deps: ConnectionsDeps, user: ConnectionUser, name: string): Promise<{ record: ResolvedConnection; source: Source }> {
  const own = typeof name === 'string' && NAME.test(name) ? await findConnection(deps.catalog, user.sub, name) : undefined
  const database = own ? undefined : await findDatabaseConnection(deps.catalog, user, String(name))
  if (!own && !database) throw notFound(String(name))
  const record: ResolvedConnection = own
    ? { name: own.name, provider: own.provider, allow_writes: own.allow_writes, origin: 'connection' }
    : { name: database!.name, provider: database!.provider, allow_writes: false, origin: 'database' }
  const source = deps.registry.get(own ? own.client_name : database!.client_name)
  if (!source) throw new AppError('assistant_connection_unavailable', `connection "${name}" is not loaded in this process`, { hint: 'try again in a moment' })
  if (own) {
    // the client itself must say it is this user's (a row and its client are written together; this is the guard)
    if (source.owner !== user.sub) throw notFound(String(name))
    // checked again on every use: the host's DNS answer, or the setting, may have changed since it was created
    await assertConnectableHost(hostOfUrl(source.url), deps.config.assistant.allowPrivateConnections)
  }
  return { record, source }
}

export async function createConnection(deps: ConnectionsDeps, owner: string, input: ConnectionInput) {
  const name = assertConnectionName(input.name)
  const { url, host, provider } = connectionUrl(input)
  if (input.allow_writes !== undefined && typeof input.allow_writes !== 'boolean') throw invalid('allow_writes must be true or false')
  await assertConnectableHost(host, deps.config.assistant.allowPrivateConnections)
  if (await findConnection(deps.catalog, owner, name)) {
    throw new AppError('assistant_connection_exists', `you already have a connection named "${name}"`, { hint: 'DELETE /api/connections/{name} first, or pick another name' })
  }
  const clientName = `assistant_${randomBytes(8).toString('hex')}`
  // the client (and its sealed URL) first: a connection row never points at a client that is not there
  // private to its owner: no key, session or other surface can name this client (SourceRegistry.resolve)
  await createClient(deps, { client_name: clientName, description: `Assistant connection "${name}"`, pg_uri: url }, owner)
  let record: ConnectionRecord
  try {
    record = await insertConnection(deps.catalog, { owner_sub: owner, name, provider, client_name: clientName, allow_writes: input.allow_writes === true })
  } catch (err) {
    await deleteClient(deps, clientName).catch(() => {})
    if (err instanceof AppError && err.code === 'unique_violation') throw new AppError('assistant_connection_exists', `you already have a connection named "${name}"`)
    throw err
  }
  return { name: record.name, provider: record.provider, allow_writes: record.allow_writes, status: await statusOf(deps.registry.get(clientName)) }
}

export async function describeConnection(deps: ConnectionsDeps, user: ConnectionUser, name: string) {
  const { record, source } = await connectionOf(deps, user, name)
  return {
    name: record.name,
    // the spec names the connection class here, where POST answers the provider's name
    provider: record.provider === 'postgres' ? 'PostgresConnection' : 'MysqlConnection',
    allow_writes: record.allow_writes,
    // a provisioned database says so; the user's own connections answer as they always did
    ...(record.origin === 'database' ? { source: 'database' } : {}),
    status: await statusOf(source),
  }
}

export async function removeConnection(deps: ConnectionsDeps, owner: string, name: string): Promise<{ status: 'disconnected' }> {
  const record = typeof name === 'string' && NAME.test(name) ? await deleteConnectionRow(deps.catalog, owner, name) : undefined
  if (!record) throw notFound(String(name))
  await deleteClient(deps, record.client_name).catch((err: unknown) => {
    if (!(err instanceof AppError && err.code === 'client_not_found')) throw err
  })
  return { status: 'disconnected' }
}

/** asks the database now: ready, or error with the driver's reason (bounded in time) */
async function statusOf(source: Source | undefined): Promise<ConnectionStatus> {
  if (!source) return { state: 'error', reason: 'the connection is not loaded in this process' }
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      source.driver.query({ sql: 'SELECT 1', params: [] }),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${STATUS_TIMEOUT_MS / 1000} s`)), STATUS_TIMEOUT_MS) }),
    ])
    return { state: 'ready' }
  } catch (err) {
    return { state: 'error', reason: String((err as Error).message ?? err).split('\n')[0].slice(0, 300) }
  } finally {
    clearTimeout(timer)
  }
}
