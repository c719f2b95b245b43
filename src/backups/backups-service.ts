// Backups: queue a backup or restore of a client's database as a durable job, list and serve the archives, the
// backup jobs and the schedules. Refuses early (422, 409) what the job would only fail at later. Framework-free.
import type { Readable } from 'node:stream'
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import { AppError } from '../errors/app-error.js'
import type { JobQueue } from '../jobs/job-queue.js'
import type { ObjectStore, SignedUrl } from '../objects/object-store.js'
import type { Executor } from '../sources/driver.js'
import type { SourceRegistry } from '../sources/registry.js'
import type { Source } from '../sources/source.js'
import { backupEngines, type BackupEngine, type Engine } from './backup-engines.js'
import { backupJobHandlers, BACKUP_JOB, RESTORE_JOB, SCHEDULE_TICK_JOB } from './backup-jobs.js'
import { scheduleFields, type ScheduleInput } from './backup-schedules.js'
import { BackupStore, type BackupJobRecord, type BackupRecord, type ScheduleRecord } from './backup-store.js'

export type { BackupJobRecord, BackupRecord, ScheduleRecord } from './backup-store.js'

export interface BackupsDeps {
  catalog: Catalog
  jobs: JobQueue
  objects: ObjectStore
  registry: SourceRegistry
  config: Pick<Config, 'backups'>
  logger: Logger
}

export interface QueuedJob {
  job_id: number
  job_uuid: string
  client_name: string
  key: string
  status: string
}

const ACTIVE = new Set(['queued', 'running'])

export class Backups {
  readonly store: BackupStore
  readonly engines: Record<Engine, BackupEngine>

  constructor(private readonly deps: BackupsDeps) {
    this.store = new BackupStore(deps.catalog)
    this.engines = backupEngines(deps.config.backups)
  }

  get bucket(): string {
    return this.deps.config.backups.bucket
  }

  /** defines the backup, restore and schedule-tick jobs; the tick runs once a minute in whichever process has workers */
  async start(): Promise<void> {
    const { jobs, config } = this.deps
    const h = backupJobHandlers({ ...this.deps, store: this.store, engines: this.engines, bucket: this.bucket, enqueueBackup: (tx, o) => this.enqueueBackup(tx, o) })
    const expireIn = config.backups.jobTimeoutSeconds
    // a dump overwrites its own key, so a retry is safe; a restore is one transaction (PostgreSQL) or idempotent SQL
    await jobs.define(BACKUP_JOB, h.backup, { expireIn, retryLimit: 1 })
    await jobs.define(RESTORE_JOB, h.restore, { expireIn, retryLimit: 0 })
    await jobs.define(SCHEDULE_TICK_JOB, h.tick, { retryLimit: 0, expireIn: 120 })
    await jobs.schedule(SCHEDULE_TICK_JOB, '* * * * *')
  }

  /** queues a backup of `client_name` after checking that the dump program can dump its server */
  async create(input: { client_name: string; label?: string | null }): Promise<QueuedJob> {
    const source = this.source(input.client_name)
    await this.engineOf(source).checkDump(source)
    return this.deps.catalog.transaction((tx) => this.enqueueBackup(tx, { source, label: input.label ?? null, scheduleId: null }))
  }

  async list(filter: { client_name?: string; limit?: number; cursor?: string }): Promise<{ backups: BackupRecord[]; next_cursor: string | null }> {
    return this.store.listBackups(filter)
  }

  async get(key: string): Promise<BackupRecord> {
    const backup = await this.store.getBackup(key)
    if (!backup) throw new AppError('backup_not_found', `no backup ${JSON.stringify(key)}`, { hint: 'GET /admin/backups lists the backups and their keys' })
    return backup
  }

  /** the archive's bytes, streamed from the object store */
  async open(key: string): Promise<{ backup: BackupRecord; body: Readable; contentLength: number; contentType: string; filename: string }> {
    const backup = await this.get(key)
    const { body, contentLength } = await this.deps.objects.get({ bucket: this.bucket, key })
    const engine = this.engines[backup.engine]
    return { backup, body, contentLength, contentType: engine.contentType, filename: key.split('/').pop() ?? `backup.${engine.extension}` }
  }

  /** an expiring URL of the archive: the S3 server's own, or one this server answers (filesystem store) */
  async signedUrl(key: string, expiresIn: number): Promise<SignedUrl> {
    await this.get(key)
    return this.deps.objects.signedUrl({ bucket: this.bucket, key }, { method: 'GET', expiresIn })
  }

  async remove(key: string): Promise<void> {
    await this.get(key)
    // the row first: a crash in between leaves an unlisted object, never a listed backup without bytes
    await this.store.deleteBackup(key)
    await this.deps.objects.delete({ bucket: this.bucket, key })
  }

  /**
   * Queues a restore of backup `key` into `client_name`. A target in use (it has tables, or another session is
   * running a statement) is refused unless `force`: the restore replaces what is there.
   */
  async restore(key: string, input: { client_name: string; force?: boolean }): Promise<QueuedJob> {
    const backup = await this.get(key)
    const target = this.source(input.client_name)
    const engine = this.engineOf(target)
    if (engine.engine !== backup.engine) {
      throw new AppError('backup_target_mismatch', `backup ${key} is a ${backup.engine} archive, but client "${target.name}" is a ${target.dialect} database`, { hint: 'restore into a client of the same engine' })
    }
    await engine.checkRestore(backup.tool_version)
    if (!input.force) {
      const why = await engine.inUse(target)
      if (why) {
        throw new AppError('backup_target_in_use', `client "${target.name}" is in use: ${why}; the restore would replace its contents, so it needs "force": true`, {
          hint: 'send "force": true to restore anyway (tables in the archive are dropped and recreated), or restore into an empty client',
        })
      }
    }
    return this.deps.catalog.transaction(async (tx) => {
      const id = await this.store.nextJobNumber(tx)
      const job_uuid = await this.deps.jobs.enqueue(RESTORE_JOB, { backup_job: id }, { tx })
      await this.store.insertJob(tx, { id, job_uuid, job_type: 'restore', client_name: target.name, label: backup.label, key, schedule_id: null, force: Boolean(input.force) })
      return { job_id: id, job_uuid, client_name: target.name, key, status: 'queued' }
    })
  }

  // ---- jobs

  async listJobs(filter: { client_name?: string; status?: string; limit?: number }): Promise<BackupJobRecord[]> {
    return this.store.listJobs(filter)
  }

  async job(id: string): Promise<BackupJobRecord> {
    const n = /^\d{1,15}$/.test(id) ? Number(id) : NaN
    const job = Number.isSafeInteger(n) ? await this.store.getJob(n) : null
    if (!job) throw new AppError('job_not_found', `no backup job ${JSON.stringify(id)}`, { hint: 'GET /admin/backups/jobs lists them' })
    return job
  }

  /** cancels a queued or running job; its program is killed and a half-written archive removed */
  async cancelJob(id: string): Promise<BackupJobRecord> {
    const job = await this.job(id)
    if (ACTIVE.has(job.status)) await this.deps.jobs.cancel(job.job_uuid)
    return this.job(id)
  }

  /** forgets a job (cancelling it first when it still runs); its archive, if any, stays */
  async removeJob(id: string): Promise<void> {
    const job = await this.job(id)
    if (ACTIVE.has(job.status)) await this.deps.jobs.cancel(job.job_uuid)
    await this.store.deleteJob(job.id)
  }

  /** a signed URL of a backup job's archive, once the job has written it */
  async jobObjectUrl(id: string, expiresIn: number): Promise<SignedUrl> {
    return this.signedUrl((await this.job(id)).key, expiresIn)
  }

  // ---- schedules

  async listSchedules(): Promise<ScheduleRecord[]> {
    return this.store.listSchedules()
  }

  async schedule(id: string): Promise<ScheduleRecord> {
    const n = /^\d{1,15}$/.test(id) ? Number(id) : NaN
    const schedule = Number.isSafeInteger(n) ? await this.store.getSchedule(n) : null
    if (!schedule) throw new AppError('backup_schedule_not_found', `no backup schedule ${JSON.stringify(id)}`, { hint: 'GET /admin/backups/schedules lists them' })
    return schedule
  }

  async createSchedule(input: ScheduleInput): Promise<ScheduleRecord> {
    const fields = scheduleFields(input)
    fields.client_name = this.source(fields.client_name).name
    return this.store.insertSchedule(fields)
  }

  async updateSchedule(id: string, input: ScheduleInput): Promise<ScheduleRecord> {
    const fields = scheduleFields(input, await this.schedule(id))
    fields.client_name = this.source(fields.client_name).name
    return (await this.store.updateSchedule(Number(id), fields)) ?? this.schedule(id)
  }

  async removeSchedule(id: string): Promise<void> {
    await this.schedule(id)
    await this.store.deleteSchedule(Number(id))
  }

  /** queues the schedule's backup now (retention applies as after a tick) */
  async runSchedule(id: string): Promise<QueuedJob> {
    const schedule = await this.schedule(id)
    const source = this.source(schedule.client_name)
    await this.engineOf(source).checkDump(source)
    return this.deps.catalog.transaction((tx) => this.enqueueBackup(tx, { source, label: schedule.label, scheduleId: schedule.id }))
  }

  // ---- shared

  /** the job record, the durable job and the archive's key, in the caller's transaction */
  private async enqueueBackup(tx: Executor, o: { source: Source; label: string | null; scheduleId: number | null }): Promise<QueuedJob> {
    const id = await this.store.nextJobNumber(tx)
    const engine = this.engineOf(o.source)
    // sortable, unique by the job number, and the same on every retry of the job
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
    const key = `${o.source.name}/${stamp}-${id}.${engine.extension}`
    const job_uuid = await this.deps.jobs.enqueue(BACKUP_JOB, { backup_job: id }, { tx })
    await this.store.insertJob(tx, { id, job_uuid, job_type: 'backup', client_name: o.source.name, label: o.label, key, schedule_id: o.scheduleId, force: false })
    return { job_id: id, job_uuid, client_name: o.source.name, key, status: 'queued' }
  }

  /** the client named in a body; its absence or an unknown name is a 400 that says so */
  private source(name: string | undefined): Source {
    if (!name?.trim()) throw new AppError('invalid_request', 'client_name is required', { hint: 'name a registered client; GET /admin/clients lists them' })
    const source = this.deps.registry.get(name.trim().toLowerCase()) ?? this.deps.registry.get(name.trim())
    // a private source (an Assistant connection) is its owner's alone, as on every other surface
    if (!source || source.owner !== null) throw new AppError('unknown_client', `unknown client_name "${name}"`, { hint: 'client names are case-insensitive; GET /admin/clients lists them' })
    return source
  }

  private engineOf(source: Source): BackupEngine {
    return this.engines[source.dialect]
  }
}
