// Client statistics in the catalog: per-client and per-table/operation aggregates of atrium.request_log,
// kept current by each request-log flush and rebuilt from the log on demand.
import type { Catalog } from './catalog.js'

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

/**
 * The SQL that folds a batch of request-log rows (the CTE named `input`) into the aggregates, as two more
 * data-modifying CTEs of the flush statement, so the log and its statistics can never disagree.
 * ORDER BY fixes the order rows are locked in: two processes flushing at once cannot deadlock.
 */
export const FOLD_INTO_STATISTICS = `
  client_totals AS (
    INSERT INTO atrium.client_statistics AS s (client_name, total_requests, successful_requests, failed_requests,
      total_cached_requests, total_operations, last_request_at, last_operation_at, updated_at)
    SELECT client_name, count(*), count(*) FILTER (WHERE status < 400), count(*) FILTER (WHERE status >= 400),
      count(*) FILTER (WHERE cached), count(*) FILTER (WHERE table_name IS NOT NULL), max(at),
      max(at) FILTER (WHERE table_name IS NOT NULL), now()
    FROM input WHERE client_name IS NOT NULL GROUP BY client_name ORDER BY client_name
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
    SELECT client_name, table_name, operation, count(*), count(*) FILTER (WHERE status >= 400), count(*) FILTER (WHERE cached), max(at), now()
    FROM input WHERE client_name IS NOT NULL AND table_name IS NOT NULL
    GROUP BY client_name, table_name, operation ORDER BY client_name, table_name, operation
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
    await tx.query({ sql: `WITH input AS (SELECT * FROM atrium.request_log), ${FOLD_INTO_STATISTICS} SELECT 1`, params: [] })
  })
}
