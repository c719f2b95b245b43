// The backup tables in the catalog (atrium.backups, backup_jobs, backup_schedules): typed reads and writes, no I/O
// beyond the catalog. A backup job's status comes from its durable job record (atrium.jobs).
import { AppError } from '../errors/app-error.js'
import type { Executor } from '../sources/driver.js'
import type { TableCount } from './backup-engines.js'

export interface BackupRecord {
  key: string
  client_name: string
  engine: 'postgres' | 'mysql'
  format: string
  label: string | null
  size_bytes: number
  sha256: string
  server_version: string
  tool_version: string
  tables: TableCount[]
  job_id: number
  schedule_id: number | null
  created_at: string
  completed_at: string
}

export interface BackupJobRecord {
  id: number
  job_type: 'backup' | 'restore'
  client_name: string
  label: string | null
  /** the archive: written by a backup job, read by a restore */
  key: string
  s3_key: string
  schedule_id: number | null
  force: boolean
  status: string
  progress_pct: number
  progress_stage: string | null
  error_code: string | null
  error_message: string | null
  attempts: number
  /** the durable job behind it, also under /admin/jobs/{id} */
  job_uuid: string
  created_at: string
  updated_at: string
  completed_at: string | null
}

export interface ScheduleFields {
  client_name: string
  cron: string
  frequency: string | null
  time_of_day: string | null
  day_of_week: number | null
  day_of_month: number | null
  keep_last: number | null
  label: string | null
  enabled: boolean
}

export interface ScheduleRecord extends ScheduleFields {
  id: number
  last_run_at: string | null
  created_at: string
  updated_at: string
}

const BACKUP_COLUMNS = `key, client_name, engine, format, label, size_bytes, sha256, server_version, tool_version, tables,
  backup_job_id, schedule_id, created_at, completed_at`

// a job whose record was pruned (jobs.recordRetentionDays) is shown as finished, its outcome unknown
const JOB_COLUMNS = `b.id, b.job_type, b.client_name, b.label, b.backup_key, b.schedule_id, b.force, b.job_id, b.created_at,
  COALESCE(j.status, 'unknown') AS status, COALESCE(j.progress, 0) AS progress, j.progress_message, j.error_code, j.error_message,
  COALESCE(j.attempts, 0) AS attempts, COALESCE(j.updated_at, b.created_at) AS updated_at, j.finished_at`

const SCHEDULE_COLUMNS = `id, client_name, cron, frequency, time_of_day, day_of_week, day_of_month, keep_last, label, enabled,
  last_run_at, created_at, updated_at`

const MAX_PAGE = 100

export class BackupStore {
  constructor(private readonly db: Executor) {}

  // ---- archives

  async insertBackup(tx: Executor, b: Omit<BackupRecord, 'created_at' | 'completed_at'> & { created_at: string }): Promise<void> {
    await tx.query({
      sql: `INSERT INTO atrium.backups (key, client_name, engine, format, label, size_bytes, sha256, server_version, tool_version, tables, backup_job_id, schedule_id, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13)
            ON CONFLICT (key) DO NOTHING`,
      params: [b.key, b.client_name, b.engine, b.format, b.label, b.size_bytes, b.sha256, b.server_version, b.tool_version, JSON.stringify(b.tables), b.job_id, b.schedule_id, b.created_at],
    })
  }

  async getBackup(key: string): Promise<BackupRecord | null> {
    const res = await this.db.query({ sql: `SELECT ${BACKUP_COLUMNS} FROM atrium.backups WHERE key = $1`, params: [key] })
    return res.rows[0] ? toBackup(res.rows[0]) : null
  }

  /** newest first; the cursor is the last key's position */
  async listBackups(filter: { client_name?: string; limit?: number; cursor?: string }): Promise<{ backups: BackupRecord[]; next_cursor: string | null }> {
    const limit = Math.min(Math.max(filter.limit ?? 20, 1), MAX_PAGE)
    const params: unknown[] = []
    const where: string[] = []
    if (filter.client_name) where.push(`lower(client_name) = lower($${params.push(filter.client_name)})`)
    if (filter.cursor) {
      const after = decodeCursor(filter.cursor)
      where.push(`(completed_at, key) < ($${params.push(after.at)}::timestamptz, $${params.push(after.key)})`)
    }
    const res = await this.db.query({
      sql: `SELECT ${BACKUP_COLUMNS}, to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
            FROM atrium.backups ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
            ORDER BY completed_at DESC, key DESC LIMIT ${limit + 1}`,
      params,
    })
    const rows = res.rows.slice(0, limit)
    const last = rows[rows.length - 1]
    return {
      backups: rows.map(toBackup),
      next_cursor: res.rows.length > limit && last ? Buffer.from(JSON.stringify([last.cursor_at, last.key])).toString('base64url') : null,
    }
  }

  /** the schedule's archives past the newest `keep`, oldest last */
  async surplusOfSchedule(scheduleId: number, keep: number): Promise<string[]> {
    const res = await this.db.query({
      sql: `SELECT key FROM atrium.backups WHERE schedule_id = $1 ORDER BY completed_at DESC, key DESC OFFSET $2`,
      params: [scheduleId, keep],
    })
    return res.rows.map((r) => r.key as string)
  }

  async deleteBackup(key: string): Promise<boolean> {
    const res = await this.db.query({ sql: `DELETE FROM atrium.backups WHERE key = $1 RETURNING key`, params: [key] })
    return res.rows.length === 1
  }

  // ---- backup and restore jobs

  /** reserves the job's number (the key of a backup is made from it) */
  async nextJobNumber(tx: Executor): Promise<number> {
    const res = await tx.query({ sql: `SELECT nextval(pg_get_serial_sequence('atrium.backup_jobs', 'id')) AS id`, params: [] })
    return Number(res.rows[0]!.id)
  }

  async insertJob(tx: Executor, j: { id: number; job_uuid: string; job_type: 'backup' | 'restore'; client_name: string; label: string | null; key: string; schedule_id: number | null; force: boolean }): Promise<void> {
    await tx.query({
      sql: `INSERT INTO atrium.backup_jobs (id, job_id, job_type, client_name, label, backup_key, schedule_id, force) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      params: [j.id, j.job_uuid, j.job_type, j.client_name, j.label, j.key, j.schedule_id, j.force],
    })
  }

  async getJob(id: number): Promise<BackupJobRecord | null> {
    const res = await this.db.query({ sql: `SELECT ${JOB_COLUMNS} FROM atrium.backup_jobs b LEFT JOIN atrium.jobs j ON j.id = b.job_id WHERE b.id = $1`, params: [id] })
    return res.rows[0] ? toJob(res.rows[0]) : null
  }

  async listJobs(filter: { client_name?: string; status?: string; limit?: number }): Promise<BackupJobRecord[]> {
    const limit = Math.min(Math.max(filter.limit ?? 20, 1), MAX_PAGE)
    const params: unknown[] = []
    const where: string[] = []
    if (filter.client_name) where.push(`lower(b.client_name) = lower($${params.push(filter.client_name)})`)
    if (filter.status) where.push(`COALESCE(j.status, 'unknown') = $${params.push(filter.status)}`)
    const res = await this.db.query({
      sql: `SELECT ${JOB_COLUMNS} FROM atrium.backup_jobs b LEFT JOIN atrium.jobs j ON j.id = b.job_id
            ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY b.id DESC LIMIT ${limit}`,
      params,
    })
    return res.rows.map(toJob)
  }

  async deleteJob(id: number): Promise<boolean> {
    const res = await this.db.query({ sql: `DELETE FROM atrium.backup_jobs WHERE id = $1 RETURNING id`, params: [id] })
    return res.rows.length === 1
  }

  // ---- schedules

  async insertSchedule(s: ScheduleFields): Promise<ScheduleRecord> {
    const res = await this.db.query({
      sql: `INSERT INTO atrium.backup_schedules (client_name, cron, frequency, time_of_day, day_of_week, day_of_month, keep_last, label, enabled)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${SCHEDULE_COLUMNS}`,
      params: [s.client_name, s.cron, s.frequency, s.time_of_day, s.day_of_week, s.day_of_month, s.keep_last, s.label, s.enabled],
    })
    return toSchedule(res.rows[0]!)
  }

  async updateSchedule(id: number, s: ScheduleFields): Promise<ScheduleRecord | null> {
    const res = await this.db.query({
      sql: `UPDATE atrium.backup_schedules SET client_name = $2, cron = $3, frequency = $4, time_of_day = $5, day_of_week = $6,
              day_of_month = $7, keep_last = $8, label = $9, enabled = $10, updated_at = now()
            WHERE id = $1 RETURNING ${SCHEDULE_COLUMNS}`,
      params: [id, s.client_name, s.cron, s.frequency, s.time_of_day, s.day_of_week, s.day_of_month, s.keep_last, s.label, s.enabled],
    })
    return res.rows[0] ? toSchedule(res.rows[0]) : null
  }

  async getSchedule(id: number, tx: Executor = this.db): Promise<ScheduleRecord | null> {
    const res = await tx.query({ sql: `SELECT ${SCHEDULE_COLUMNS} FROM atrium.backup_schedules WHERE id = $1`, params: [id] })
    return res.rows[0] ? toSchedule(res.rows[0]) : null
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    const res = await this.db.query({ sql: `SELECT ${SCHEDULE_COLUMNS} FROM atrium.backup_schedules ORDER BY id`, params: [] })
    return res.rows.map(toSchedule)
  }

  async deleteSchedule(id: number): Promise<boolean> {
    const res = await this.db.query({ sql: `DELETE FROM atrium.backup_schedules WHERE id = $1 RETURNING id`, params: [id] })
    return res.rows.length === 1
  }

  /**
   * Moves a schedule's last tick from `from` to `tick`; true for the one transaction that did. Several processes
   * may run the tick job for the same minute (or one after a crash): only one queues the backup.
   */
  async claimTick(tx: Executor, id: number, from: string | null, tick: Date): Promise<boolean> {
    const res = await tx.query({
      sql: `UPDATE atrium.backup_schedules SET last_run_at = $3 WHERE id = $1 AND enabled AND last_run_at IS NOT DISTINCT FROM $2::timestamptz RETURNING id`,
      params: [id, from, tick.toISOString()],
    })
    return res.rows.length === 1
  }
}

function decodeCursor(cursor: string): { at: string; key: string } {
  try {
    const [at, key] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]
    if (typeof at === 'string' && typeof key === 'string' && !Number.isNaN(Date.parse(at))) return { at, key }
  } catch {
    /* falls through */
  }
  throw new AppError('invalid_cursor', 'the cursor is not one this list returned', { hint: 'pass next_cursor from the previous page unchanged' })
}

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v == null ? null : String(v))

function toBackup(r: Record<string, unknown>): BackupRecord {
  return {
    key: r.key as string,
    client_name: r.client_name as string,
    engine: r.engine as BackupRecord['engine'],
    format: r.format as string,
    label: (r.label as string | null) ?? null,
    size_bytes: Number(r.size_bytes),
    sha256: r.sha256 as string,
    server_version: r.server_version as string,
    tool_version: r.tool_version as string,
    tables: (r.tables as TableCount[]) ?? [],
    job_id: Number(r.backup_job_id),
    schedule_id: r.schedule_id == null ? null : Number(r.schedule_id),
    created_at: iso(r.created_at)!,
    completed_at: iso(r.completed_at)!,
  }
}

function toJob(r: Record<string, unknown>): BackupJobRecord {
  return {
    id: Number(r.id),
    job_type: r.job_type as BackupJobRecord['job_type'],
    client_name: r.client_name as string,
    label: (r.label as string | null) ?? null,
    key: r.backup_key as string,
    s3_key: r.backup_key as string,
    schedule_id: r.schedule_id == null ? null : Number(r.schedule_id),
    force: Boolean(r.force),
    status: r.status as string,
    progress_pct: Math.round(Number(r.progress) * 100),
    progress_stage: (r.progress_message as string | null) ?? null,
    error_code: (r.error_code as string | null) ?? null,
    error_message: (r.error_message as string | null) ?? null,
    attempts: Number(r.attempts),
    job_uuid: r.job_id as string,
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
    completed_at: iso(r.finished_at),
  }
}

function toSchedule(r: Record<string, unknown>): ScheduleRecord {
  return {
    id: Number(r.id),
    client_name: r.client_name as string,
    cron: r.cron as string,
    frequency: (r.frequency as string | null) ?? null,
    time_of_day: (r.time_of_day as string | null) ?? null,
    day_of_week: r.day_of_week == null ? null : Number(r.day_of_week),
    day_of_month: r.day_of_month == null ? null : Number(r.day_of_month),
    keep_last: r.keep_last == null ? null : Number(r.keep_last),
    label: (r.label as string | null) ?? null,
    enabled: Boolean(r.enabled),
    last_run_at: iso(r.last_run_at),
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
  }
}
