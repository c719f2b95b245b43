// Job records in the catalog (atrium.jobs, atrium.job_steps): typed reads and the status transitions; no queueing.
import type { Executor } from '../sources/driver.js'
import { encodePageCursor, ListConditions } from '../catalog/page-cursor.js'

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'

export interface JobOwner {
  kind: 'key' | 'user' | 'tenant'
  id: string
}

export interface JobError {
  code: string
  message: string
}

export interface JobRecord {
  id: string
  kind: string
  owner: JobOwner | null
  status: JobStatus
  progress: number
  progress_message: string | null
  attempts: number
  max_attempts: number
  result: unknown
  error: JobError | null
  created_at: string
  started_at: string | null
  finished_at: string | null
  updated_at: string
  boss_job_id: string
}

export interface JobListFilter {
  owner?: JobOwner
  kind?: string
  status?: JobStatus
  /** at most 100 */
  limit?: number
  /** next_cursor of the previous page */
  cursor?: string
}

export interface JobPage {
  jobs: JobRecord[]
  /** pass as `cursor` for the next page; null on the last page */
  next_cursor: string | null
}

const COLUMNS = `id, kind, owner_kind, owner_id, status, progress, progress_message, attempts, max_attempts, result,
  error_code, error_message, created_at, started_at, finished_at, updated_at, boss_job_id`

const MAX_PAGE = 100

export class JobStore {
  constructor(private readonly db: Executor) {}

  /** the record of a job just sent to pg-boss; `tx` is the caller's transaction, so both commit together */
  async insert(tx: Executor, job: { id: string; kind: string; owner: JobOwner | null; maxAttempts: number }): Promise<void> {
    await tx.query({
      sql: `INSERT INTO atrium.jobs (id, kind, owner_kind, owner_id, max_attempts, boss_job_id) VALUES ($1, $2, $3, $4, $5, $1)`,
      params: [job.id, job.kind, job.owner?.kind ?? null, job.owner?.id ?? null, job.maxAttempts],
    })
  }

  /**
   * A worker took the job: status running, attempts from pg-boss. A job pg-boss created on its own (a cron
   * schedule, a bare send) gets its record here. False when the record is already finished (cancelled in
   * between), and the handler must not run.
   */
  async markRunning(tx: Executor, job: { id: string; kind: string; attempt: number; maxAttempts: number }): Promise<boolean> {
    const res = await tx.query({
      sql: `INSERT INTO atrium.jobs AS j (id, kind, status, attempts, max_attempts, started_at, boss_job_id)
            VALUES ($1, $2, 'running', $3, $4, now(), $1)
            ON CONFLICT (id) DO UPDATE SET status = 'running', attempts = EXCLUDED.attempts,
              started_at = COALESCE(j.started_at, now()), updated_at = now()
            WHERE j.status IN ('queued', 'running')
            RETURNING id`,
      params: [job.id, job.kind, job.attempt, job.maxAttempts],
    })
    return res.rows.length === 1
  }

  async progress(id: string, fraction: number, message: string | null): Promise<void> {
    await this.db.query({
      sql: `UPDATE atrium.jobs SET progress = $2, progress_message = $3, updated_at = now() WHERE id = $1 AND status = 'running'`,
      params: [id, fraction, message],
    })
  }

  /** returns the job's owner (for the outcome event) */
  async succeed(tx: Executor, id: string, result: unknown): Promise<JobOwner | null> {
    const res = await tx.query({
      sql: `UPDATE atrium.jobs SET status = 'succeeded', progress = 1, result = $2::jsonb, error_code = NULL, error_message = NULL,
              finished_at = now(), updated_at = now() WHERE id = $1 RETURNING owner_kind, owner_id`,
      params: [id, result === undefined ? null : JSON.stringify(result)],
    })
    return ownerOf(res.rows[0])
  }

  /** an attempt failed: `final` when pg-boss has no retry left, else the job waits for its next attempt; returns the owner */
  async failAttempt(tx: Executor, id: string, error: JobError, final: boolean): Promise<JobOwner | null> {
    const res = await tx.query({
      sql: `UPDATE atrium.jobs SET status = $2, error_code = $3, error_message = $4,
              finished_at = CASE WHEN $2 = 'failed' THEN now() END, updated_at = now() WHERE id = $1 RETURNING owner_kind, owner_id`,
      params: [id, final ? 'failed' : 'queued', error.code, error.message],
    })
    return ownerOf(res.rows[0])
  }

  /** the worker stopped before the handler finished: the job is queued again and keeps its attempts */
  async handBack(tx: Executor, id: string): Promise<void> {
    await tx.query({ sql: `UPDATE atrium.jobs SET status = 'queued', updated_at = now() WHERE id = $1 AND status = 'running'`, params: [id] })
  }

  /** cancelled unless already finished; returns whether it was */
  async cancel(tx: Executor, id: string): Promise<boolean> {
    const res = await tx.query({
      sql: `UPDATE atrium.jobs SET status = 'cancelled', finished_at = now(), updated_at = now()
            WHERE id = $1 AND status IN ('queued', 'running') RETURNING id`,
      params: [id],
    })
    return res.rows.length === 1
  }

  async get(id: string, tx: Executor = this.db): Promise<JobRecord | null> {
    // a malformed id is simply no job; the uuid cast would otherwise be a 500
    if (!UUID.test(id)) return null
    const res = await tx.query({ sql: `SELECT ${COLUMNS} FROM atrium.jobs WHERE id = $1`, params: [id] })
    return res.rows.length ? toRecord(res.rows[0]) : null
  }

  /** newest first, `limit` per page (default 20, at most 100), paged by an opaque cursor */
  async list(filter: JobListFilter = {}): Promise<JobPage> {
    const limit = Math.min(Math.max(filter.limit ?? 20, 1), MAX_PAGE)
    const c = new ListConditions()
    if (filter.owner) c.add('owner_kind = ? AND owner_id = ?', filter.owner.kind, filter.owner.id)
    if (filter.kind) c.add('kind = ?', filter.kind)
    if (filter.status) c.add('status = ?', filter.status)
    c.afterCursor(filter.cursor)
    const res = await this.db.query({
      sql: `SELECT ${COLUMNS} FROM atrium.jobs ${c.where} ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`,
      params: c.params,
    })
    const jobs = res.rows.slice(0, limit).map(toRecord)
    const last = jobs[jobs.length - 1]
    return { jobs, next_cursor: res.rows.length > limit && last ? encodePageCursor(last) : null }
  }

  /**
   * Brings records in line with pg-boss after its maintenance: a job whose worker died is expired there
   * (queued again, or failed when no retry is left) while its record still says running.
   */
  async reconcile(bossSchema: string): Promise<number> {
    const res = await this.db.query({
      sql: `UPDATE atrium.jobs r SET
              status = CASE WHEN b.state = 'failed' THEN 'failed' WHEN b.state = 'cancelled' THEN 'cancelled' ELSE 'queued' END,
              error_code = CASE WHEN b.state = 'failed' THEN 'job_expired' ELSE r.error_code END,
              error_message = CASE WHEN b.state = 'failed' THEN 'the job ran longer than its expiry (or its worker died) and has no attempt left' ELSE r.error_message END,
              finished_at = CASE WHEN b.state IN ('failed', 'cancelled') THEN now() END,
              updated_at = now()
            FROM ${bossSchema}.job b
            WHERE r.status = 'running' AND b.id = r.boss_job_id AND b.name = r.kind AND b.state IN ('created', 'retry', 'failed', 'cancelled')`,
      params: [],
    })
    return res.affected
  }

  /** finished records older than `days` go (their steps with them) */
  async prune(days: number): Promise<number> {
    const res = await this.db.query({
      sql: `DELETE FROM atrium.jobs WHERE status IN ('succeeded', 'failed', 'cancelled') AND finished_at < now() - make_interval(days => $1)`,
      params: [days],
    })
    return res.affected
  }

  /**
   * Claims step `step` of a job inside `tx`: true when it is this transaction's to do. The claim is an insert
   * of the step's key, so a second run of the same job (after a crash) blocks on it until the first commits
   * and then finds it done; either the step's effect and its mark both commit, or neither does.
   */
  async claimStep(tx: Executor, jobId: string, step: string): Promise<{ claimed: true } | { claimed: false; output: unknown }> {
    const res = await tx.query({
      sql: `INSERT INTO atrium.job_steps (job_id, step) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING step`,
      params: [jobId, step],
    })
    if (res.rows.length) return { claimed: true }
    const done = await tx.query({ sql: `SELECT output FROM atrium.job_steps WHERE job_id = $1 AND step = $2`, params: [jobId, step] })
    return { claimed: false, output: done.rows[0]?.output ?? null }
  }

  async finishStep(tx: Executor, jobId: string, step: string, output: unknown): Promise<void> {
    await tx.query({
      sql: `UPDATE atrium.job_steps SET output = $3::jsonb WHERE job_id = $1 AND step = $2`,
      params: [jobId, step, output === undefined ? null : JSON.stringify(output)],
    })
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function ownerOf(row: Record<string, unknown> | undefined): JobOwner | null {
  return row?.owner_kind ? { kind: row.owner_kind as JobOwner['kind'], id: row.owner_id as string } : null
}

function toRecord(row: Record<string, unknown>): JobRecord {
  return {
    id: row.id as string,
    kind: row.kind as string,
    owner: row.owner_kind ? { kind: row.owner_kind as JobOwner['kind'], id: row.owner_id as string } : null,
    status: row.status as JobStatus,
    progress: Number(row.progress),
    progress_message: (row.progress_message as string | null) ?? null,
    attempts: Number(row.attempts),
    max_attempts: Number(row.max_attempts),
    result: row.result ?? null,
    error: row.error_code ? { code: row.error_code as string, message: (row.error_message as string) ?? '' } : null,
    created_at: row.created_at as string,
    started_at: (row.started_at as string | null) ?? null,
    finished_at: (row.finished_at as string | null) ?? null,
    updated_at: row.updated_at as string,
    boss_job_id: row.boss_job_id as string,
  }
}

