// Builds the one frozen Config from atrium.yaml and the environment. Reads files and env only when called.
import { readFileSync } from 'node:fs'
import { Value } from '@sinclair/typebox/value'
import { parse as parseYaml } from 'yaml'
import { ConfigSchema, type Config } from './schema.js'
import { definePipeline } from '../pipelines/definition.js'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Parser = (raw: string, name: string) => unknown

const asString: Parser = (raw) => raw
const asInt: Parser = (raw, name) => {
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`)
  return Number(raw)
}
const asNumber: Parser = (raw, name) => {
  const n = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${name} must be a number, got "${raw}"`)
  return n
}
const asBool: Parser = (raw, name) => {
  const v = raw.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(v)) return true
  if (['0', 'false', 'no', 'off'].includes(v)) return false
  throw new ConfigError(`${name} must be true or false, got "${raw}"`)
}
const asList: Parser = (raw) => raw.split(',').map((s) => s.trim()).filter(Boolean)

/** Environment variables and the setting each one fills. The contract names come first. */
export const ENV_SETTINGS: ReadonlyArray<readonly [env: string, path: string, parse: Parser]> = [
  ['PORT', 'server.port', asInt],
  ['HOST', 'server.host', asString],
  ['DATABASE_URL', 'catalog.url', asString],
  ['ATRIUM_DATA_DIR', 'dataDir', asString],
  ['ATRIUM_ADMIN_KEY', 'adminKey', asString],
  ['ATHENA_KEY_12', 'adminKey', asString], // the gateway spec's name wins over the alias
  ['REDIS_URL', 'redisUrl', asString],
  ['ATRIUM_SECRET_KEY', 'secretKey', asString],
  ['ATRIUM_LOG_LEVEL', 'server.logLevel', asString],
  ['ATRIUM_CONSOLE_DIR', 'console.dir', asString],
  ['ATRIUM_BODY_LIMIT_BYTES', 'server.bodyLimitBytes', asInt],
  ['ATRIUM_CORS_ORIGINS', 'server.corsOrigins', asList],
  ['ATRIUM_TRUST_PROXY', 'server.trustProxy', asList],
  ['ATRIUM_SHUTDOWN_TIMEOUT_MS', 'server.shutdownTimeoutMs', asInt],
  ['ATRIUM_EMBEDDED_PORT', 'catalog.embeddedPort', asInt],
  ['ATRIUM_POOL_MAX', 'pool.max', asInt],
  ['ATRIUM_POOL_IDLE_TIMEOUT_MS', 'pool.idleTimeoutMs', asInt],
  ['ATRIUM_POOL_CONNECTION_TIMEOUT_MS', 'pool.connectionTimeoutMs', asInt],
  ['ATRIUM_STATEMENT_TIMEOUT_MS', 'gateway.statementTimeoutMs', asInt],
  ['ATRIUM_REQUIRE_TENANT_HEADERS', 'gateway.requireTenantHeaders', asBool],
  ['ATRIUM_FETCH_CACHE_TTL_MS', 'gateway.cacheTtlMs', asInt],
  ['ATRIUM_STREAM_THRESHOLD_ROWS', 'gateway.streamThresholdRows', asInt],
  ['ATRIUM_SCHEMA_REFRESH_MS', 'gateway.schemaRefreshMs', asInt],
  ['ATRIUM_REQUEST_LOG_FLUSH_MS', 'gateway.requestLogFlushMs', asInt],
  ['ATRIUM_REQUEST_LOG_RETENTION_DAYS', 'gateway.requestLogRetentionDays', asInt],
  ['ATRIUM_UPSTREAM_ALLOWED_HOSTS', 'gateway.upstreamAllowedHosts', asList],
  ['ATRIUM_UPSTREAM_TIMEOUT_MS', 'gateway.upstreamTimeoutMs', asInt],
  ['ATRIUM_RAW_SQL_MAX_ROWS', 'gateway.rawSql.maxRows', asInt],
  ['ATRIUM_RAW_SQL_MAX_BYTES', 'gateway.rawSql.maxBytes', asInt],
  ['ATRIUM_REST_ENVELOPE', 'rest.envelope', asString],
  ['ATRIUM_REST_MAX_ROWS', 'rest.maxRows', asInt],
  ['ATRIUM_REST_AGGREGATES_ENABLED', 'rest.aggregatesEnabled', asBool],
  ['ATRIUM_REST_DEFAULT_CLIENT', 'rest.defaultClient', asString],
  ['ATRIUM_CLUSTER_MIRRORS', 'cluster.mirrors', asList],
  ['ATRIUM_ENFORCE_API_KEYS', 'security.enforceApiKeys', asBool],
  ['ATRIUM_KEY_CACHE_TTL_MS', 'security.keyCacheTtlMs', asInt],
  ['ATRIUM_KEY_FAIL_OPEN_MINUTES', 'security.failOpenMinutes', asInt],
  ['ATRIUM_LOCK_IN_SOURCE_ADDRESS', 'security.lockInSourceAddress', asBool],
  ['ATRIUM_PROTECT_SCHEMA', 'security.protect.schema', asString],
  ['ATRIUM_PROTECT_REGISTRY', 'security.protect.registry', asString],
  ['ATRIUM_PROTECT_OPENAPI', 'security.protect.openapi', asString],
  ['ATRIUM_PROTECT_CLIENTS', 'security.protect.clients', asString],
  ['ATRIUM_PROTECT_METRICS', 'security.protect.metrics', asString],
  ['ATRIUM_VACUUM_HEALTH_ENABLED', 'vacuumHealth.enabled', asBool],
  ['ATRIUM_VACUUM_HEALTH_SCHEDULE', 'vacuumHealth.schedule', asString],
  ['ATRIUM_VACUUM_HEALTH_RETENTION_DAYS', 'vacuumHealth.retentionDays', asInt],
  ['ATRIUM_WORKERS', 'jobs.workers', asInt],
  ['ATRIUM_EVENTS_RETENTION_DAYS', 'events.retentionDays', asInt],
  ['ATRIUM_EVENTS_REDIS_CHANNEL', 'events.redisChannel', asString],
  ['ATRIUM_ADMISSION_RETENTION_DAYS', 'admission.retentionDays', asInt],
  ['ATRIUM_WEBHOOKS_ALLOW_PRIVATE', 'webhooks.allowPrivate', asBool],
  ['ATRIUM_PIPELINES_BATCH_SIZE', 'pipelines.batchSize', asInt],
  ['ATRIUM_WORKSPACE_INVITATION_TTL_HOURS', 'workspace.invitationTtlHours', asInt],
  ['ATRIUM_WORKSPACE_DUCKDB_MEMORY_LIMIT', 'workspace.duckdbMemoryLimit', asString],
  ['ATRIUM_WORKSPACE_DUCKDB_THREADS', 'workspace.duckdbThreads', asInt],
  ['ATRIUM_WORKSPACE_PRICE_PER_TB_USD', 'workspace.pricePerTbUsd', asNumber],
  ['ATRIUM_WORKSPACE_DAILY_QUOTA_USD', 'workspace.dailyQuotaUsd', asNumber],
  ['ATRIUM_WORKSPACE_MONTHLY_QUOTA_USD', 'workspace.monthlyQuotaUsd', asNumber],
  ['ATRIUM_WORKSPACE_QUERY_TIMEOUT_SECONDS', 'workspace.queryTimeoutSeconds', asInt],
  ['ATRIUM_WORKSPACE_APPROVAL_TTL_DAYS', 'workspace.approvalTtlDays', asInt],
  ['ATRIUM_WORKSPACE_APPROVALS_INTERNAL_TOKEN', 'workspace.approvalsInternalToken', asString],
  ['ATRIUM_WORKSPACE_EXPORT_URL_TTL_SECONDS', 'workspace.exportUrlTtlSeconds', asInt],
  ['ATRIUM_WORKSPACE_EXPORT_RETENTION_DAYS', 'workspace.exportRetentionDays', asInt],
  ['ATRIUM_PIPELINES_JOB_TIMEOUT_SECONDS', 'pipelines.jobTimeoutSeconds', asInt],
  ['ATRIUM_REALTIME_MAX_CONNECTIONS', 'realtime.maxConnections', asInt],
  ['ATRIUM_RATE_LIMIT_PER_KEY', 'rateLimits.perKey', asInt],
  ['ATRIUM_RATE_LIMIT_PER_CLIENT', 'rateLimits.perClient', asInt],
  ['ATRIUM_RATE_LIMIT_PER_IP', 'rateLimits.perIp', asInt],
  ['ATRIUM_RATE_LIMIT_WINDOW_SECONDS', 'rateLimits.windowSeconds', asInt],
  ['ATRIUM_RATE_LIMIT_OUTBOUND_PER_HOST', 'rateLimits.outboundPerHost', asInt],
  ['ATRIUM_RATE_LIMIT_PREFIX', 'rateLimits.keyPrefix', asString],
  ['ATRIUM_RATE_LIMIT_PUBLIC_PER_IP', 'rateLimits.publicPerIp', asInt],
  ['ATRIUM_REQUEST_TIMEOUT_MS', 'deadlines.requestTimeoutMs', asInt],
  ['ATRIUM_REQUEST_READ_TIMEOUT_MS', 'deadlines.requestReadTimeoutMs', asInt],
  ['ATRIUM_HEADERS_TIMEOUT_MS', 'deadlines.headersTimeoutMs', asInt],
  ['ATRIUM_RAW_SQL_POOL_MAX', 'rawSqlSessions.poolMax', asInt],
  ['ATRIUM_RAW_SQL_MAX_CONCURRENT_PER_KEY', 'rawSqlSessions.maxConcurrentPerKey', asInt],
  ['ATRIUM_RAW_SQL_MAX_CONCURRENT_PER_CLIENT', 'rawSqlSessions.maxConcurrentPerClient', asInt],
  ['ATRIUM_RAW_SQL_QUEUE_TIMEOUT_MS', 'rawSqlSessions.queueTimeoutMs', asInt],
  ['S3_BUCKET', 'objects.s3.bucket', asString],
  ['S3_REGION', 'objects.s3.region', asString],
  ['S3_ENDPOINT', 'objects.s3.endpoint', asString],
  ['S3_FORCE_PATH_STYLE', 'objects.s3.forcePathStyle', asBool],
  ['AWS_ACCESS_KEY_ID', 'objects.s3.accessKeyId', asString],
  ['AWS_SECRET_ACCESS_KEY', 'objects.s3.secretAccessKey', asString],
  ['ATRIUM_OBJECTS_PUBLIC_URL', 'objects.publicBaseUrl', asString],
  ['ATRIUM_OBJECTS_MAX_UPLOAD_BYTES', 'objects.maxUploadBytes', asInt],
  ['ATRIUM_MANAGED_POSTGRES_URL', 'provisioning.postgresUrl', asString],
  ['ATRIUM_MANAGED_MYSQL_URL', 'provisioning.mysqlUrl', asString],
  ['ATRIUM_MANAGED_NAME_PREFIX', 'provisioning.namePrefix', asString],
  ['ATRIUM_DOCKER_SOCKET', 'provisioning.dockerSocket', asString],
  ['ATRIUM_PROVIDERS_TIMEOUT_MS', 'providers.timeoutMs', asInt],
  ['NEON_API_KEY', 'providers.neon.apiKey', asString],
  ['ATRIUM_NEON_API_URL', 'providers.neon.apiBaseUrl', asString],
  ['RAILWAY_API_TOKEN', 'providers.railway.apiKey', asString],
  ['ATRIUM_RAILWAY_GRAPHQL_URL', 'providers.railway.graphqlUrl', asString],
  ['RENDER_API_KEY', 'providers.render.apiKey', asString],
  ['ATRIUM_RENDER_API_URL', 'providers.render.apiBaseUrl', asString],
  ['SUPABASE_ACCESS_TOKEN', 'providers.supabase.accessToken', asString],
  ['PROJECT_REF', 'providers.supabase.projectRef', asString],
  ['ATRIUM_SUPABASE_API_URL', 'providers.supabase.apiBaseUrl', asString],
  ['ATRIUM_MANAGED_QUOTA_CHECK_CRON', 'provisioning.quotaCheckCron', asString],
  ['ATRIUM_MANAGED_WARM_POOL_POSTGRES', 'provisioning.warmPool.postgres', asInt],
  ['ATRIUM_MANAGED_WARM_POOL_MYSQL', 'provisioning.warmPool.mysql', asInt],
  ['ATRIUM_BACKUPS_PG_DUMP_PATH', 'backups.pgDumpPath', asString],
  ['ATRIUM_BACKUPS_PG_RESTORE_PATH', 'backups.pgRestorePath', asString],
  ['ATRIUM_BACKUPS_MYSQL_DUMP_PATH', 'backups.mysqlDumpPath', asString],
  ['ATRIUM_BACKUPS_MYSQL_PATH', 'backups.mysqlPath', asString],
  ['ATRIUM_BACKUPS_BUCKET', 'backups.bucket', asString],
  ['ATRIUM_BACKUPS_JOB_TIMEOUT_SECONDS', 'backups.jobTimeoutSeconds', asInt],
  ['OPENAI_API_KEY', 'assistant.openaiApiKey', asString],
  ['OPENAI_BASE_URL', 'assistant.openaiBaseUrl', asString],
  ['ATRIUM_ASSISTANT_OPENAI_MODEL', 'assistant.openaiModel', asString],
  ['ANTHROPIC_API_KEY', 'assistant.anthropicApiKey', asString],
  ['ANTHROPIC_BASE_URL', 'assistant.anthropicBaseUrl', asString],
  ['ATRIUM_ASSISTANT_ANTHROPIC_MODEL', 'assistant.anthropicModel', asString],
  ['ATRIUM_ASSISTANT_PROVIDER_TIMEOUT_MS', 'assistant.providerTimeoutMs', asInt],
  ['ATRIUM_ASSISTANT_PROMPT_TOKEN_BUDGET', 'assistant.promptTokenBudget', asInt],
  ['ATRIUM_ASSISTANT_SAMPLE_ROWS', 'assistant.sampleRows', asInt],
  ['ATRIUM_ASSISTANT_MAX_ROWS', 'assistant.maxRows', asInt],
  ['ATRIUM_ASSISTANT_CORRECTION_ROUNDS', 'assistant.correctionRounds', asInt],
  ['ATRIUM_ASSISTANT_MAX_UPLOAD_BYTES', 'assistant.maxUploadBytes', asInt],
  ['ATRIUM_ASSISTANT_UPLOAD_BUCKET', 'assistant.uploadBucket', asString],
  ['ATRIUM_ASSISTANT_PROFILE_MEMORY_MB', 'assistant.profileMemoryMb', asInt],
  ['ATRIUM_ASSISTANT_ALLOW_PRIVATE', 'assistant.allowPrivateConnections', asBool],
  ['ATRIUM_AGENTS_ALLOW_PRIVATE', 'agents.allowPrivate', asBool],
  ['ATRIUM_AGENTS_CALL_TIMEOUT_MS', 'agents.callTimeoutMs', asInt],
  ['ATRIUM_AGENTS_FAN_OUT_DEADLINE_MS', 'agents.fanOutDeadlineMs', asInt],
  ['ATRIUM_AGENTS_FAN_OUT_CONCURRENCY', 'agents.fanOutConcurrency', asInt],
  ['ATRIUM_AGENTS_TOOLS_CACHE_TTL_SECONDS', 'agents.toolsCacheTtlSeconds', asInt],
  ['ATRIUM_AGENTS_DEFAULT_PER_SECOND', 'agents.defaultPerSecond', asInt],
  ['ATRIUM_AGENTS_DEFAULT_PER_MINUTE', 'agents.defaultPerMinute', asInt],
  ['ATRIUM_AGENTS_DEFAULT_PER_HOUR', 'agents.defaultPerHour', asInt],
  ['ATRIUM_AGENTS_DEFAULT_CONCURRENCY', 'agents.defaultConcurrency', asInt],
  ['ATRIUM_JWT_SECRET', 'sessions.jwtSecret', asString],
  ['ATRIUM_JWKS_URL', 'sessions.jwksUrl', asString],
  ['ATRIUM_JWT_AUDIENCE', 'sessions.audience', asString],
  ['ATRIUM_JWT_ISSUER', 'sessions.issuer', asString],
]

const CLIENT_PREFIX = 'ATRIUM_CLIENT_'

function setPath(target: Record<string, any>, path: string, value: unknown): void {
  const keys = path.split('.')
  let node = target
  for (const key of keys.slice(0, -1)) {
    if (node[key] === undefined || node[key] === null) node[key] = {}
    else if (typeof node[key] !== 'object') throw new ConfigError(`${keys.slice(0, keys.indexOf(key) + 1).join('.')} must be an object`)
    node = node[key]
  }
  node[keys[keys.length - 1]] = value
}

function readYaml(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`ATRIUM_CONFIG: cannot read ${path}: ${(err as Error).message}`)
  }
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (err) {
    throw new ConfigError(`ATRIUM_CONFIG: ${path} is not valid YAML: ${(err as Error).message}`)
  }
  if (doc === null || doc === undefined) return {}
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`ATRIUM_CONFIG: ${path} must hold a mapping of settings`)
  return doc as Record<string, unknown>
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

/**
 * Loads configuration: defaults ← atrium.yaml (ATRIUM_CONFIG) ← environment ← overrides.
 * Throws ConfigError with one message naming the bad setting.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Record<string, unknown> = {}): Config {
  const raw: Record<string, any> = env.ATRIUM_CONFIG ? readYaml(env.ATRIUM_CONFIG) : {}
  for (const [name, path, parse] of ENV_SETTINGS) {
    const value = env[name]
    if (value !== undefined && value !== '') setPath(raw, path, parse(value, name))
  }
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(CLIENT_PREFIX) || !value) continue
    const client = name.slice(CLIENT_PREFIX.length).toLowerCase()
    if (!client) throw new ConfigError(`${name}: the variable must name a client, e.g. ATRIUM_CLIENT_SHOP=postgres://...`)
    raw.sources ??= {}
    raw.sources[client] = { ...(raw.sources[client] ?? {}), url: value }
  }
  for (const [path, value] of Object.entries(overrides)) setPath(raw, path, value)

  const withDefaults = Value.Default(ConfigSchema, Value.Clone(raw))
  const first = Value.Errors(ConfigSchema, withDefaults).First()
  if (first) {
    const setting = first.path.replace(/^\//, '').replaceAll('/', '.') || '(root)'
    // name the variable that was actually set (the last one applied wins), else the first that could be
    const candidates = ENV_SETTINGS.filter(([, p]) => p === setting).map(([name]) => name)
    const envName = candidates.filter((name) => env[name]).at(-1) ?? candidates[0]
    // a source's name and url can come from ATRIUM_CLIENT_<NAME>; its other settings only from the file
    const sourceSetting = /^sources\.([^.]+)(\.url)?$/.exec(setting)
    const hint = envName ? ` (env ${envName})` : sourceSetting ? ' (atrium.yaml or ATRIUM_CLIENT_<NAME>)' : setting.startsWith('sources.') ? ' (atrium.yaml)' : ''
    const badSourceName = sourceSetting && !sourceSetting[2] && first.message === 'Unexpected property'
    const message = badSourceName
      ? `"${sourceSetting[1]}" is not a valid client name: use lower-case letters, digits, _ and -, not starting with -`
      : first.message === 'Unexpected property' ? 'is not a known setting' : first.message.toLowerCase()
    throw new ConfigError(`invalid setting ${setting}${hint}: ${message}`)
  }
  const config = withDefaults as Config
  for (const [name, source] of Object.entries(config.sources)) assertSourceUrl(`sources.${name}.url`, source.url)
  if (config.catalog.url) assertSourceUrl('catalog.url (env DATABASE_URL)', config.catalog.url, ['postgres:', 'postgresql:'])
  if (config.objects.s3.endpoint) assertSourceUrl('objects.s3.endpoint (env S3_ENDPOINT)', config.objects.s3.endpoint, ['http:', 'https:'])
  if (config.objects.publicBaseUrl) assertSourceUrl('objects.publicBaseUrl (env ATRIUM_OBJECTS_PUBLIC_URL)', config.objects.publicBaseUrl, ['http:', 'https:'])
  if (config.provisioning.postgresUrl) assertSourceUrl('provisioning.postgresUrl (env ATRIUM_MANAGED_POSTGRES_URL)', config.provisioning.postgresUrl, ['postgres:', 'postgresql:'])
  if (config.provisioning.mysqlUrl) assertSourceUrl('provisioning.mysqlUrl (env ATRIUM_MANAGED_MYSQL_URL)', config.provisioning.mysqlUrl, ['mysql:', 'mariadb:'])
  for (const [name, region] of Object.entries(config.provisioning.regions)) {
    if (region.postgresUrl) assertSourceUrl(`provisioning.regions.${name}.postgresUrl`, region.postgresUrl, ['postgres:', 'postgresql:'])
    if (region.mysqlUrl) assertSourceUrl(`provisioning.regions.${name}.mysqlUrl`, region.mysqlUrl, ['mysql:', 'mariadb:'])
  }
  if (config.sessions.jwksUrl) assertSourceUrl('sessions.jwksUrl (env ATRIUM_JWKS_URL)', config.sessions.jwksUrl, ['http:', 'https:'])
  for (const name of Object.keys(config.pipelines.templates)) assertPipelineTemplate(name, config.pipelines.templates)
  return deepFreeze(config)
}

/** a template is checked like a request naming it: parts that belong together, cursor column, every expression */
function assertPipelineTemplate(name: string, templates: Config['pipelines']['templates']): void {
  try {
    definePipeline({ pipeline: name }, { client: 'default', templates, defaultBatchSize: 1 })
  } catch (err) {
    throw new ConfigError(`invalid setting pipelines.templates.${name}: ${(err as Error).message}`)
  }
}

export function assertSourceUrl(setting: string, url: string, schemes = ['postgres:', 'postgresql:', 'mysql:', 'mariadb:']): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError(`invalid setting ${setting}: not a URL`)
  }
  if (!schemes.includes(parsed.protocol)) {
    throw new ConfigError(`invalid setting ${setting}: scheme "${parsed.protocol.replace(':', '')}" is not one of ${schemes.map((s) => s.replace(':', '')).join(', ')}`)
  }
}
