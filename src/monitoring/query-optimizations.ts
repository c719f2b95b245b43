// Query optimizations of one client: the slowest query shapes (a table and the columns it is filtered on) and,
// for each shape no index serves, an index suggestion confirmed by the database's own EXPLAIN (the plan reads
// the whole table). Shapes come from the engine's statement statistics when it keeps them (pg_stat_statements,
// performance_schema) and otherwise from Atrium's request log (filter_columns of structured reads).
import { createHash } from 'node:crypto'
import type { Catalog } from '../catalog/catalog.js'
import { AppError } from '../errors/app-error.js'
import { createIndex } from '../management/index-operations.js'
import { quoteIdent } from '../management/identifiers.js'
import { columnKey, isTableKind, liveColumns, relationKind } from '../management/live-schema.js'
import type { ManagementDeps } from '../management/run-managed-change.js'
import { targetSchema } from '../management/target-schema.js'
import type { RequestContext } from '../request-context.js'
import type { Executor } from '../sources/driver.js'
import type { SourceRegistry } from '../sources/registry.js'
import type { Source } from '../sources/source.js'
import type { RequestLog } from './request-log.js'
import { statementShapes, type QueryShape, type ShapeOrigin } from './statement-shapes.js'

export interface QueryOptimizationDeps extends ManagementDeps {
  catalog: Catalog
  registry: SourceRegistry
  /** flushed first, so the request log includes the requests just served */
  requestLog: RequestLog
}

export interface IndexSuggestion {
  /** stable for the same client, table and columns: what POST …/{id}/apply names */
  id: string
  schema_name: string
  table_name: string
  columns: string[]
  index_name: string
  /** the statement apply runs */
  statement: string
  reason: string
  shape: QueryShape
  explain: { full_scan: true; plan: string; estimated_rows: number | null; estimated_cost: number | null }
}

export interface OptimizationReport {
  client_name: string
  shapes_from: ShapeOrigin
  slow_queries: QueryShape[]
  suggestions: IndexSuggestion[]
}

/** the client's slowest query shapes and the index suggestions EXPLAIN confirms */
export async function analyzeQueries(deps: QueryOptimizationDeps, clientName: string): Promise<OptimizationReport> {
  const source = deps.registry.resolve(clientName)
  await deps.requestLog.flush()
  const { origin, shapes } = await statementShapes(deps.catalog, source)
  const suggestions: IndexSuggestion[] = []
  const seen = new Set<string>()
  for (const shape of shapes) {
    const suggestion = await suggestIndex(source, shape).catch(() => undefined)
    if (suggestion && !seen.has(suggestion.id)) {
      seen.add(suggestion.id)
      suggestions.push(suggestion)
    }
  }
  return { client_name: source.name, shapes_from: origin, slow_queries: shapes, suggestions }
}

export async function findSuggestion(deps: QueryOptimizationDeps, clientName: string, id: string): Promise<IndexSuggestion> {
  const report = await analyzeQueries(deps, clientName)
  const found = report.suggestions.find((s) => s.id === id)
  if (!found) {
    throw new AppError('query_optimization_not_found', `client "${report.client_name}" has no index suggestion "${id.slice(0, 80)}" (now)`, {
      hint: `GET /admin/clients/${report.client_name}/query-optimizations lists the current suggestions; one disappears once an index serves its queries`,
    })
  }
  return found
}

/** creates the suggested index through the management layer (audited; CONCURRENTLY on PostgreSQL) */
export async function applySuggestion(deps: QueryOptimizationDeps, ctx: RequestContext, clientName: string, id: string) {
  const suggestion = await findSuggestion(deps, clientName, id)
  const source = deps.registry.resolve(clientName)
  // the client is named by the path, not by X-Athena-Client
  const onClient: RequestContext = { principal: ctx.principal, requestId: ctx.requestId, log: ctx.log, deadline: ctx.deadline, source }
  const result = await createIndex(deps, onClient, {
    schema_name: source.dialect === 'postgres' ? suggestion.schema_name : undefined,
    table_name: suggestion.table_name,
    index_name: suggestion.index_name,
    columns: suggestion.columns,
    concurrently: true,
  })
  return { suggestion, index: result.data }
}

async function suggestIndex(source: Source, shape: QueryShape): Promise<IndexSuggestion | undefined> {
  const dialect = source.dialect
  const target = targetSchema(source, dialect === 'postgres' ? shape.schema ?? undefined : undefined)
  const db = source.driver
  if (!isTableKind(await relationKind(db, dialect, target.schema, shape.table))) return undefined
  const live = await liveColumns(db, dialect, target.schema, shape.table)
  const columns = shape.columns.map((c) => live.get(columnKey(dialect, c))?.name)
  if (columns.length === 0 || columns.some((c) => c === undefined)) return undefined
  const cols = columns as string[]
  // an index that starts with the shape's first column already serves it (or could, with one more column)
  const leading = await leadingIndexColumns(db, source, target.schema, shape.table)
  if (leading.has(columnKey(dialect, cols[0]))) return undefined
  const plan = await explainFullScan(db, source, target.qualify(shape.table), shape.table, cols)
  if (!plan) return undefined
  const id = `qo_${createHash('sha256').update(`${source.name}\0${target.schema}\0${shape.table}\0${cols.join('\0')}`).digest('hex').slice(0, 16)}`
  const readable = `${shape.table}_${cols.join('_')}_idx`
  const indexName = /^[A-Za-z_][A-Za-z0-9_]*$/.test(readable) && readable.length <= 63 ? readable : `${id}_idx`
  const q = (n: string) => quoteIdent(dialect, n)
  return {
    id,
    schema_name: target.schema,
    table_name: shape.table,
    columns: cols,
    index_name: indexName,
    statement: dialect === 'postgres'
      ? `CREATE INDEX CONCURRENTLY ${q(indexName)} ON ${target.qualify(shape.table)} USING btree (${cols.map(q).join(', ')})`
      : `CREATE INDEX ${q(indexName)} ON ${target.qualify(shape.table)} (${cols.map(q).join(', ')}) USING BTREE`,
    reason: `${shape.calls} ${shape.calls === 1 ? 'query' : 'queries'} filtering ${shape.table} on ${cols.join(', ')} (mean ${shape.mean_ms} ms) read the whole table: no index starts with ${cols[0]}`,
    shape,
    explain: plan,
  }
}

/** the first column of every index of the table (keys as columnKey gives them) */
async function leadingIndexColumns(db: Executor, source: Source, schema: string, table: string): Promise<Set<string>> {
  const res = source.dialect === 'postgres'
    ? await db.query({
        sql: `SELECT a.attname::text AS name FROM pg_index i
              JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
              JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
              WHERE n.nspname = $1 AND t.relname = $2`,
        params: [schema, table],
      })
    : await db.query({
        sql: 'SELECT column_name AS name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND seq_in_index = 1',
        params: [table],
      })
  return new Set(res.rows.map((r) => columnKey(source.dialect, String(r.name))))
}

/**
 * EXPLAIN of the shape, with values taken from the table (so the planner sees real ones): the plan when it reads
 * the whole table, undefined when it already uses an index.
 */
async function explainFullScan(db: Executor, source: Source, qualified: string, table: string, columns: string[]): Promise<IndexSuggestion['explain'] | undefined> {
  const pg = source.dialect === 'postgres'
  const q = (n: string) => quoteIdent(source.dialect, n)
  const sample = await db.query({ sql: `SELECT ${columns.map(q).join(', ')} FROM ${qualified} LIMIT 1`, params: [] })
  const values = columns.map((c) => (sample.rows[0] ? sample.rows[0][c] : null))
  const conditions = columns.map((c, i) => (values[i] === null ? `${q(c)} IS NULL` : `${q(c)} = ${pg ? `$${i + 1}` : '?'}`))
  const params = values.filter((v) => v !== null)
  const select = `SELECT * FROM ${qualified} WHERE ${conditions.join(' AND ')}`
  if (pg) {
    const res = await db.query({ sql: `EXPLAIN (FORMAT JSON) ${select}`, params })
    const raw = res.rows[0]?.['QUERY PLAN']
    const doc = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{ Plan: PgPlan }>
    const scan = findPgScan(doc[0].Plan, table)
    if (!scan || scan['Node Type'] !== 'Seq Scan') return undefined
    return { full_scan: true, plan: 'Seq Scan', estimated_rows: scan['Plan Rows'] ?? null, estimated_cost: scan['Total Cost'] ?? null }
  }
  const res = await db.query({ sql: `EXPLAIN ${select}`, params })
  const row = res.rows.find((r) => String(r.table) === table)
  if (!row || String(row.type).toUpperCase() !== 'ALL') return undefined
  return { full_scan: true, plan: 'ALL (full table scan)', estimated_rows: row.rows == null ? null : Number(row.rows), estimated_cost: null }
}

interface PgPlan {
  'Node Type': string
  'Relation Name'?: string
  'Plan Rows'?: number
  'Total Cost'?: number
  Plans?: PgPlan[]
}

function findPgScan(plan: PgPlan, table: string): PgPlan | undefined {
  if (plan['Relation Name'] === table) return plan
  for (const child of plan.Plans ?? []) {
    const found = findPgScan(child, table)
    if (found) return found
  }
  return undefined
}
