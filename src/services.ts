// The long-lived parts of one Atrium process, built once at boot and handed to the HTTP app and workers.
import type { Logger } from 'pino'
import type { RegistrySync } from './clients/registry-sync.js'
import type { ApiKeyStore } from './auth/api-key-store.js'
import type { JwtSessions } from './auth/jwt-sessions.js'
import type { KeyAuthenticator } from './auth/key-authenticator.js'
import type { RateLimits } from './auth/rate-limits.js'
import type { Config } from './config/schema.js'
import type { RawSqlGate } from './data/raw-sql-gate.js'
import type { Catalog } from './catalog/catalog.js'
import type { EmbeddedPostgres } from './catalog/embedded.js'
import type { RequestLog } from './monitoring/request-log.js'
import type { JobQueue } from './jobs/job-queue.js'
import type { Metrics } from './observability/metrics.js'
import type { ObjectStore } from './objects/object-store.js'
import type { Outbox } from './outbox/outbox.js'
import type { ResultCache } from './query/result-cache.js'
import type { SourceRegistry } from './sources/registry.js'

export interface Services {
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
}
