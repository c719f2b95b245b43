// TypeBox schemas of the admin catalog routes (clients, statistics, vacuum health), after the gateway spec.
import { Type, type TSchema } from '@sinclair/typebox'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const Timestamp = Type.String({ format: 'date-time' })

export const ClientNameParams = Type.Object({ client_name: Type.String({ minLength: 1, maxLength: 256 }) })

export const ClientRecord = Type.Object({
  id: Type.String({ format: 'uuid' }),
  client_name: Type.String(),
  description: Nullable(Type.String()),
  pg_uri: Nullable(Type.String({ description: 'masked: the password is never returned' })),
  pg_uri_env_var: Nullable(Type.String()),
  config_uri_template: Nullable(Type.String()),
  source: Type.String(),
  is_active: Type.Boolean(),
  is_frozen: Type.Boolean(),
  visibility: Type.Union([Type.Literal('shared'), Type.Literal('private')], { description: 'private: an Assistant connection, reached only by its owner through /api' }),
  last_synced_from_config_at: Nullable(Timestamp),
  last_seen_at: Nullable(Timestamp),
  metadata: Type.Object({}, { additionalProperties: true }),
  created_at: Timestamp,
  updated_at: Timestamp,
  deleted_at: Nullable(Timestamp),
})

export const RuntimeClient = Type.Object({
  client_name: Type.String(),
  source: Type.String({ description: 'database (catalog), config or embedded' }),
  description: Nullable(Type.String()),
  pg_uri: Nullable(Type.String()),
  pg_uri_env_var: Nullable(Type.String()),
  config_uri_template: Nullable(Type.String()),
  is_active: Type.Boolean(),
  is_frozen: Type.Boolean(),
  visibility: Type.Union([Type.Literal('shared'), Type.Literal('private')]),
  pool_connected: Type.Boolean(),
  superuser: Nullable(Type.Boolean({ description: 'the source connects as a superuser (PostgreSQL rolsuper; MySQL SUPER or ALL PRIVILEGES on *.*); null until the database could be asked' })),
  warnings: Type.Array(Type.String(), { description: 'privileges the connecting role should not have, each with what to do' }),
})

export const SaveClientBody = Type.Object({
  client_name: Type.Optional(Type.String({ maxLength: 63 })),
  description: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
  pg_uri: Type.Optional(Nullable(Type.String({ maxLength: 4096 }))),
  pg_uri_env_var: Type.Optional(Nullable(Type.String({ maxLength: 128 }))),
  is_active: Type.Optional(Type.Boolean()),
}, { additionalProperties: false })

export const FreezeBody = Type.Object({ is_frozen: Type.Boolean() }, { additionalProperties: false })

export const ClientReply = Type.Object({ client: ClientRecord })
export const ClientsReply = Type.Object({ clients: Type.Array(ClientRecord), runtime: Type.Array(RuntimeClient) })

const ClientStatistics = Type.Object({
  client_name: Type.String(),
  total_requests: Type.Integer(),
  successful_requests: Type.Integer(),
  failed_requests: Type.Integer(),
  total_cached_requests: Type.Integer(),
  total_operations: Type.Integer(),
  last_request_at: Nullable(Timestamp),
  last_operation_at: Nullable(Timestamp),
  updated_at: Timestamp,
})

const TableStatistics = Type.Object({
  client_name: Type.String(),
  table_name: Type.String(),
  operation: Type.String(),
  total_operations: Type.Integer(),
  error_operations: Type.Integer(),
  cached_operations: Type.Integer(),
  last_operation_at: Nullable(Timestamp),
  updated_at: Timestamp,
})

export const StatisticsListReply = Type.Object({ statistics: Type.Array(ClientStatistics) })
export const StatisticsDetailReply = Type.Object({ statistics: ClientStatistics, tables: Type.Array(TableStatistics) })

const VacuumSnapshot = Type.Object({
  id: Type.Integer(),
  recorded_at: Timestamp,
  client_name: Type.String(),
  host: Nullable(Type.String()),
  instance_id: Nullable(Type.String({ format: 'uuid' })),
  total_dead_rows: Type.Integer(),
  tables_with_bloat: Type.Integer(),
  xid_freeze_risk: Type.Integer(),
  tables_needing_vacuum: Type.Integer(),
  freeze_max_age: Nullable(Type.Integer()),
  collection_error: Nullable(Type.String()),
})

const VacuumTableStat = Type.Object({
  id: Type.Integer(),
  snapshot_id: Type.Integer(),
  schemaname: Type.String(),
  relname: Type.String(),
  n_dead_tup: Type.Integer(),
  n_live_tup: Type.Integer(),
  dead_pct: Nullable(Type.Number()),
  last_vacuum: Nullable(Timestamp),
  last_autovacuum: Nullable(Timestamp),
  xid_age: Nullable(Type.Integer()),
  xid_age_pct_of_freeze_max: Nullable(Type.Number()),
})

const envelope = <T extends TSchema>(data: T) => Type.Object({ status: Type.Literal('success'), message: Type.String(), data })

export const VacuumListReply = envelope(Type.Object({ snapshots: Type.Array(VacuumSnapshot) }))
export const VacuumDetailReply = envelope(Type.Object({ snapshot: VacuumSnapshot, tables: Type.Array(VacuumTableStat) }))
export const VacuumCollectQuery = Type.Object({
  client_name: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'collect only this client' })),
}, { additionalProperties: false })

// durable jobs (src/jobs/job-store.ts JobRecord)
export const JobStatusSchema = Type.Union(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s)))
export const JobRecordSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  kind: Type.String(),
  owner: Nullable(Type.Object({ kind: Type.String({ description: 'key, user or tenant' }), id: Type.String() })),
  status: JobStatusSchema,
  progress: Type.Number({ minimum: 0, maximum: 1 }),
  progress_message: Nullable(Type.String()),
  attempts: Type.Integer(),
  max_attempts: Type.Integer(),
  result: Type.Unknown({ description: 'what the handler returned: a pointer or a summary' }),
  error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
  created_at: Timestamp,
  started_at: Nullable(Timestamp),
  finished_at: Nullable(Timestamp),
  updated_at: Timestamp,
  boss_job_id: Type.String({ format: 'uuid' }),
})
export const JobIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })
export const JobListQuery = Type.Object({
  kind: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  status: Type.Optional(JobStatusSchema),
  owner_kind: Type.Optional(Type.Union(['key', 'user', 'tenant'].map((s) => Type.Literal(s)))),
  owner_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'next_cursor of the previous page' })),
}, { additionalProperties: false })
export const JobListReply = envelope(Type.Object({ jobs: Type.Array(JobRecordSchema), next_cursor: Nullable(Type.String()) }))
export const JobReply = envelope(Type.Object({ job: JobRecordSchema }))
