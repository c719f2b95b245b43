// /admin/backups*: backups of a client's database (queued as jobs), their archives (download, signed URL,
// delete, restore), the backup jobs and the schedules; admin key only. Bodies as the gateway spec has them.
import { Type, type TSchema } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Backups, BackupJobRecord, BackupRecord } from '../../backups/backups-service.js'
import type { ScheduleInput } from '../../backups/backup-schedules.js'
import { AppError } from '../../errors/app-error.js'
import { MAX_SIGNED_URL_SECONDS } from '../../objects/object-store.js'

export interface BackupRouteDeps {
  backups: Backups
}

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const Timestamp = Type.String({ format: 'date-time' })
// success bodies are bare, as the gateway spec and the SDK's backup client have them; errors use the gateway envelope
const bare = <T extends TSchema>(body: T) => body
const Name = Type.String({ minLength: 1, maxLength: 256 })
const Label = Nullable(Type.String({ maxLength: 500 }))

const CreateBody = Type.Object({
  client_name: Name,
  label: Type.Optional(Label),
  pg_uri: Type.Optional(Type.String({ description: 'not supported: register the database as a client and name it' })),
  recovery_strategy: Type.Optional(Type.Literal('none', { description: 'the SDK\'s option; only "none" is supported' })),
})
const RestoreBody = Type.Object({
  client_name: Name,
  force: Type.Optional(Type.Boolean({ description: 'restore into a client that is in use (has tables or running statements)' })),
  pg_uri: Type.Optional(Type.String({ description: 'not supported: register the database as a client and name it' })),
})
const Queued = bare(Type.Object({
  job_id: Type.Integer({ description: 'the backup job number: GET /admin/backups/jobs/{job_id}' }),
  job_uuid: Type.String({ format: 'uuid', description: 'the durable job: GET /admin/jobs/{job_uuid}' }),
  client_name: Type.String(),
  key: Type.String(),
  label: Label,
  status: Type.String(),
}))
const TableCount = Type.Object({ schema: Type.String(), name: Type.String(), rows: Nullable(Type.Integer()) })
const BackupItem = Type.Object({
  id: Type.String(), key: Type.String(), s3_key: Type.String(), s3_bucket: Type.String(),
  client_name: Type.String(), label: Label, engine: Type.String(), format: Type.String(),
  size_bytes: Type.Integer(), sha256: Type.String(), server_version: Type.String(), tool_version: Type.String(),
  tables: Type.Array(TableCount), job_id: Type.Integer(), schedule_id: Nullable(Type.Integer()),
  created_at: Timestamp, completed_at: Timestamp,
})
const JobItem = Type.Object({
  id: Type.Integer(), job_type: Type.String(), client_name: Type.String(), label: Label, key: Type.String(), s3_key: Type.String(),
  s3_bucket: Type.String(), schedule_id: Nullable(Type.Integer()), force: Type.Boolean(), status: Type.String(),
  progress_pct: Type.Integer(), progress_stage: Nullable(Type.String()), error_code: Nullable(Type.String()), error_message: Nullable(Type.String()),
  attempts: Type.Integer(), job_uuid: Type.String(), created_at: Timestamp, updated_at: Timestamp, completed_at: Nullable(Timestamp),
})
const ScheduleFields = {
  client_name: Name,
  cron: Type.String({ minLength: 1, maxLength: 200, description: 'five fields, UTC: minute hour day-of-month month day-of-week' }),
  frequency: Type.Union(['hourly', 'daily', 'weekly', 'monthly'].map((f) => Type.Literal(f))),
  time_of_day: Type.String({ description: 'HH:MM, UTC (frequency form)' }),
  day_of_week: Type.Integer({ minimum: 0, maximum: 6 }),
  day_of_month: Type.Integer({ minimum: 1, maximum: 28 }),
  keep_last: Nullable(Type.Integer({ minimum: 1, maximum: 1000, description: "archives of this schedule kept; older ones are deleted after each of its backups" })),
  label: Label,
  enabled: Type.Boolean(),
  execution_daemon_id: Type.String({ description: 'ignored: any process with workers runs the backups' }),
}
const ScheduleUpdate = Type.Partial(Type.Object(ScheduleFields), { minProperties: 1 })
const ScheduleCreate = Type.Object({ ...ScheduleUpdate.properties, client_name: Name })
const ScheduleItem = Type.Object({
  id: Type.Integer(), client_name: Type.String(), cron: Type.String(), frequency: Nullable(Type.String()), time_of_day: Nullable(Type.String()),
  day_of_week: Nullable(Type.Integer()), day_of_month: Nullable(Type.Integer()), keep_last: Nullable(Type.Integer()), label: Label,
  enabled: Type.Boolean(), last_run_at: Nullable(Timestamp), created_at: Timestamp, updated_at: Timestamp,
})
const KeyParams = Type.Object({ key: Type.String({ minLength: 1, maxLength: 1024, description: 'the backup key, URL-encoded (it contains "/")' }) })
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 32 }) })
const ListQuery = Type.Object({
  client_name: Type.Optional(Name),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'next_cursor of the previous page' })),
  api_key: Type.Optional(Type.String()),
})
const JobsQuery = Type.Object({
  client_name: Type.Optional(Name),
  status: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  api_key: Type.Optional(Type.String()),
})
const ExpiryQuery = Type.Object({
  expires_in: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SIGNED_URL_SECONDS, default: 900, description: 'seconds the URL is valid' })),
  api_key: Type.Optional(Type.String()),
})
const SignedUrlData = Type.Object({ url: Type.String(), method: Type.String(), expires_at: Timestamp })

type Key = { key: string }
type Id = { id: string }

export function backupRoutes(app: FastifyInstance, { backups }: BackupRouteDeps): void {
  const admin = (operation: string) => ({ operation, access: 'admin' as const })
  const tags = ['admin', 'backups']
  const bucket = backups.bucket
  const backupView = (b: BackupRecord) => ({ id: b.key, s3_key: b.key, s3_bucket: bucket, ...b })
  const jobView = (j: BackupJobRecord) => ({ ...j, s3_bucket: bucket })

  app.post('/admin/backups', {
    config: admin('admin.backups.create'),
    schema: { summary: 'Queue a backup of a client\'s database (pg_dump -Fc or mariadb-dump, into the object store)', tags, body: CreateBody, response: { 200: Queued } },
  }, async (req) => {
    const body = req.body as { client_name: string; label?: string | null; pg_uri?: string }
    refusePgUri(body.pg_uri)
    const queued = await backups.create(body)
    return { ...queued, label: body.label ?? null }
  })

  app.get('/admin/backups', {
    config: admin('admin.backups.list'),
    schema: { summary: 'List finished backups, newest first (filter by client_name; paged by cursor)', tags, querystring: ListQuery, response: { 200: bare(Type.Object({ backups: Type.Array(BackupItem), next_cursor: Nullable(Type.String()) })) } },
  }, async (req) => {
    const page = await backups.list(req.query as { client_name?: string; limit?: number; cursor?: string })
    return { backups: page.backups.map(backupView), next_cursor: page.next_cursor }
  })

  // static paths first in the reader's mind: /admin/backups/jobs… and /admin/backups/schedules… are not keys
  app.get('/admin/backups/jobs', {
    config: admin('admin.backups.jobs.list'),
    schema: { summary: 'Backup and restore jobs, newest first', tags, querystring: JobsQuery, response: { 200: bare(Type.Object({ jobs: Type.Array(JobItem) })) } },
  }, async (req) => {
    const jobs = await backups.listJobs(req.query as { client_name?: string; status?: string; limit?: number })
    return { jobs: jobs.map(jobView) }
  })

  app.get('/admin/backups/jobs/:id', {
    config: admin('admin.backups.jobs.get'),
    schema: { summary: 'One backup or restore job: status, progress, error', tags, params: IdParams, response: { 200: bare(JobItem) } },
  }, async (req) => {
    const job = await backups.job((req.params as Id).id)
    return jobView(job)
  })

  app.post('/admin/backups/jobs/:id/cancel', {
    config: admin('admin.backups.jobs.cancel'),
    schema: { summary: 'Cancel a queued or running job: its program is killed, a half-written archive removed', tags, params: IdParams, response: { 200: bare(JobItem) } },
  }, async (req) => {
    const job = await backups.cancelJob((req.params as Id).id)
    return jobView(job)
  })

  app.delete('/admin/backups/jobs/:id', {
    config: admin('admin.backups.jobs.delete'),
    schema: { summary: 'Forget a job (cancelled first if it still runs); its archive stays', tags, params: IdParams, response: { 200: bare(Type.Object({ id: Type.Integer() })) } },
  }, async (req) => {
    const { id } = req.params as Id
    await backups.removeJob(id)
    return { id: Number(id) }
  })

  app.get('/admin/backups/jobs/:id/s3-open', {
    config: admin('admin.backups.jobs.object_url'),
    schema: { summary: "A signed URL of a backup job's archive", tags, params: IdParams, querystring: ExpiryQuery, response: { 200: bare(SignedUrlData) } },
  }, async (req) => {
    const signed = await backups.jobObjectUrl((req.params as Id).id, (req.query as { expires_in: number }).expires_in)
    return signedView(signed)
  })

  app.get('/admin/backups/schedules', {
    config: admin('admin.backups.schedules.list'),
    schema: { summary: 'Backup schedules', tags, response: { 200: bare(Type.Object({ schedules: Type.Array(ScheduleItem) })) } },
  }, async () => {
    const schedules = await backups.listSchedules()
    return { schedules }
  })

  app.post('/admin/backups/schedules', {
    config: admin('admin.backups.schedules.create'),
    schema: { summary: 'Create a schedule: cron (or frequency) in UTC, keep_last archives', tags, body: ScheduleCreate, response: { 201: bare(ScheduleItem) } },
  }, async (req, reply) => {
    const schedule = await backups.createSchedule(req.body as ScheduleInput)
    return reply.status(201).send(schedule)
  })

  app.get('/admin/backups/schedules/:id', {
    config: admin('admin.backups.schedules.get'),
    schema: { summary: 'One backup schedule', tags, params: IdParams, response: { 200: bare(ScheduleItem) } },
  }, async (req) => {
    const schedule = await backups.schedule((req.params as Id).id)
    return schedule
  })

  app.patch('/admin/backups/schedules/:id', {
    config: admin('admin.backups.schedules.update'),
    schema: { summary: 'Change a schedule', tags, params: IdParams, body: ScheduleUpdate, response: { 200: bare(ScheduleItem) } },
  }, async (req) => {
    const schedule = await backups.updateSchedule((req.params as Id).id, req.body as ScheduleInput)
    return schedule
  })

  app.delete('/admin/backups/schedules/:id', {
    config: admin('admin.backups.schedules.delete'),
    schema: { summary: 'Delete a schedule (its archives stay)', tags, params: IdParams, response: { 200: bare(Type.Object({ id: Type.Integer() })) } },
  }, async (req) => {
    const { id } = req.params as Id
    await backups.removeSchedule(id)
    return { id: Number(id) }
  })

  app.post('/admin/backups/schedules/:id/run', {
    config: admin('admin.backups.schedules.run'),
    schema: { summary: "Queue the schedule's backup now (its keep_last applies)", tags, params: IdParams, response: { 200: Queued } },
  }, async (req) => {
    const schedule = await backups.schedule((req.params as Id).id)
    const queued = await backups.runSchedule(String(schedule.id))
    return { ...queued, label: schedule.label }
  })

  app.get('/admin/backups/:key', {
    config: admin('admin.backups.get'),
    schema: { summary: "One backup's metadata: engine, versions, size, sha256, tables and row counts", tags, params: KeyParams, response: { 200: bare(BackupItem) } },
  }, async (req) => {
    const backup = await backups.get((req.params as Key).key)
    return backupView(backup)
  })

  app.delete('/admin/backups/:key', {
    config: admin('admin.backups.delete'),
    schema: { summary: 'Delete a backup and its archive', tags, params: KeyParams, response: { 200: bare(Type.Object({ key: Type.String() })) } },
  }, async (req) => {
    const { key } = req.params as Key
    await backups.remove(key)
    return { key }
  })

  app.get('/admin/backups/:key/download', {
    config: admin('admin.backups.download'),
    schema: { summary: 'The archive\'s bytes (PostgreSQL: pg_dump custom format; MariaDB: gzipped SQL)', tags, params: KeyParams },
  }, async (req, reply) => {
    const { backup, body, contentLength, contentType, filename } = await backups.open((req.params as Key).key)
    return reply
      .type(contentType)
      .header('content-length', String(contentLength))
      .header('content-disposition', `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`)
      .header('x-backup-sha256', backup.sha256)
      .send(body)
  })

  app.get('/admin/backups/:key/url', {
    config: admin('admin.backups.signed_url'),
    schema: { summary: 'An expiring URL of the archive that needs no key', tags, params: KeyParams, querystring: ExpiryQuery, response: { 200: bare(SignedUrlData) } },
  }, async (req) => {
    const signed = await backups.signedUrl((req.params as Key).key, (req.query as { expires_in: number }).expires_in)
    return signedView(signed)
  })

  app.post('/admin/backups/:key/restore', {
    config: admin('admin.backups.restore'),
    schema: { summary: 'Queue a restore of the backup into client_name (the same client or another of the same engine)', tags, params: KeyParams, body: RestoreBody, response: { 200: Queued } },
  }, async (req) => {
    const body = req.body as { client_name: string; force?: boolean; pg_uri?: string }
    refusePgUri(body.pg_uri)
    const queued = await backups.restore((req.params as Key).key, body)
    return { ...queued, label: null }
  })
}

/** a connection string in a body would let a caller point the programs anywhere; targets are registered clients */
function refusePgUri(uri: string | undefined): void {
  if (uri === undefined) return
  throw new AppError('invalid_request', 'pg_uri is not supported: backups and restores name a registered client', {
    hint: 'register the database first (POST /admin/clients), then send its client_name',
  })
}

function signedView(s: { url: string; method: string; expiresAt: Date }) {
  return { url: s.url, method: s.method, expires_at: s.expiresAt.toISOString() }
}
