// The catalog table of deferred gateway requests (atrium.deferred_requests): typed reads and the status
// transitions. Reads are always by (id, owner): another caller's request is not found, never forbidden.
import { encodePageCursor, ListConditions } from '../catalog/page-cursor.js'
import type { Executor, Row } from '../sources/driver.js'

export type DeferredStatus = 'queued' | 'running' | 'succeeded' | 'failed'
/** what a caller reads: a succeeded request is `expired` once its answer is past its expiry */
export type DeferredViewStatus = DeferredStatus | 'expired'
export const DEFERRED_VIEW_STATUSES: readonly DeferredViewStatus[] = ['queued', 'running', 'succeeded', 'failed', 'expired']

export interface DeferredOwner {
  kind: 'admin' | 'key' | 'user'
  /** the API key's id, the session user's sub, or 'admin' */
  id: string
  /** a session user's role and token expiry (ISO), checked again when the request runs */
  role?: string | null
  expiresAt?: string | null
}

/** what was asked: the route operation, the body and the headers that shape the call */
export interface DeferredCall {
  operation: string
  body: unknown
  strip_nulls?: boolean
  publish_event?: string
  /** Prefer: return=minimal on the request */
  return_minimal?: boolean
}

export interface DeferredListFilter {
  /** the statuses as read (DEFERRED_VIEW_STATUSES); any when absent or empty */
  statuses?: readonly DeferredViewStatus[]
  /** the client the request was sent to, any case */
  client?: string
  /** 1 to 100 */
  limit: number
  /** next_cursor of the previous page */
  cursor?: string
}

export interface DeferredRecord {
  id: string
  owner: DeferredOwner
  client_name: string
  operation: string
  request: DeferredCall
  status: DeferredStatus
  result_status: number | null
  result_body: string | null
  error: { code: string; message: string } | null
  job_id: string
  attempts: number
  created_at: string
  started_at: string | null
  finished_at: string | null
  expires_at: string | null
}

const COLUMNS = `d.id, d.owner_kind, d.owner_id, d.owner_role, d.owner_expires_at, d.client_name, d.operation, d.request, d.status,
  d.result_status, d.result_body, d.error_code, d.error_message, d.job_id, d.attempts, d.created_at, d.started_at, d.finished_at,
  d.expires_at, j.status AS job_status, j.error_code AS job_error_code, j.error_message AS job_error_message`
// the status a caller reads (toRecord below and view() in deferred-requests.ts, here in SQL) so that a status filter matches what is shown:
// an unfinished request whose job ended reads as failed, a succeeded one past its expiry (the `?`: the caller's now) as expired
const VIEW_STATUS = `CASE WHEN d.status IN ('queued', 'running') AND j.status IN ('failed', 'cancelled') THEN 'failed'
  WHEN d.status = 'succeeded' AND d.expires_at IS NOT NULL AND d.expires_at <= ?::timestamptz THEN 'expired' ELSE d.status END`
// the page key at the column's full (microsecond) precision: a millisecond ISO string would skip the rows
// created in the same millisecond as a page's last one
const CURSOR_AT = `to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at`
const MAX_PAGE = 100
// a list leaves the answers' bodies out (up to deferred.maxResultBytes each): one GET reads one
const LIST_COLUMNS = COLUMNS.replace('d.result_body', 'NULL::text AS result_body')
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export class DeferredStore {
  constructor(private readonly db: Executor) {}

  async insert(tx: Executor, r: { id: string; owner: DeferredOwner; client: string; call: DeferredCall; jobId: string }): Promise<void> {
    await tx.query({
      sql: `INSERT INTO atrium.deferred_requests (id, owner_kind, owner_id, owner_role, owner_expires_at, client_name, operation, request, job_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)`,
      params: [r.id, r.owner.kind, r.owner.id, r.owner.role ?? null, r.owner.expiresAt ?? null, r.client, r.call.operation, JSON.stringify(r.call), r.jobId],
    })
  }

  /** the request of `owner` (any owner when null: the job's own read) */
  async get(id: string, owner: DeferredOwner | null, db: Executor = this.db, lock = false): Promise<DeferredRecord | null> {
    if (!UUID.test(id)) return null
    const res = await db.query({
      sql: `SELECT ${COLUMNS} FROM atrium.deferred_requests d LEFT JOIN atrium.jobs j ON j.id = d.job_id
            WHERE d.id = $1 AND ($2::text IS NULL OR (d.owner_kind = $2 AND d.owner_id = $3))${lock ? ' FOR UPDATE OF d' : ''}`,
      params: [id, owner?.kind ?? null, owner?.id ?? null],
    })
    return res.rows.length ? toRecord(res.rows[0]!) : null
  }

  /**
   * The requests of `owner` (every owner's when null: the admin key), newest first, `limit` per page, without
   * their answers' bodies; `now` decides which succeeded ones read as expired. `cursor` is a previous page's
   * next_cursor (400 invalid_cursor otherwise).
   */
  async list(owner: DeferredOwner | null, filter: DeferredListFilter, now: Date): Promise<{ records: DeferredRecord[]; next_cursor: string | null }> {
    const limit = Math.min(Math.max(Math.trunc(filter.limit), 1), MAX_PAGE)
    const c = new ListConditions()
    if (owner) c.add('d.owner_kind = ? AND d.owner_id = ?', owner.kind, owner.id)
    if (filter.statuses?.length) c.add(`(${VIEW_STATUS}) = ANY(?::text[])`, now.toISOString(), [...filter.statuses])
    if (filter.client) c.add('lower(d.client_name) = lower(?)', filter.client)
    c.afterCursor(filter.cursor, 'd.')
    const res = await this.db.query({
      sql: `SELECT ${LIST_COLUMNS}, ${CURSOR_AT} FROM atrium.deferred_requests d LEFT JOIN atrium.jobs j ON j.id = d.job_id
            ${c.where} ORDER BY d.created_at DESC, d.id DESC LIMIT ${limit + 1}`,
      params: c.params,
    })
    const rows = res.rows.slice(0, limit)
    const last = rows[rows.length - 1]
    const more = res.rows.length > limit && last !== undefined
    return { records: rows.map(toRecord), next_cursor: more ? encodePageCursor({ created_at: String(last.cursor_at), id: String(last.id) }) : null }
  }

  /** a run started; false when the request is not waiting for one (already finished) */
  async markRunning(id: string): Promise<boolean> {
    const res = await this.db.query({
      sql: `UPDATE atrium.deferred_requests SET status = 'running', attempts = attempts + 1, started_at = now(), updated_at = now()
            WHERE id = $1 AND status IN ('queued', 'running') RETURNING id`,
      params: [id],
    })
    return res.rows.length === 1
  }

  async finish(id: string, f: { status: 'succeeded' | 'failed'; resultStatus: number; resultBody: string; error: { code: string; message: string } | null; ttlSeconds: number }): Promise<void> {
    await this.db.query({
      sql: `UPDATE atrium.deferred_requests SET status = $2, result_status = $3, result_body = $4, error_code = $5, error_message = $6,
              finished_at = now(), expires_at = now() + make_interval(secs => $7), updated_at = now() WHERE id = $1`,
      params: [id, f.status, f.resultStatus, f.resultBody, f.error?.code ?? null, f.error?.message ?? null, f.ttlSeconds],
    })
  }

  /** queued again with a new job, its previous answer dropped (requeue); in the caller's transaction */
  async requeue(tx: Executor, id: string, owner: DeferredOwner, jobId: string): Promise<void> {
    await tx.query({
      sql: `UPDATE atrium.deferred_requests SET status = 'queued', job_id = $2, owner_role = $3, owner_expires_at = $4, result_status = NULL,
              result_body = NULL, error_code = NULL, error_message = NULL, started_at = NULL, finished_at = NULL, expires_at = NULL,
              updated_at = now() WHERE id = $1`,
      params: [id, jobId, owner.role ?? null, owner.expiresAt ?? null],
    })
  }
}

/**
 * A request still queued or running whose job ended without it (its worker died and the job expired, or an
 * operator cancelled it) reads as failed, with the job's error.
 */
function toRecord(row: Row): DeferredRecord {
  const jobEnded = row.job_status === 'failed' || row.job_status === 'cancelled'
  const unfinished = row.status === 'queued' || row.status === 'running'
  const orphaned = unfinished && jobEnded
  const errorCode = orphaned ? ((row.job_error_code as string | null) ?? 'job_failed') : (row.error_code as string | null)
  const errorMessage = orphaned ? ((row.job_error_message as string | null) ?? `the job was ${String(row.job_status)}`) : (row.error_message as string | null)
  return {
    id: row.id as string,
    owner: { kind: row.owner_kind as DeferredOwner['kind'], id: row.owner_id as string, role: row.owner_role as string | null, expiresAt: iso(row.owner_expires_at) },
    client_name: row.client_name as string,
    operation: row.operation as string,
    request: row.request as DeferredCall,
    status: orphaned ? 'failed' : (row.status as DeferredStatus),
    result_status: (row.result_status as number | null) ?? null,
    result_body: (row.result_body as string | null) ?? null,
    error: errorCode ? { code: errorCode, message: errorMessage ?? '' } : null,
    job_id: row.job_id as string,
    attempts: Number(row.attempts),
    created_at: iso(row.created_at)!,
    started_at: iso(row.started_at),
    finished_at: iso(row.finished_at),
    expires_at: iso(row.expires_at),
  }
}

function iso(v: unknown): string | null {
  if (v === null || v === undefined) return null
  return v instanceof Date ? v.toISOString() : String(v)
}
