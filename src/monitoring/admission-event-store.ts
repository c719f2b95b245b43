// SQL of atrium.admission_events: the batch insert, the filtered newest-first listing with its cursor (pruning is jobs/retention-job.ts).
import { AppError } from '../errors/app-error.js'
import type { Executor, Row } from '../sources/driver.js'
import type { AdmissionEntry } from './admission-log.js'

/** an admission event on the wire (GET /admin/admission-events, and the admission.refused payload's fields) */
export type AdmissionEventRow = Omit<AdmissionEntry, 'at'> & {
  /** the admission event's id */
  id: number
  at: string
}

const COLUMNS = 'id, at, kind, client, key_id, user_id, ip, method, route, operation, status, request_id, detail'

/** writes `entries` in one statement, in order; returns them as stored (with their ids) */
export async function insertAdmissionEvents(tx: Executor, entries: readonly AdmissionEntry[]): Promise<AdmissionEventRow[]> {
  const json = JSON.stringify(entries.map((e) => ({
    ...e, at: e.at.toISOString(), user_id: e.user,
  })))
  const res = await tx.query({
    sql: `INSERT INTO atrium.admission_events (at, kind, client, key_id, user_id, ip, method, route, operation, status, request_id, detail)
          SELECT r.at, r.kind, r.client, r.key_id, r.user_id, r.ip, r.method, r.route, r.operation, r.status, r.request_id, r.detail
          FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(doc, n),
            jsonb_to_record(e.doc) AS r(at timestamptz, kind text, client text, key_id text, user_id text, ip text,
              method text, route text, operation text, status integer, request_id text, detail text)
          ORDER BY e.n
          RETURNING ${COLUMNS}`,
    // no text column (and no jsonb) can hold a NUL: it becomes U+FFFD rather than failing the batch for good
    params: [json.includes('\\u0000') ? json.replaceAll('\\u0000', '\\ufffd') : json],
  })
  return res.rows.map(toRow).sort((a, b) => a.id - b.id)
}

export interface AdmissionFilter {
  client?: string
  key_id?: string
  kind?: string
  /** ISO-8601 bounds on `at`: since inclusive, until exclusive */
  since?: string
  until?: string
  limit?: number
  cursor?: string
}

export interface AdmissionPage {
  events: AdmissionEventRow[]
  /** pass as `cursor` for the next page; null on the last page */
  next_cursor: string | null
}

export const ADMISSION_PAGE_DEFAULT = 50
export const ADMISSION_PAGE_MAX = 500

/** newest first (by id), `limit` per page, paged by an opaque cursor */
export async function listAdmissionEvents(db: Executor, filter: AdmissionFilter): Promise<AdmissionPage> {
  const limit = Math.min(Math.max(filter.limit ?? ADMISSION_PAGE_DEFAULT, 1), ADMISSION_PAGE_MAX)
  const where: string[] = []
  const params: unknown[] = []
  const add = (sql: string, value: unknown) => where.push(sql.replace('?', `$${params.push(value)}`))
  if (filter.client !== undefined) add('client = ?', filter.client)
  if (filter.key_id !== undefined) add('key_id = ?', filter.key_id)
  if (filter.kind !== undefined) add('kind = ?', filter.kind)
  if (filter.since !== undefined) add('at >= ?::timestamptz', instant(filter.since, 'since'))
  if (filter.until !== undefined) add('at < ?::timestamptz', instant(filter.until, 'until'))
  if (filter.cursor !== undefined) add('id < ?::bigint', decodeCursor(filter.cursor))
  const res = await db.query({
    sql: `SELECT ${COLUMNS} FROM atrium.admission_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY id DESC LIMIT ${limit + 1}`,
    params,
  })
  const events = res.rows.slice(0, limit).map(toRow)
  const last = events[events.length - 1]
  return { events, next_cursor: res.rows.length > limit && last ? encodeCursor(last.id) : null }
}


// an ISO-8601 date or date-time; anything Date.parse reads more loosely (e.g. "5") is refused
const ISO = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/

function instant(value: string, name: string): string {
  if (ISO.test(value) && !Number.isNaN(Date.parse(value))) return value
  throw new AppError('invalid_request', `${name} must be an ISO-8601 date or date-time, got "${value}"`, { hint: `e.g. ?${name}=2026-01-31T12:00:00Z` })
}

function encodeCursor(id: number): string {
  return Buffer.from(JSON.stringify(['a', id])).toString('base64url')
}

function decodeCursor(cursor: string): string {
  try {
    const [tag, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]
    if (tag === 'a' && Number.isSafeInteger(id) && (id as number) > 0) return String(id)
  } catch {
    /* falls through to the error below */
  }
  throw new AppError('invalid_cursor', 'the cursor is not one this list returned', { hint: 'pass next_cursor from the previous page unchanged' })
}

function toRow(row: Row): AdmissionEventRow {
  const at = row.at instanceof Date ? row.at.toISOString() : String(row.at)
  return {
    id: Number(row.id), at, kind: row.kind as string, client: row.client as string | null, key_id: row.key_id as string | null,
    user: row.user_id as string | null, ip: row.ip as string | null, method: row.method as string, route: row.route as string | null,
    operation: row.operation as string | null, status: Number(row.status), request_id: row.request_id as string | null, detail: row.detail as string | null,
  }
}
