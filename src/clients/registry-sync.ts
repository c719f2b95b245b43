// Keeps this process's source registry in step with atrium.clients and with DDL made by other processes,
// through LISTEN/NOTIFY on the catalog. It never writes the catalog itself.
import type { Logger } from 'pino'
import { open } from '../auth/secret-box.js'
import type { Catalog } from '../catalog/catalog.js'
import { findLiveClient, listLiveClients, type ClientRecord } from './clients-store.js'
import type { Config } from '../config/schema.js'
import type { ResultCache } from '../query/result-cache.js'
import type { Executor } from '../sources/driver.js'
import { isCatalogDatabase } from '../sources/is-catalog-database.js'
import type { SourceRegistry } from '../sources/registry.js'

export const CLIENTS_CHANNEL = 'atrium_clients'
export const SCHEMA_CHANNEL = 'atrium_schema'

interface Change {
  client_name: string
  /** the process that made the change; it applied it already */
  instance: string
}

export interface RegistrySyncDeps {
  catalog: Catalog
  registry: SourceRegistry
  resultCache: ResultCache
  config: Config
  logger: Logger
  secretKey: Buffer
  /** environment the pg_uri_env_var of catalog clients is read from */
  env: NodeJS.ProcessEnv
  instanceId: string
}

export class RegistrySync {
  // One change at a time: a register racing an unregister of the same name would leave either.
  private queue: Promise<void> = Promise.resolve()

  constructor(private readonly deps: RegistrySyncDeps) {}

  /** where pg_uri_env_var names are looked up */
  get env(): NodeJS.ProcessEnv {
    return this.deps.env
  }

  /** the connection URL a catalog row points at, or undefined when it has none usable */
  resolveUrl(row: Pick<ClientRecord, 'client_name' | 'pg_uri_encrypted' | 'pg_uri_env_var'>): string | undefined {
    if (row.pg_uri_encrypted) {
      try {
        return open(this.deps.secretKey, row.pg_uri_encrypted)
      } catch {
        // a changed secret key makes old rows unreadable; say so instead of failing the whole process
        this.deps.logger.warn({ client: row.client_name }, 'cannot decrypt the stored connection string (was the secret key changed?)')
        return undefined
      }
    }
    return row.pg_uri_env_var ? this.deps.env[row.pg_uri_env_var] || undefined : undefined
  }

  /** registers every live catalog client and drops catalog sources whose row is gone; run at boot and after reconnects */
  reloadAll(): Promise<void> {
    return this.enqueue(async () => {
      const rows = await listLiveClients(this.deps.catalog)
      const live = new Set(rows.map((r) => r.client_name))
      for (const source of this.deps.registry.list()) {
        if (source.origin === 'catalog' && !live.has(source.name)) await this.deps.registry.unregister(source.name)
      }
      for (const row of rows) await this.applyRow(row.client_name, row)
    })
  }

  /** re-reads one client's row and applies it to the registry */
  reloadClient(name: string): Promise<void> {
    return this.enqueue(async () => this.applyRow(name, await findLiveClient(this.deps.catalog, name)))
  }

  /** subscribes to changes made by other processes; a listener reconnect reloads everything */
  async start(): Promise<void> {
    const { catalog, logger } = this.deps
    await catalog.listen(CLIENTS_CHANNEL, (payload) => {
      const change = parseChange(payload)
      if (!change || change.instance === this.deps.instanceId) return
      this.reloadClient(change.client_name).catch((err: Error) => logger.warn({ client: change.client_name, err: err.message }, 'applying a client change failed'))
    })
    await catalog.listen(SCHEMA_CHANNEL, (payload) => {
      const change = parseChange(payload)
      if (!change || change.instance === this.deps.instanceId) return
      this.refreshSchema(change.client_name)
    })
    catalog.onListenerReconnect(() => {
      this.reloadAll().catch((err: Error) => logger.warn({ err: err.message }, 'reloading catalog clients after reconnect failed'))
    })
  }

  /** queues NOTIFY inside the caller's catalog transaction, so other processes hear of it only once it commits */
  async announceClientChange(tx: Executor, name: string): Promise<void> {
    await tx.query({ sql: 'SELECT pg_notify($1, $2)', params: [CLIENTS_CHANNEL, JSON.stringify({ client_name: name, instance: this.deps.instanceId })] })
  }

  /** tells other processes that a client's schema changed (after DDL through the management API) */
  async announceSchemaChange(name: string): Promise<void> {
    await this.deps.catalog.notify(SCHEMA_CHANNEL, JSON.stringify({ client_name: name, instance: this.deps.instanceId }))
  }

  private refreshSchema(name: string): void {
    const source = this.deps.registry.get(name)
    if (!source) return
    this.deps.resultCache.invalidateSource(name)
    if (!source.cachedSchema) return
    source.refreshSchema().catch((err: Error) => this.deps.logger.warn({ client: name, err: err.message }, 'schema refresh after a remote change failed'))
  }

  private async applyRow(name: string, row: ClientRecord | undefined): Promise<void> {
    const { registry, config, logger } = this.deps
    const current = registry.get(name)
    if (current && current.origin !== 'catalog') {
      if (row) logger.warn({ client: name }, 'catalog client shadowed by a configured source of the same name')
      return
    }
    const url = row && row.is_active ? this.resolveUrl(row) : undefined
    // a row written before such URLs were refused (or an env var changed since) is not served
    const isCatalog = url !== undefined && isCatalogDatabase(url, this.deps.catalog.url)
    if (isCatalog) logger.warn({ client: name }, 'catalog client not served: its URL names the catalog database')
    if (!row || !url || isCatalog) {
      if (current) await registry.unregister(name)
      return
    }
    if (current && current.url === url && current.owner === (row.owner_sub ?? null)) {
      // same database: keep the pool, change what can change in place
      current.frozen = row.is_frozen
      current.description = row.description
      return
    }
    await registry.register({
      name,
      url,
      origin: 'catalog',
      description: row.description,
      pool: { ...config.pool },
      statementTimeoutMs: config.gateway.statementTimeoutMs,
      rawPoolMax: config.rawSqlSessions.poolMax,
      frozen: row.is_frozen,
      owner: row.owner_sub,
    })
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(fn)
    this.queue = run.catch(() => {})
    return run
  }
}

function parseChange(payload: string): Change | undefined {
  try {
    const value = JSON.parse(payload) as Partial<Change>
    return typeof value.client_name === 'string' && typeof value.instance === 'string' ? (value as Change) : undefined
  } catch {
    return undefined
  }
}
