// Where the slowest query shapes of a client come from: the engine's statement statistics when it keeps them
// (pg_stat_statements on PostgreSQL, performance_schema's digests on MySQL/MariaDB), otherwise Atrium's own
// request log (the filter columns of structured reads). A shape is one table and the columns it was filtered on.
import { createRequire } from 'node:module'
import type NodeSqlParser from 'node-sql-parser'
import type { Catalog } from '../catalog/catalog.js'
import type { Source } from '../sources/source.js'

export type ShapeOrigin = 'pg_stat_statements' | 'performance_schema' | 'request_log'

export interface QueryShape {
  schema: string | null
  table: string
  columns: string[]
  calls: number
  mean_ms: number
  total_ms: number
  /** the normalized statement (statement statistics), or the route (request log) */
  query: string
}

/** shapes examined per analysis, slowest (by total time) first */
const MAX_SHAPES = 50
/** how far back the request log is read */
const REQUEST_LOG_DAYS = 7
const MAX_COLUMNS = 4

export async function statementShapes(catalog: Catalog, source: Source): Promise<{ origin: ShapeOrigin; shapes: QueryShape[] }> {
  const statements = await engineStatements(source).catch(() => undefined)
  if (statements) {
    const shapes = statements.flatMap((s) => {
      const shape = shapeOfStatement(s.query, source.dialect)
      return shape ? [{ ...shape, calls: s.calls, mean_ms: round(s.mean_ms), total_ms: round(s.total_ms), query: s.query.slice(0, 2000) }] : []
    })
    if (shapes.length) return { origin: source.dialect === 'postgres' ? 'pg_stat_statements' : 'performance_schema', shapes }
  }
  return { origin: 'request_log', shapes: await requestLogShapes(catalog, source.name) }
}

interface StatementStat {
  query: string
  calls: number
  mean_ms: number
  total_ms: number
}

/** the engine's slowest SELECT statements of this database; undefined when it keeps no statistics (or hides them) */
async function engineStatements(source: Source): Promise<StatementStat[] | undefined> {
  const db = source.driver
  if (source.dialect === 'postgres') {
    // fails (and so falls back) when the extension is not installed or not in shared_preload_libraries
    const res = await db.query({
      sql: `SELECT query, calls::float8 AS calls, mean_exec_time AS mean_ms, total_exec_time AS total_ms FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query ~* '^\\s*select\\M'
            ORDER BY total_exec_time DESC LIMIT ${MAX_SHAPES}`,
      params: [],
    })
    return res.rows.map(statRow)
  }
  const on = await db.query({ sql: 'SELECT @@performance_schema AS enabled', params: [] })
  if (Number(on.rows[0]?.enabled) !== 1) return undefined
  const res = await db.query({
    sql: `SELECT digest_text AS query, count_star AS calls, avg_timer_wait / 1000000000 AS mean_ms, sum_timer_wait / 1000000000 AS total_ms
          FROM performance_schema.events_statements_summary_by_digest
          WHERE schema_name = DATABASE() AND digest_text LIKE 'SELECT%'
          ORDER BY sum_timer_wait DESC LIMIT ${MAX_SHAPES}`,
    params: [],
  })
  return res.rows.map(statRow)
}

const statRow = (r: Record<string, unknown>): StatementStat => ({ query: String(r.query), calls: Number(r.calls), mean_ms: Number(r.mean_ms), total_ms: Number(r.total_ms) })
const round = (ms: number) => Math.round(ms * 1000) / 1000

async function requestLogShapes(catalog: Catalog, client: string): Promise<QueryShape[]> {
  const rows = await catalog.rows<{ table_name: string; filter_columns: string; calls: string; mean_ms: number; total_ms: number; path: string }>(
    `SELECT table_name, filter_columns, count(*) AS calls, avg(duration_ms)::float8 AS mean_ms, sum(duration_ms)::float8 AS total_ms, min(path) AS path
     FROM atrium.request_log
     WHERE client_name = $1 AND table_name IS NOT NULL AND filter_columns IS NOT NULL AND status < 400
       AND at > now() - make_interval(days => ${REQUEST_LOG_DAYS})
     GROUP BY table_name, filter_columns ORDER BY sum(duration_ms) DESC LIMIT ${MAX_SHAPES}`,
    [client],
  )
  return rows.flatMap((r) => {
    const columns = parseColumns(r.filter_columns)
    if (!columns) return []
    // a PostgREST table may be written schema.table only through profiles; the log keeps the bare name
    return [{ schema: null, table: r.table_name, columns, calls: Number(r.calls), mean_ms: round(r.mean_ms), total_ms: round(r.total_ms), query: r.path }]
  })
}

function parseColumns(text: string): string[] | undefined {
  try {
    const value = JSON.parse(text)
    return Array.isArray(value) && value.length && value.every((c) => typeof c === 'string') ? value.slice(0, MAX_COLUMNS) : undefined
  } catch {
    return undefined
  }
}

// node-sql-parser loads slowly; only an analysis with statement statistics needs it
let parserInstance: InstanceType<typeof NodeSqlParser.Parser> | undefined
function parser(): InstanceType<typeof NodeSqlParser.Parser> {
  parserInstance ??= new (createRequire(import.meta.url)('node-sql-parser') as typeof NodeSqlParser).Parser()
  return parserInstance
}

/** a single-table SELECT's table and the columns of its top-level AND conditions (equality first); else undefined */
export function shapeOfStatement(sql: string, dialect: Source['dialect']): Pick<QueryShape, 'schema' | 'table' | 'columns'> | undefined {
  let ast: any
  try {
    ast = parser().astify(sql, { database: dialect === 'postgres' ? 'PostgresQL' : 'MySQL' })
  } catch {
    return undefined
  }
  const stmt = Array.isArray(ast) ? (ast.length === 1 ? ast[0] : undefined) : ast
  if (!stmt || stmt.type !== 'select' || !Array.isArray(stmt.from) || stmt.from.length !== 1 || !stmt.from[0].table || !stmt.where) return undefined
  const equality: string[] = []
  const other: string[] = []
  const visit = (e: any): void => {
    if (!e || e.type !== 'binary_expr') return
    if (e.operator === 'AND') {
      visit(e.left)
      visit(e.right)
      return
    }
    const column = e.left?.type === 'column_ref' ? columnName(e.left.column) : undefined
    if (column) (['=', 'IN', 'IS'].includes(String(e.operator).toUpperCase()) ? equality : other).push(column)
  }
  visit(stmt.where)
  const columns = [...new Set([...equality, ...other])].slice(0, MAX_COLUMNS)
  if (!columns.length) return undefined
  return { schema: stmt.from[0].db ?? null, table: String(stmt.from[0].table), columns }
}

function columnName(column: unknown): string | undefined {
  if (typeof column === 'string') return column
  const value = (column as { expr?: { value?: unknown } })?.expr?.value
  return typeof value === 'string' ? value : undefined
}
