// The backup capability's durable jobs: make a backup, restore one, and the once-a-minute tick that queues the
// backups schedules are due for. Each handler may run again after a crash (pg-boss is at-least-once), so each
// one is safe to repeat: a backup is listed only by its last step, and a listed one is never dumped again.
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'
import { AppError } from '../errors/app-error.js'
import type { JobContext } from '../jobs/job-queue.js'
import type { ObjectStore } from '../objects/object-store.js'
import type { Executor } from '../sources/driver.js'
import type { SourceRegistry } from '../sources/registry.js'
import type { Source } from '../sources/source.js'
import type { BackupEngine, Engine } from './backup-engines.js'
import { dumpToStore, restoreFromStore, verifyArchive } from './backup-runner.js'
import { dueTick } from './backup-schedules.js'
import type { BackupJobRecord, BackupStore } from './backup-store.js'

export const BACKUP_JOB = 'backups.create'
export const RESTORE_JOB = 'backups.restore'
export const SCHEDULE_TICK_JOB = 'backups-schedule-tick'

export interface BackupJobDeps {
  catalog: Catalog
  objects: ObjectStore
  registry: SourceRegistry
  logger: Logger
  store: BackupStore
  engines: Record<Engine, BackupEngine>
  bucket: string
  enqueueBackup(tx: Executor, o: { source: Source; label: string | null; scheduleId: number | null }): Promise<unknown>
}

type Data = { backup_job: number }

export function backupJobHandlers(deps: BackupJobDeps) {
  const { store, objects, bucket } = deps

  const jobOf = async (data: Data): Promise<BackupJobRecord> => {
    const job = await store.getJob(Number(data.backup_job))
    if (!job) throw new AppError('backup_failed', `backup job ${data.backup_job} was deleted before it ran`)
    return job
  }
  const sourceOf = (name: string): Source => {
    const source = deps.registry.get(name)
    if (!source) throw new AppError('unknown_client', `client "${name}" is no longer registered`)
    return source
  }

  /** drops a schedule's archives past its keep_last, newest kept */
  const applyRetention = async (scheduleId: number): Promise<number> => {
    const schedule = await store.getSchedule(scheduleId)
    if (!schedule?.keep_last) return 0
    const surplus = await store.surplusOfSchedule(scheduleId, schedule.keep_last)
    for (const key of surplus) {
      await store.deleteBackup(key)
      await objects.delete({ bucket, key })
    }
    return surplus.length
  }

  async function backup(data: Data, ctx: JobContext): Promise<unknown> {
    const job = await jobOf(data)
    // a run after a crash that happened once the archive was listed: the archive stays as it is
    let listed = await store.getBackup(job.key)
    if (!listed) {
      const source = sourceOf(job.client_name)
      const engine = deps.engines[source.dialect]
      await ctx.progress(0.02, 'checking the dump program')
      const versions = await engine.checkDump(source)
      await ctx.progress(0.05, 'counting rows')
      const tables = await engine.tables(source)
      const startedAt = new Date().toISOString()
      await ctx.progress(0.1, 'dumping')
      const metadata: Record<string, string> = { client: source.name, engine: engine.engine, format: engine.format, job: String(job.id) }
      if (job.label) metadata.label = encodeURIComponent(job.label)
      const stored = await dumpToStore({ engine, source, objects, ref: { bucket, key: job.key }, metadata, signal: ctx.signal })
      await ctx.progress(0.95, 'recording')
      await ctx.step('record', async (tx) => {
        await store.insertBackup(tx, {
          key: job.key, client_name: source.name, engine: engine.engine, format: engine.format, label: job.label,
          ...stored, ...versions, tables, job_id: job.id, schedule_id: job.schedule_id, created_at: startedAt,
        })
      })
      listed = (await store.getBackup(job.key))!
    }
    const removed = job.schedule_id ? await applyRetention(job.schedule_id) : 0
    return { key: listed.key, size_bytes: listed.size_bytes, sha256: listed.sha256, tables: listed.tables.length, retention_removed: removed }
  }

  async function restore(data: Data, ctx: JobContext): Promise<unknown> {
    const job = await jobOf(data)
    const backup = await store.getBackup(job.key)
    if (!backup) throw new AppError('backup_not_found', `backup ${job.key} was deleted before the restore ran`)
    const target = sourceOf(job.client_name)
    const engine = deps.engines[target.dialect]
    if (engine.engine !== backup.engine) throw new AppError('backup_target_mismatch', `backup ${job.key} is a ${backup.engine} archive; client "${target.name}" is ${target.dialect}`)
    await ctx.progress(0.02, 'checking the restore program')
    await engine.checkRestore(backup.tool_version)
    await ctx.progress(0.05, 'verifying the checksum')
    const ref = { bucket, key: job.key }
    await verifyArchive(objects, ref, backup, ctx.signal)
    await ctx.progress(0.3, 'restoring')
    await restoreFromStore({ engine, target, objects, ref, signal: ctx.signal })
    // the restored tables may differ from what the schema cache knows
    await target.refreshSchema().catch((err: Error) => deps.logger.warn({ source: target.name, err: err.message }, 'schema refresh after restore failed'))
    return { key: job.key, client_name: target.name }
  }

  /** queues one backup for each enabled schedule with a tick since its last one */
  async function tick(): Promise<unknown> {
    const now = new Date()
    let queued = 0
    for (const schedule of await store.listSchedules()) {
      if (!schedule.enabled) continue
      const since = new Date(schedule.last_run_at ?? schedule.created_at)
      let due: Date | null
      try {
        due = dueTick(schedule.cron, since, now)
      } catch {
        continue // validated on save; an expression the parser no longer takes is skipped, not fatal to the others
      }
      if (!due) continue
      const source = deps.registry.get(schedule.client_name)
      if (!source) {
        deps.logger.warn({ schedule: schedule.id, client: schedule.client_name }, 'backup schedule names a client that is not registered')
        continue
      }
      const did = await deps.catalog.transaction(async (tx) => {
        if (!(await store.claimTick(tx, schedule.id, schedule.last_run_at, due))) return false
        await deps.enqueueBackup(tx, { source, label: schedule.label, scheduleId: schedule.id })
        return true
      })
      if (did) queued++
    }
    return { queued }
  }

  return { backup, restore, tick }
}
