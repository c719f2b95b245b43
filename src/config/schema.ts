// The one typed shape of Atrium's configuration, with its defaults. Validation only: no I/O here.
import { Type, type Static } from '@sinclair/typebox'
import { PipelineTemplateSchema } from '../pipelines/definition.js'

const Millis = (def: number, description: string) => Type.Integer({ minimum: 0, default: def, description })
/** a timeout where 0 would make every call fail at once, so it is not accepted */
const TimeoutMillis = (def: number, description: string) => Type.Integer({ minimum: 1, default: def, description })

/** pool settings; `withDefaults: false` for a source's own overrides, whose unset fields come from `pool` */
const poolFields = (withDefaults: boolean) => {
  const def = (value: number) => (withDefaults ? { default: value } : {})
  return {
    max: Type.Integer({ minimum: 1, maximum: 1000, ...def(10), description: 'connections per source' }),
    idleTimeoutMs: Type.Integer({ minimum: 0, ...def(30_000), description: 'close idle connections after this long' }),
    connectionTimeoutMs: Type.Integer({ minimum: 0, ...def(5_000), description: 'give up connecting after this long (answers 503)' }),
  }
}

export const PoolSettings = Type.Object(poolFields(true), { additionalProperties: false })

/** client names, as X-Athena-Client sends them (lower-cased) */
export const SOURCE_NAME_PATTERN = '^[a-z0-9_][a-z0-9_-]*$'

export const SourceSettings = Type.Object({
  url: Type.String({ minLength: 1, description: 'postgres://, postgresql://, mysql:// or mariadb:// URL' }),
  description: Type.Optional(Type.String()),
  schemas: Type.Optional(Type.Array(Type.String({ minLength: 1 }), {
    minItems: 1,
    description: 'exposed schemas, the first being the default for unqualified names; on MySQL/MariaDB the first is the database that is read',
  })),
  pool: Type.Optional(Type.Partial(Type.Object(poolFields(false), { additionalProperties: false }), { description: 'overrides of pool for this source; unset fields come from pool' })),
  statementTimeoutMs: Type.Optional(Type.Integer({ minimum: 0, description: 'instead of gateway.statementTimeoutMs for this source; 0 = none' })),
}, { additionalProperties: false })

const RouteProtection = (def: 'public' | 'key') => Type.Union([Type.Literal('public'), Type.Literal('key')], { default: def })

export const ConfigSchema = Type.Object({
  server: Type.Object({
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8000 }),
    bodyLimitBytes: Type.Integer({ minimum: 1024, default: 16 * 1024 * 1024 }),
    corsOrigins: Type.Array(Type.String(), { default: ['*'] }),
    trustProxy: Type.Array(Type.String(), { default: [], description: 'addresses/CIDRs of proxies whose X-Forwarded-For is believed' }),
    shutdownTimeoutMs: Millis(10_000, 'on SIGTERM/SIGINT the whole shutdown (in-flight requests, pools, catalog) may take this long plus 5 s before the process exits with status 1'),
    logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  }, { additionalProperties: false, default: {} }),
  dataDir: Type.String({ minLength: 1, default: './.atrium' }),
  catalog: Type.Object({
    url: Type.Optional(Type.String({ minLength: 1 })),
    embeddedPort: Type.Integer({ minimum: 0, maximum: 65535, default: 0, description: '0 picks a free port' }),
  }, { additionalProperties: false, default: {} }),
  adminKey: Type.Optional(Type.String({ minLength: 16 })),
  secretKey: Type.Optional(Type.String({ minLength: 32, description: 'encrypts stored connection strings' })),
  redisUrl: Type.Optional(Type.String({ minLength: 1 })),
  pool: Type.Object(PoolSettings.properties, { additionalProperties: false, default: {} }),
  // additionalProperties: a name that does not match the pattern is an error, not a source silently skipped
  sources: Type.Record(Type.String({ pattern: SOURCE_NAME_PATTERN }), SourceSettings, { default: {}, additionalProperties: false }),
  gateway: Type.Object({
    requireTenantHeaders: Type.Boolean({ default: false, description: 'structured gateway writes (insert, update with update_body, delete) need X-Company-Id and X-Organization-Id' }),
    statementTimeoutMs: Millis(30_000, 'statement timeout of every source without its own, on every route (gateway, raw SQL, /rest/v1, management); 0 = none'),
    cacheTtlMs: Millis(5_000, 'fetch result cache lifetime; 0 disables the cache'),
    cacheMaxEntries: Type.Integer({ minimum: 0, default: 1_000 }),
    streamThresholdRows: Type.Integer({ minimum: 1, default: 1_000, description: 'unbounded reads larger than this stream through a cursor' }),
    requestLogFlushMs: Millis(1_000, 'how often the request log is written to the catalog; 0 = only when client statistics are read and at shutdown'),
    requestLogRetentionDays: Type.Integer({ minimum: 0, default: 0, description: 'request log rows older than this many days are deleted every hour; 0 keeps them all' }),
    schemaRefreshMs: Millis(0, 'periodic schema cache refresh; 0 = only on demand'),
    upstreamAllowedHosts: Type.Array(Type.String({ minLength: 1 }), { default: ['*.supabase.co'], description: 'hosts X-Athena-Client: custom_supabase may forward to; *.domain matches subdomains' }),
    upstreamTimeoutMs: TimeoutMillis(15_000, 'timeout for one forwarded upstream call'),
    // raw SQL results are capped so one query cannot fill the process's memory
    rawSql: Type.Object({
      maxRows: Type.Integer({ minimum: 1, default: 10_000, description: 'rows of a raw SQL result sent back; more are cut off and the reply says truncated' }),
      maxBytes: Type.Integer({ minimum: 1024, default: 16 * 1024 * 1024, description: 'JSON bytes of a raw SQL result sent back; rows past this are cut off and the reply says truncated' }),
    }, { additionalProperties: false, default: {} }),
  }, { additionalProperties: false, default: {} }),
  rest: Type.Object({
    envelope: Type.Union([Type.Literal('none'), Type.Literal('data')], { default: 'none' }),
    defaultClient: Type.Optional(Type.String({ minLength: 1, description: '/rest/v1 requests without X-Athena-Client use this client' })),
    maxRows: Type.Optional(Type.Integer({ minimum: 1 })),
    aggregatesEnabled: Type.Boolean({ default: true, description: 'count(), sum(), avg(), min() and max() in /rest/v1 select lists (PostgREST db-aggregates-enabled)' }),
  }, { additionalProperties: false, default: {} }),
  cluster: Type.Object({
    mirrors: Type.Array(Type.String(), { default: [] }),
    probeTimeoutMs: TimeoutMillis(2_000, 'timeout for each mirror probe'),
  }, { additionalProperties: false, default: {} }),
  security: Type.Object({
    enforceApiKeys: Type.Boolean({ default: true, description: 'initial global enforcement for a fresh catalog' }),
    keyCacheTtlMs: Millis(10_000, 'how long a validated key is trusted before the catalog is asked again'),
    failOpenMinutes: Type.Integer({ minimum: 0, default: 0, description: 'when the catalog is down, keep accepting keys validated within this many minutes; 0 fails closed' }),
    lockInSourceAddress: Type.Boolean({ default: false, description: 'lock-in keys also bind to the first source address' }),
    protect: Type.Object({
      schema: RouteProtection('key'),
      registry: RouteProtection('key'),
      openapi: RouteProtection('public'),
      clients: RouteProtection('key'),
      metrics: RouteProtection('key'),
    }, { additionalProperties: false, default: {} }),
  }, { additionalProperties: false, default: {} }),
  vacuumHealth: Type.Object({
    enabled: Type.Boolean({ default: true, description: 'collect vacuum health of PostgreSQL clients on a schedule' }),
    schedule: Type.String({ pattern: '^\\S+( \\S+){4}$', default: '*/15 * * * *', description: 'cron expression (UTC, minute resolution) for the collector' }),
    retentionDays: Type.Integer({ minimum: 1, default: 14, description: 'snapshots older than this are deleted' }),
  }, { additionalProperties: false, default: {} }),
  jobs: Type.Object({
    workers: Type.Integer({ minimum: 0, maximum: 64, default: 2, description: 'jobs this process runs at once; 0 = it enqueues jobs but runs none (an API-only node)' }),
    pollIntervalMs: Type.Integer({ minimum: 100, default: 2_000, description: 'how often idle workers look for jobs a notification did not announce (retries that came due, other catalogs)' }),
    maintenanceIntervalSeconds: Type.Integer({ minimum: 1, default: 60, description: 'how often pg-boss expires jobs whose worker died and archives finished ones' }),
    shutdownGraceMs: Millis(5_000, 'on stop, running handlers get this long to end after their signal is aborted; then their jobs are handed back'),
    recordRetentionDays: Type.Integer({ minimum: 1, default: 30, description: 'finished job records older than this are deleted' }),
  }, { additionalProperties: false, default: {} }),
  events: Type.Object({
    pollMs: TimeoutMillis(1_000, 'how often each process reads events no announcement told it of; a lost NOTIFY or Redis message delays an event by at most this'),
    recoverAfterMs: TimeoutMillis(10_000, 'the event of a data-source write still pending after this long (its process died between the source commit and publishing) is resolved by asking the source'),
    retentionDays: Type.Integer({ minimum: 1, default: 7, description: 'committed events older than this many days are deleted every hour' }),
    redisChannel: Type.String({ minLength: 1, default: 'atrium:events', description: 'Redis channel of event announcements (with REDIS_URL); deployments sharing one Redis use different channels' }),
  }, { additionalProperties: false, default: {} }),
  admission: Type.Object({
    flushMs: Millis(1_000, 'how often the buffered admission events (refused requests) are written to the catalog; 0 = only at shutdown'),
    bufferSize: Type.Integer({ minimum: 1, default: 10_000, description: 'most admission events held while the catalog is slow or down; further refusals are dropped and counted' }),
    retentionDays: Type.Integer({ minimum: 0, default: 30, description: 'admission events older than this many days are deleted every hour; 0 keeps them all' }),
  }, { additionalProperties: false, default: {} }),
  deferred: Type.Object({
    resultTtlSeconds: Type.Integer({ minimum: 1, default: 86_400, description: 'a finished deferred request\'s answer is served this long; then it reads as expired (and may be requeued)' }),
    retentionDays: Type.Integer({ minimum: 0, default: 7, description: 'deferred requests are deleted this many days after their answer expired, every hour; 0 keeps them' }),
    maxResultBytes: Type.Integer({ minimum: 1024, default: 16 * 1024 * 1024, description: 'largest answer a deferred request stores; a larger one fails with deferred_result_too_large' }),
    timeoutSeconds: Type.Integer({ minimum: 1, default: 300, description: 'a deferred request running longer than this is stopped and fails' }),
  }, { additionalProperties: false, default: {} }),
  pipelines: Type.Object({
    batchSize: Type.Integer({ minimum: 1, maximum: 10_000, default: 500, description: 'rows a pipeline reads, transforms and writes (in one transaction) per batch, unless the pipeline sets batch_size' }),
    simulateMaxRows: Type.Integer({ minimum: 1, maximum: 100_000, default: 1_000, description: 'rows /pipelines/simulate reads at most; the reply says truncated when the source holds more' }),
    sampleRows: Type.Integer({ minimum: 0, maximum: 1_000, default: 20, description: 'output rows /pipelines/simulate sends back as a sample' }),
    maxRejectedRows: Type.Integer({ minimum: 0, maximum: 10_000, default: 100, description: 'rejected rows (with their reasons) a run keeps in its result; all are counted' }),
    jobTimeoutSeconds: Type.Integer({ minimum: 10, default: 3_600, description: 'a pipeline job running longer than this is stopped (and retried, like any failed attempt)' }),
    templates: Type.Record(Type.String({ minLength: 1, maxLength: 128 }), PipelineTemplateSchema, { default: {}, description: 'named pipelines, listed by GET /pipelines/templates and run with {"pipeline": "<name>"}' }),
  }, { additionalProperties: false, default: {} }),
  realtime: Type.Object({
    maxConnections: Type.Integer({ minimum: 1, default: 10_000, description: 'WebSocket gateway connections this process holds at once; one more is refused with close code 4429' }),
    maxInFlight: Type.Integer({ minimum: 1, default: 16, description: 'messages of one connection being answered at once; one more is answered 429 too_many_in_flight' }),
    maxSubscriptions: Type.Integer({ minimum: 1, default: 100, description: 'subscriptions one connection may hold' }),
    maxMessageBytes: Type.Integer({ minimum: 1_024, default: 1_048_576, description: 'largest message a client may send; a larger one closes the connection (1009)' }),
    maxFetchRows: Type.Integer({ minimum: 1, default: 1_000, description: 'a gateway.fetch over the socket must ask for at most this many rows (limit or page_size): a reply is one message, held whole, where HTTP would stream' }),
    maxBufferedBytes: Type.Integer({ minimum: 1_024, default: 1_048_576, description: 'bytes queued for one connection that it has not read yet; past this it is a slow consumer: told and dropped' }),
    slowConsumerGraceMs: TimeoutMillis(5_000, 'a dropped slow consumer gets this long to read its backlog and the notice before its socket is cut'),
    authTimeoutMs: TimeoutMillis(10_000, 'a connection that presented no credential at the upgrade must send auth.hello within this long'),
    heartbeatMs: TimeoutMillis(30_000, 'how often the server pings each connection; one that has not answered the previous ping is cut'),
    recheckMs: TimeoutMillis(30_000, 'how often a connection\'s credential and its subscriptions\' rights are checked again (a revoked key or expired session is closed)'),
    watchRefreshMs: TimeoutMillis(5_000, 'how often a node re-reads which tables have subscribers on any node and which are enabled for capture (a change is also announced at once), and refreshes its own'),
    capturePollMs: TimeoutMillis(1_000, 'how often a node looks for captured changes of enabled tables when no notification woke it (MySQL/MariaDB sources are only polled)'),
    replayWindowSeconds: Type.Integer({ minimum: 1, default: 3_600, description: 'subscribe with since replays the events committed after it for this long; an older since is refused with 410 replay_unavailable (events are also pruned after events.retentionDays)' }),
    maxReplayEvents: Type.Integer({ minimum: 1, maximum: 100_000, default: 1_000, description: 'matching events one subscribe with since may replay; more is refused with 410 replay_unavailable (re-read the table instead)' }),
  }, { additionalProperties: false, default: {} }),
  webhooks: Type.Object({
    allowPrivate: Type.Boolean({ default: false, description: 'allow webhook URLs that resolve to loopback, private or link-local addresses (receivers inside your network)' }),
  }, { additionalProperties: false, default: {} }),
  rateLimits: Type.Object({
    perKey: Type.Integer({ minimum: 0, default: 0, description: 'requests per window per API key; 0 = unlimited' }),
    perClient: Type.Integer({ minimum: 0, default: 0 }),
    perIp: Type.Integer({ minimum: 0, default: 0 }),
    windowSeconds: Type.Integer({ minimum: 1, default: 1 }),
    outboundPerHost: Type.Integer({ minimum: 0, default: 0, description: 'calls per window Atrium makes to one upstream host' }),
    publicPerIp: Type.Integer({ minimum: 0, default: 10, description: 'calls per window one address may make to one public route, unless the route sets its own rate_limit; 0 = unlimited' }),
    keyPrefix: Type.String({ minLength: 1, default: 'atrium:rl', description: 'prefix of the counters in Redis; deployments sharing one Redis use different prefixes' }),
  }, { additionalProperties: false, default: {} }),
  // deadlines the caller cannot change, and what one key may hold of a client's raw-SQL connections
  deadlines: Type.Object({
    requestTimeoutMs: Millis(60_000, 'every request not answered within this long gets a coded 504 request_timeout and its raw SQL is cancelled; 0 = none'),
    requestReadTimeoutMs: TimeoutMillis(30_000, 'the request line, headers and body must arrive within this long, or the connection gets 408 and is closed'),
    headersTimeoutMs: TimeoutMillis(10_000, 'the request line and headers must arrive within this long'),
  }, { additionalProperties: false, default: {} }),
  rawSqlSessions: Type.Object({
    poolMax: Type.Integer({ minimum: 0, default: 0, description: 'connections per source for raw SQL, a pool separate from planned queries; 0 = half of the source pool.max, at least 1' }),
    maxConcurrentPerKey: Type.Integer({ minimum: 0, default: 0, description: 'raw-SQL requests one API key may have running at once in this process; 0 = one less than the client cap. A key never gets every slot of a client' }),
    maxConcurrentPerClient: Type.Integer({ minimum: 0, default: 0, description: 'raw-SQL requests one client may have running at once in this process; 0 = the size of its raw-SQL pool' }),
    queueTimeoutMs: Millis(10_000, 'a raw-SQL request over a cap waits this long for a turn before it gets 429 too_many_concurrent_queries; 0 = refuse at once'),
  }, { additionalProperties: false, default: {} }),
  objects: Type.Object({
    publicBaseUrl: Type.Optional(Type.String({ minLength: 1, description: 'base URL of the filesystem store\'s signed URLs (what clients reach this server as); unset: the address the server listens on' })),
    maxUploadBytes: Type.Integer({ minimum: 1, default: 5 * 1024 * 1024 * 1024, description: 'largest body one signed PUT (an object or one part) may carry' }),
    s3: Type.Object({
      bucket: Type.Optional(Type.String({ minLength: 1, description: 'S3 bucket holding every object; unset: the filesystem store under dataDir/objects' })),
      region: Type.String({ minLength: 1, default: 'us-east-1' }),
      endpoint: Type.Optional(Type.String({ minLength: 1, description: 'S3-compatible endpoint URL; unset: AWS' })),
      forcePathStyle: Type.Boolean({ default: false, description: 'path-style addressing (endpoint/bucket/key), needed by most self-hosted S3 servers' }),
      accessKeyId: Type.Optional(Type.String({ minLength: 1 })),
      secretAccessKey: Type.Optional(Type.String({ minLength: 1 })),
    }, { additionalProperties: false, default: {} }),
  }, { additionalProperties: false, default: {} }),
  // the servers the Databases API creates databases on, per region; region `local` is always there
  provisioning: Type.Object({
    postgresUrl: Type.Optional(Type.String({ minLength: 1, description: 'admin URL (a role that may CREATE DATABASE and CREATE ROLE) of the PostgreSQL server of region local; unset: the catalog\'s server' })),
    mysqlUrl: Type.Optional(Type.String({ minLength: 1, description: 'admin URL (a user that may CREATE DATABASE, CREATE USER and GRANT) of the MySQL/MariaDB server of region local; unset: no MySQL in region local' })),
    dockerSocket: Type.String({ minLength: 1, default: '/var/run/docker.sock', description: 'Docker Engine API socket for /admin/provision/instances requests that name an image; absent: such requests get 422 docker_unavailable' }),
    namePrefix: Type.String({ pattern: '^[a-z][a-z0-9_]{0,17}$', default: 'pk_', description: 'prefix of the generated database and login names (pk_<id>, pk_u_<id>)' }),
    quotaCheckCron: Type.String({ minLength: 9, maxLength: 100, default: '*/5 * * * *', description: 'cron (UTC) of the job that measures databases with a storage limit and enforces it' }),
    warmPool: Type.Object({
      postgres: Type.Integer({ minimum: 0, maximum: 100, default: 0, description: 'ready PostgreSQL databases kept per region that has a PostgreSQL server' }),
      mysql: Type.Integer({ minimum: 0, maximum: 100, default: 0, description: 'ready MySQL databases kept per region that has a MySQL server' }),
    }, { additionalProperties: false, default: {} }),
    regions: Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }), Type.Object({
      label: Type.Optional(Type.String({ minLength: 1 })),
      postgresUrl: Type.Optional(Type.String({ minLength: 1 })),
      mysqlUrl: Type.Optional(Type.String({ minLength: 1 })),
      warmPool: Type.Optional(Type.Object({ postgres: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })), mysql: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })) }, { additionalProperties: false })),
    }, { additionalProperties: false }), { default: {}, additionalProperties: false, description: 'further regions and their servers (atrium.yaml)' }),
  }, { additionalProperties: false, default: {} }),
  // /admin/provision/providers/* and /api/v2/supabase/ssl_enforcement: hosting providers' public APIs. A request
  // may bring its own token (and, where the spec allows, base URL); these are used when it does not.
  providers: Type.Object({
    timeoutMs: TimeoutMillis(20_000, 'one call to a provider\'s API must answer within this long, or the request gets 503 provider_unavailable'),
    neon: Type.Object({
      apiKey: Type.Optional(Type.String({ minLength: 1, description: 'Neon API key, used when a request has no api_key' })),
      apiBaseUrl: Type.String({ minLength: 1, default: 'https://console.neon.tech/api/v2', description: 'Neon API v2 base URL, used when a request has no api_base_url' }),
    }, { additionalProperties: false, default: {} }),
    railway: Type.Object({
      apiKey: Type.Optional(Type.String({ minLength: 1, description: 'Railway API token, used when a request has no api_key' })),
      graphqlUrl: Type.String({ minLength: 1, default: 'https://backboard.railway.com/graphql/v2', description: 'Railway public GraphQL API URL, used when a request has no graphql_url' }),
    }, { additionalProperties: false, default: {} }),
    render: Type.Object({
      apiKey: Type.Optional(Type.String({ minLength: 1, description: 'Render API key, used when a request has no api_key' })),
      apiBaseUrl: Type.String({ minLength: 1, default: 'https://api.render.com/v1', description: 'Render REST API base URL, used when a request has no api_base_url' }),
    }, { additionalProperties: false, default: {} }),
    supabase: Type.Object({
      accessToken: Type.Optional(Type.String({ minLength: 1, description: 'Supabase Management API access token, used when a request has no access_token' })),
      projectRef: Type.Optional(Type.String({ minLength: 1, description: 'Supabase project ref, used when a request has no project_ref' })),
      apiBaseUrl: Type.String({ minLength: 1, default: 'https://api.supabase.com', description: 'Supabase Management API base URL' }),
    }, { additionalProperties: false, default: {} }),
  }, { additionalProperties: false, default: {} }),
  // /admin/backups: the programs that dump and restore, where archives go, how long one job may run
  backups: Type.Object({
    pgDumpPath: Type.String({ minLength: 1, default: 'pg_dump', description: 'pg_dump program (a path, or a name looked up in PATH); its major version must be at least the server\'s' }),
    pgRestorePath: Type.String({ minLength: 1, default: 'pg_restore', description: 'pg_restore program' }),
    mysqlDumpPath: Type.String({ minLength: 1, default: 'mariadb-dump', description: 'mariadb-dump (or mysqldump) program' }),
    mysqlPath: Type.String({ minLength: 1, default: 'mariadb', description: 'mariadb (or mysql) client program, used to restore' }),
    bucket: Type.String({ minLength: 2, maxLength: 63, default: 'backups', description: 'object store bucket holding the archives' }),
    jobTimeoutSeconds: Type.Integer({ minimum: 5, default: 6 * 3600, description: 'a backup or restore job running longer is stopped (its program killed) and fails' }),
  }, { additionalProperties: false, default: {} }),
  // the Assistant API (/api): language-model providers and the limits of generated SQL
  assistant: Type.Object({
    openaiApiKey: Type.Optional(Type.String({ minLength: 1, description: 'API key of the openai provider (any OpenAI-compatible server)' })),
    openaiBaseUrl: Type.Optional(Type.String({ minLength: 1, description: 'base URL of the OpenAI-compatible server (Ollama, vLLM, llama.cpp…)' })),
    openaiModel: Type.String({ minLength: 1, default: 'gpt-4o-mini', description: 'model the openai provider asks for' }),
    anthropicApiKey: Type.Optional(Type.String({ minLength: 1, description: 'API key of the anthropic provider' })),
    anthropicBaseUrl: Type.Optional(Type.String({ minLength: 1, description: 'base URL of the Anthropic API' })),
    anthropicModel: Type.String({ minLength: 1, default: 'claude-3-5-haiku-latest', description: 'model the anthropic provider asks for' }),
    providerTimeoutMs: Type.Integer({ minimum: 1000, default: 60_000, description: 'one call to a provider fails after this long' }),
    promptTokenBudget: Type.Integer({ minimum: 200, maximum: 200_000, default: 4000, description: 'estimated tokens of schema description a prompt may carry' }),
    sampleRows: Type.Integer({ minimum: 0, maximum: 20, default: 0, description: 'sample rows per table shown to the model; 0 sends no row data' }),
    maxRows: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: 'rows returned by auto_execute and /api/execute' }),
    correctionRounds: Type.Integer({ minimum: 0, maximum: 2, default: 2, description: 'times a parse, schema or database error is sent back to the model' }),
    maxUploadBytes: Type.Integer({ minimum: 1024, default: 50 * 1024 * 1024, description: 'largest file /api/files/upload and /api/files/profile accept' }),
    uploadBucket: Type.String({ minLength: 2, maxLength: 63, default: 'assistant-uploads', description: 'object store bucket holding uploaded files, one folder per user' }),
    profileMemoryMb: Type.Integer({ minimum: 64, maximum: 65_536, default: 256, description: 'memory DuckDB may use to profile one file' }),
    allowPrivateConnections: Type.Boolean({ default: false, description: 'allow connections whose host resolves to a loopback, private or link-local address' }),
  }, { additionalProperties: false, default: {} }),
  // the Workspace API (DataCovey, docs/workspace.md): its warehouse engine and invitations
  workspace: Type.Object({
    invitationTtlHours: Type.Integer({ minimum: 1, maximum: 24 * 90, default: 168, description: 'an invitation becomes a user on the invitee\'s first sign-in within this long' }),
    duckdbMemoryLimit: Type.String({ pattern: '^[0-9]{1,6}(\\.[0-9]{1,3})?\\s?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$', default: '1GB', description: 'DuckDB memory limit of each tenant\'s warehouse database' }),
    duckdbThreads: Type.Integer({ minimum: 1, maximum: 256, default: 2, description: 'DuckDB threads of each tenant\'s warehouse database' }),
    pricePerTbUsd: Type.Number({ minimum: 0, default: 6.25, description: 'what a query costs per terabyte (10^12 bytes) it processes, in USD' }),
    dailyQuotaUsd: Type.Number({ minimum: 0, default: 10, description: 'what one tenant\'s queries may cost per UTC day; a run that would pass it is refused' }),
    monthlyQuotaUsd: Type.Number({ minimum: 0, default: 100, description: 'what one tenant\'s queries may cost per UTC calendar month' }),
    queryTimeoutSeconds: Type.Integer({ minimum: 5, maximum: 86_400, default: 900, description: 'a query job running longer is interrupted and its attempt fails (then retried, as any failed attempt)' }),
    exportUrlTtlSeconds: Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600, default: 3600, description: 'how long a download URL of an export (result exports and export jobs) stays valid' }),
    exportRetentionDays: Type.Integer({ minimum: 0, maximum: 3650, default: 7, description: 'an export\'s file is removed from the object store this many days after it was written (an hourly job); 0 keeps files for ever' }),
    approvalTtlDays: Type.Integer({ minimum: 1, maximum: 365, default: 15, description: 'an approval request left pending this long expires' }),
    approvalsInternalToken: Type.Optional(Type.String({ minLength: 16, description: 'the internal_token an external scheduler presents to POST /api/v1/approvals/expire (the admin key works too)' })),
  }, { additionalProperties: false, default: {} }),
  // Workspace agents (docs/agents.md): MCP and A2A endpoints reached through the agent gateway
  agents: Type.Object({
    allowPrivate: Type.Boolean({ default: false, description: 'allow agent endpoints whose host resolves to a loopback, private or link-local address' }),
    callTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 30_000, description: 'one routed call, test handshake or tools listing fails after this long' }),
    fanOutDeadlineMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000, description: 'route-project answers by then; an agent still working gets a timeout entry' }),
    fanOutConcurrency: Type.Integer({ minimum: 1, maximum: 1_000, default: 8, description: 'route-project calls at most this many of the project\'s agents at a time' }),
    toolsCacheTtlSeconds: Type.Integer({ minimum: 0, maximum: 86_400, default: 60, description: 'how long an agent\'s tools (MCP) or skills (A2A) are served from memory; 0 asks the agent every time' }),
    defaultPerSecond: Type.Integer({ minimum: 0, default: 10, description: 'routed calls per second to one agent without its own rate limit; 0 = unlimited' }),
    defaultPerMinute: Type.Integer({ minimum: 0, default: 120, description: 'routed calls per minute to one agent without its own rate limit; 0 = unlimited' }),
    defaultPerHour: Type.Integer({ minimum: 0, default: 3_600, description: 'routed calls per hour to one agent without its own rate limit; 0 = unlimited' }),
    defaultConcurrency: Type.Integer({ minimum: 0, default: 8, description: 'routed calls running at once to one agent without its own rate limit; 0 = unlimited' }),
  }, { additionalProperties: false, default: {} }),
  // the web console at /console (docs/console.md): static files built by `npm run build`
  console: Type.Object({
    dir: Type.Optional(Type.String({ minLength: 1, description: 'folder holding the built console (index.html and assets/); unset: dist/console of this installation' })),
  }, { additionalProperties: false, default: {} }),
  // users signed in elsewhere (Supabase Auth or any issuer) present JWTs; a role's rights are granted here only
  sessions: Type.Object({
    jwtSecret: Type.Optional(Type.String({ minLength: 32, description: 'HS256 secret that signs session tokens (Supabase: the project JWT secret)' })),
    jwksUrl: Type.Optional(Type.String({ minLength: 1, description: 'https URL of the issuer\'s JSON Web Key Set (RS256, ES256, EdDSA tokens)' })),
    audience: Type.Optional(Type.String({ minLength: 1, description: 'the aud claim a token must carry (Supabase: authenticated)' })),
    issuer: Type.Optional(Type.String({ minLength: 1, description: 'the iss claim a token must carry' })),
    roleRights: Type.Record(Type.String(), Type.Array(Type.String({ minLength: 1 })), { default: {}, description: 'JWT role claim → the rights it grants; unmapped roles have none' }),
  }, { additionalProperties: false, default: {} }),
}, { additionalProperties: false })

export type Config = Static<typeof ConfigSchema>
export type PoolConfig = Static<typeof PoolSettings>
