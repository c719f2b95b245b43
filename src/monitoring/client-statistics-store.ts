// Client statistics in the catalog: per-client and per-table/operation aggregates of atrium.request_log,
// kept current by each request-log flush and rebuilt from the log on demand.
import type { Catalog } from '../catalog/catalog.js'

export interface ClientStatisticsRow {
  client_name: string
  total_requests: number
  successful_requests: number
  failed_requests: number
  total_cached_requests: number
  total_operations: number
  last_request_at: string | null
  last_operation_at: string | null
  updated_at: string
}

export interface ClientTableStatisticsRow {
  client_name: string
  table_name: string
  operation: string
  total_operations: number
  error_operations: number
  cached_operations: number
  last_operation_at: string | null
  updated_at: string
}

/** a batch's totals for one client, and for one client, table and operation: the rows without updated_at */
export type ClientTotals = Omit<ClientStatisticsRow, 'updated_at'>
export type TableTotals = Omit<ClientTableStatisticsRow, 'updated_at'>

/** the fields of a request-log row the statistics read */
export interface LoggedRequest {
  at: Date
  client: string | null
  table: string | null
  operation: string
  status: number
  cached: boolean
}

interface ClientAccumulator { totals: ClientTotals; lastRequest: number; lastOperation: number; tables: Map<string, { totals: TableTotals; lastOperation: number }> }

/**
 * Adds up request-log rows, one at a time as they are logged, the way the statistics count them (the same
 * rules as TOTALS_OF_LOG below, which the rebuild runs over the whole log): rows without a client are not
 * counted, a request with a table is an operation, status 400 and above is a failure.
 */
export class StatisticsTotals {
  // times are kept as numbers and written as ISO text once per total, not once per request
  private readonly clients = new Map<string, ClientAccumulator>()

  add(e: LoggedRequest): void {
    if (e.client === null) return
    const at = e.at.getTime()
    const failed = e.status >= 400
    let c = this.clients.get(e.client)
    if (!c) {
      const totals = { client_name: e.client, total_requests: 0, successful_requests: 0, failed_requests: 0, total_cached_requests: 0, total_operations: 0, last_request_at: null, last_operation_at: null }
      c = { totals, lastRequest: at, lastOperation: -Infinity, tables: new Map() }
      this.clients.set(e.client, c)
    }
    c.totals.total_requests++
    if (failed) c.totals.failed_requests++
    else c.totals.successful_requests++
    if (e.cached) c.totals.total_cached_requests++
    c.lastRequest = Math.max(c.lastRequest, at)
    if (e.table === null) return
    c.totals.total_operations++
    c.lastOperation = Math.max(c.lastOperation, at)
    // an operation id has no spaces, so the first space ends it
    const key = `${e.operation} ${e.table}`
    let t = c.tables.get(key)
    if (!t) {
      t = { totals: { client_name: e.client, table_name: e.table, operation: e.operation, total_operations: 0, error_operations: 0, cached_operations: 0, last_operation_at: null }, lastOperation: at }
      c.tables.set(key, t)
    }
    t.totals.total_operations++
    if (failed) t.totals.error_operations++
    if (e.cached) t.totals.cached_operations++
    t.lastOperation = Math.max(t.lastOperation, at)
  }

  /** the totals as rows for TOTALS_OF_BATCH */
  rows(): { clients: ClientTotals[]; tables: TableTotals[] } {
    const iso = (ms: number) => (ms === -Infinity ? null : new Date(ms).toISOString())
    const all = [...this.clients.values()]
    return {
      clients: all.map((c) => ({ ...c.totals, last_request_at: iso(c.lastRequest), last_operation_at: iso(c.lastOperation) })),
      tables: all.flatMap((c) => [...c.tables.values()].map((t) => ({ ...t.totals, last_operation_at: iso(t.lastOperation) }))),
    }
  }
}

/** the CTEs `client_input` and `table_input` computed from the whole request log, for the rebuild */
const TOTALS_OF_LOG = `
  client_input AS (
    SELECT client_name, count(*) AS total_requests, count(*) FILTER (WHERE status < 400) AS successful_requests,
      count(*) FILTER (WHERE status >= 400) AS failed_requests, count(*) FILTER (WHERE cached) AS total_cached_requests,
      count(*) FILTER (WHERE table_name IS NOT NULL) AS total_operations, max(at) AS last_request_at,
      max(at) FILTER (WHERE table_name IS NOT NULL) AS last_operation_at
    FROM atrium.request_log WHERE client_name IS NOT NULL GROUP BY client_name
  ),
  table_input AS (
    SELECT client_name, table_name, operation, count(*) AS total_operations, count(*) FILTER (WHERE status >= 400) AS error_operations,
      count(*) FILTER (WHERE cached) AS cached_operations, max(at) AS last_operation_at
    FROM atrium.request_log WHERE client_name IS NOT NULL AND table_name IS NOT NULL GROUP BY client_name, table_name, operation
  )`

/** the CTEs `client_input` and `table_input` from StatisticsTotals.rows(), passed as two JSON parameters */
export const TOTALS_OF_BATCH = `
  client_input AS (
    SELECT * FROM json_to_recordset($1::json) AS x(client_name text, total_requests bigint, successful_requests bigint,
      failed_requests bigint, total_cached_requests bigint, total_operations bigint, last_request_at timestamptz, last_operation_at timestamptz)
  ),
  table_input AS (
    SELECT * FROM json_to_recordset($2::json) AS x(client_name text, table_name text, operation text, total_operations bigint,
      error_operations bigint, cached_operations bigint, last_operation_at timestamptz)
  )`

/**
 * The SQL that adds totals (the CTEs `client_input` and `table_input`) to the aggregates, as two
 * data-modifying CTEs. A request-log flush runs it in the transaction that writes the log rows, so the log
 * and its statistics can never disagree. ORDER BY fixes the order rows are locked in: two processes
 * flushing at once cannot deadlock.
 */
export const FOLD_INTO_STATISTICS = `
  client_totals AS (
    INSERT INTO atrium.client_statistics AS s (client_name, total_requests, successful_requests, failed_requests,
      total_cached_requests, total_operations, last_request_at, last_operation_at, updated_at)
    SELECT client_name, total_requests, successful_requests, failed_requests, total_cached_requests, total_operations,
      last_request_at, last_operation_at, now()
    FROM client_input ORDER BY client_name
    ON CONFLICT (client_name) DO UPDATE SET
      total_requests = s.total_requests + excluded.total_requests,
      successful_requests = s.successful_requests + excluded.successful_requests,
      failed_requests = s.failed_requests + excluded.failed_requests,
      total_cached_requests = s.total_cached_requests + excluded.total_cached_requests,
      total_operations = s.total_operations + excluded.total_operations,
      last_request_at = greatest(s.last_request_at, excluded.last_request_at),
      last_operation_at = greatest(s.last_operation_at, excluded.last_operation_at),
      updated_at = now()
    RETURNING 1
  ),
  table_totals AS (
    INSERT INTO atrium.client_table_statistics AS t (client_name, table_name, operation, total_operations, error_operations,
      cached_operations, last_operation_at, updated_at)
    SELECT client_name, table_name, operation, total_operations, error_operations, cached_operations, last_operation_at, now()
    FROM table_input ORDER BY client_name, table_name, operation
    ON CONFLICT (client_name, table_name, operation) DO UPDATE SET
      total_operations = t.total_operations + excluded.total_operations,
      error_operations = t.error_operations + excluded.error_operations,
      cached_operations = t.cached_operations + excluded.cached_operations,
      last_operation_at = greatest(t.last_operation_at, excluded.last_operation_at),
      updated_at = now()
    RETURNING 1
  )`

export async function listClientStatistics(catalog: Catalog): Promise<ClientStatisticsRow[]> {
  return catalog.rows<ClientStatisticsRow>('SELECT * FROM atrium.client_statistics ORDER BY client_name')
}

export async function findClientStatistics(catalog: Catalog, client: string): Promise<{ statistics: ClientStatisticsRow; tables: ClientTableStatisticsRow[] } | undefined> {
  const [statistics] = await catalog.rows<ClientStatisticsRow>('SELECT * FROM atrium.client_statistics WHERE client_name = $1', [client])
  if (!statistics) return undefined
  const tables = await catalog.rows<ClientTableStatisticsRow>(
    'SELECT * FROM atrium.client_table_statistics WHERE client_name = $1 ORDER BY table_name, operation',
    [client],
  )
  return { statistics, tables }
}

/** throws the aggregates away and recomputes them from the whole request log, in one transaction */
export async function rebuildClientStatistics(catalog: Catalog): Promise<void> {
  await catalog.transaction(async (tx) => {
    // Flushes from other processes wait here and add their batch after the rebuild, so nothing counts twice.
    await tx.query({ sql: 'LOCK TABLE atrium.client_statistics, atrium.client_table_statistics IN EXCLUSIVE MODE', params: [] })
    await tx.query({ sql: 'DELETE FROM atrium.client_table_statistics', params: [] })
    await tx.query({ sql: 'DELETE FROM atrium.client_statistics', params: [] })
    await tx.query({ sql: `WITH ${TOTALS_OF_LOG}, ${FOLD_INTO_STATISTICS} SELECT 1`, params: [] })
  })
}
