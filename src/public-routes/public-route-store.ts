// The catalog table of public routes (atrium.public_routes): typed rows in, records out. No validation: the
// service checks what is published before it is stored.
import type { AthenaCondition } from '../query/parse/athena.js'
import type { Executor, Row } from '../sources/driver.js'

/** what can be published; one operation kind per route: a fetch on one table, or a storage read of one bucket */
export type PublishedOperation = 'fetch' | 'storage_read'

export interface PublicRoute {
  route_key: string
  client_name: string
  operation: PublishedOperation
  /** fetch: the table and the columns callers may read (null on a storage read) */
  table_name: string | null
  columns: string[] | null
  conditions: AthenaCondition[]
  /** storage_read: the bucket of client_name on storage connection s3_id, and the key prefix calls stay under ('' = the whole bucket) */
  bucket: string | null
  s3_id: string | null
  prefix: string | null
  /** most rows (fetch) or keys (a storage list page) one call returns */
  limit: number
  /** calls per rate-limit window per address; null: rateLimits.publicPerIp */
  rate_limit: number | null
  description: string | null
  enabled: boolean
  created_at: string
  updated_at: string
}

export type PublicRouteFields = Omit<PublicRoute, 'created_at' | 'updated_at'>

/** a published fetch: its table and columns are set */
export type FetchRoute = PublicRoute & { operation: 'fetch'; table_name: string; columns: string[] }
/** a published storage read: its bucket, connection and prefix are set */
export type StorageReadRoute = PublicRoute & { operation: 'storage_read'; bucket: string; s3_id: string; prefix: string }

const COLUMNS = 'route_key, client_name, operation, table_name, columns, conditions, bucket, s3_id, prefix, max_limit, rate_limit, description, enabled, created_at, updated_at'

export class PublicRouteStore {
  constructor(private readonly db: Executor) {}

  async list(): Promise<PublicRoute[]> {
    const res = await this.db.query({ sql: `SELECT ${COLUMNS} FROM atrium.public_routes ORDER BY route_key`, params: [] })
    return res.rows.map(toRoute)
  }

  async get(key: string): Promise<PublicRoute | null> {
    const res = await this.db.query({ sql: `SELECT ${COLUMNS} FROM atrium.public_routes WHERE route_key = $1`, params: [key] })
    return res.rows.length ? toRoute(res.rows[0]!) : null
  }

  /** null when the key is taken */
  async insert(r: PublicRouteFields): Promise<PublicRoute | null> {
    const res = await this.db.query({
      sql: `INSERT INTO atrium.public_routes (route_key, client_name, operation, table_name, columns, conditions, max_limit, rate_limit, description, enabled, bucket, s3_id, prefix)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (route_key) DO NOTHING RETURNING ${COLUMNS}`,
      params: params(r),
    })
    return res.rows.length ? toRoute(res.rows[0]!) : null
  }

  async update(r: PublicRouteFields): Promise<PublicRoute | null> {
    const res = await this.db.query({
      sql: `UPDATE atrium.public_routes SET client_name = $2, operation = $3, table_name = $4, columns = $5, conditions = $6::jsonb, max_limit = $7,
              rate_limit = $8, description = $9, enabled = $10, bucket = $11, s3_id = $12, prefix = $13, updated_at = now() WHERE route_key = $1 RETURNING ${COLUMNS}`,
      params: params(r),
    })
    return res.rows.length ? toRoute(res.rows[0]!) : null
  }

  async remove(key: string): Promise<boolean> {
    const res = await this.db.query({ sql: 'DELETE FROM atrium.public_routes WHERE route_key = $1 RETURNING route_key', params: [key] })
    return res.rows.length === 1
  }
}

function params(r: PublicRouteFields): unknown[] {
  return [r.route_key, r.client_name, r.operation, r.table_name, r.columns, JSON.stringify(r.conditions), r.limit, r.rate_limit, r.description, r.enabled, r.bucket, r.s3_id, r.prefix]
}

function toRoute(row: Row): PublicRoute {
  const at = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v))
  return {
    route_key: row.route_key as string,
    client_name: row.client_name as string,
    operation: row.operation as PublishedOperation,
    table_name: (row.table_name as string | null) ?? null,
    columns: (row.columns as string[] | null) ?? null,
    conditions: row.conditions as AthenaCondition[],
    bucket: (row.bucket as string | null) ?? null,
    s3_id: (row.s3_id as string | null) ?? null,
    prefix: (row.prefix as string | null) ?? null,
    limit: Number(row.max_limit),
    rate_limit: row.rate_limit === null ? null : Number(row.rate_limit),
    description: (row.description as string | null) ?? null,
    enabled: row.enabled as boolean,
    created_at: at(row.created_at),
    updated_at: at(row.updated_at),
  }
}
