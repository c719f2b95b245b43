// Retention of export files (workspace.exportRetentionDays): an hourly scheduled job removes from the object store
// the file of every export that finished longer ago than the retention, then marks its row (file_deleted_at). The
// row stays, so the export is still listed and `download` can say the file is gone (410 workspace_export_expired).
//
// Delete first, mark second: a run killed between the two leaves a row whose object is already gone; the next run
// selects it again, deleting a missing object is not an error (both object stores), and it marks the row. Marking
// first would instead risk a marked row whose object is never deleted.
import type { Logger } from 'pino'
import type { Catalog } from '../../catalog/catalog.js'
import type { JobContext, JobQueue } from '../../jobs/job-queue.js'
import type { ObjectStore } from '../../objects/object-store.js'
import { EXPORTS_BUCKET } from './exports-service.js'

export const EXPORT_RETENTION_JOB = 'workspace.export-retention'
// a minute no other hourly job uses, so their work does not start together
const SCHEDULE = '29 * * * *'
// rows per batch: one catalog query, at most this many object deletes, one catalog update
const BATCH = 500
// a run stops after this many batches or this long; the next hourly run goes on where it stopped
const MAX_BATCHES = 20
const MAX_RUN_MS = 5 * 60_000

export interface ExportRetentionDeps {
  catalog: Catalog
  jobs: JobQueue
  objects: ObjectStore
  logger: Logger
  /** days a file is kept after its export finished; 0 keeps files for ever */
  days: number
}

export interface RetentionRun {
  /** files removed and rows marked by this run */
  removed: number
  /** objects that could not be deleted (left for the next run, which tries again) */
  failed: number
  /** true when the run stopped at its batch or time bound with rows possibly left */
  more: boolean
  /** why the first failed object could not be deleted */
  firstError?: string
}

/**
 * Defines the job in every process (a run sent while retention is off finishes at once, doing nothing) and keeps
 * the hourly schedule only while retention is on: the schedule lives in the catalog, so turning retention off
 * must remove what an earlier start created.
 */
export async function startExportRetentionJob(deps: ExportRetentionDeps): Promise<void> {
  await deps.jobs.define(EXPORT_RETENTION_JOB, async (_data, ctx) => {
    if (!deps.days) return { skipped: 'workspace.exportRetentionDays is 0: export files are kept' }
    const run = await removeExpiredExportFiles(deps, ctx.signal)
    if (run.failed) deps.logger.warn({ ...run, retentionDays: deps.days }, 'some expired export files could not be removed; the next run tries again')
    else if (run.removed) deps.logger.info({ ...run, retentionDays: deps.days }, 'expired export files removed')
    return run
  }, { retryLimit: 1, expireIn: Math.ceil(MAX_RUN_MS / 1000) * 2 })
  if (deps.days) await deps.jobs.schedule(EXPORT_RETENTION_JOB, SCHEDULE)
  else await deps.jobs.unschedule(EXPORT_RETENTION_JOB)
}

/** removes the files of exports finished more than `days` ago, in bounded batches; safe to run twice at once */
export async function removeExpiredExportFiles(deps: Pick<ExportRetentionDeps, 'catalog' | 'objects' | 'days'>, signal?: JobContext['signal']): Promise<RetentionRun> {
  const run: RetentionRun = { removed: 0, failed: 0, more: false }
  const deadline = Date.now() + MAX_RUN_MS
  // objects that failed to delete in this run are not selected again by it, so a failing store cannot spin the loop
  const skip: string[] = []
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    if (signal?.aborted || Date.now() > deadline) {
      run.more = true
      break
    }
    const rows = await deps.catalog.rows<{ id: string; object_key: string }>(
      `SELECT id, object_key FROM atrium.ws_exports
        WHERE object_key IS NOT NULL AND file_deleted_at IS NULL AND completed_at < now() - make_interval(days => $1)
          AND NOT (id = ANY($2::uuid[]))
        ORDER BY completed_at LIMIT $3`,
      [deps.days, skip, BATCH],
    )
    if (rows.length === 0) break
    const result = await deps.objects.deleteMany(EXPORTS_BUCKET, rows.map((r) => r.object_key))
    const deleted = new Set(result.deleted)
    const done = rows.filter((r) => deleted.has(r.object_key)).map((r) => r.id)
    for (const r of rows) if (!deleted.has(r.object_key)) skip.push(r.id)
    run.failed += rows.length - done.length
    run.firstError ??= result.errors[0] && `${result.errors[0].code}: ${result.errors[0].message}`
    if (done.length) {
      const marked = await deps.catalog.rows('UPDATE atrium.ws_exports SET file_deleted_at = now() WHERE id = ANY($1::uuid[]) AND file_deleted_at IS NULL RETURNING id', [done])
      run.removed += marked.length
    }
    if (rows.length < BATCH) break
    if (batch === MAX_BATCHES - 1) run.more = true
  }
  return run
}
