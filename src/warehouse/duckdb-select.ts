// Turns a query's text into the SELECT the warehouse runs, with DuckDB's own parser (json_serialize_sql): only
// one SELECT; every table named as dataset.table, and only the datasets the project may read; no table
// functions (files, other databases, catalog listings). Each reference becomes the table's warehouse name, or,
// for a caller whose private columns are masked, a subquery in which those columns are NULL, so no expression
// over them can reveal a value. The rewritten tree goes back to SQL through json_deserialize_sql.
import type { DuckDBConnection } from '@duckdb/node-api'
import { AppError } from '../errors/app-error.js'
import type { ColumnSpec } from './table-schema.js'
import { parseExact, stringifyExact } from './exact-json.js'

/** a table the query may read */
export interface ReadableTable {
  datasetId: string
  tableId: string
  /** dataset.table, as the query names it */
  name: string
  columns: readonly ColumnSpec[]
  /** the tenant whose warehouse holds it: another tenant's for a dataset shared into the project */
  ownerTenantId?: string
  /** a dataset of the project itself (DML may change it); a dataset shared into the project is read only */
  writable?: boolean
  /**
   * A copy of another tenant's table, as a Parquet file the reader's database may read (its private columns
   * already NULL): what the query reads instead of the table, which lives in the other tenant's database.
   */
  snapshot?: string
}

const hex = (id: string) => id.replaceAll('-', '').toLowerCase()
/** the warehouse's names of a table: its dataset's schema and its own, both from ids (never reused) */
export const warehouseNames = (t: { datasetId: string; tableId: string }) => ({ schema: `ds_${hex(t.datasetId)}`, table: `t_${hex(t.tableId)}` })

export interface CompiledSelect {
  /** the SQL to run: warehouse names, masking applied */
  sql: string
  /** every table it reads, once each */
  tables: ReadableTable[]
  /** the private columns masked for this caller, by name */
  masked: string[]
}

export type Node = Record<string, unknown>

const refused = (msg: string) => new AppError('invalid_query', msg, { data: { loc: ['body', 'query_text'] } })

export async function serialize(parser: DuckDBConnection, sql: string): Promise<Node> {
  const stmt = await parser.prepare('SELECT json_serialize_sql($1::VARCHAR)')
  stmt.bindVarchar(1, sql)
  const text = String((await stmt.runAndReadAll()).getRows()[0]![0])
  const tree = parseExact(text) as { error: boolean; error_message?: string; error_type?: string; statements?: Array<{ node: Node }> }
  if (tree.error) {
    const message = tree.error_type === 'not implemented'
      ? 'only SELECT, INSERT, UPDATE and DELETE run here (DDL is not supported: tables and their schemas change through the API)'
      : `the query cannot be parsed: ${tree.error_message ?? 'syntax error'}`
    throw refused(message)
  }
  if (tree.statements?.length !== 1) throw refused('send exactly one SELECT statement')
  return tree.statements[0]!.node
}

async function deserialize(parser: DuckDBConnection, node: Node): Promise<string> {
  const stmt = await parser.prepare('SELECT json_deserialize_sql($1::JSON)')
  stmt.bindVarchar(1, stringifyExact({ error: false, statements: [{ node, named_param_map: [] }] }))
  return String((await stmt.runAndReadAll()).getRows()[0]![0])
}

/** every CTE name anywhere in the tree: an unqualified reference to one of them is not a table */
function cteNames(node: unknown, names = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const n of node) cteNames(n, names)
  else if (node && typeof node === 'object') {
    const map = (node as { cte_map?: { map?: Array<{ key: string }> } }).cte_map?.map
    for (const entry of map ?? []) names.add(entry.key.toLowerCase())
    for (const v of Object.values(node)) cteNames(v, names)
  }
  return names
}

/**
 * The SELECT to run for `text`, reading only tables `resolve` returns (by dataset and table name, as written).
 * `mask`: replace the private columns of every table read by NULLs of their type.
 */
export async function compileSelect(
  parser: DuckDBConnection,
  text: string,
  resolve: (dataset: string, table: string) => ReadableTable | undefined,
  mask: boolean,
  /** reshapes the parsed tree before names are checked (DML compiles its parts as a SELECT: duckdb-dml.ts) */
  transform?: (root: Node) => Node,
): Promise<CompiledSelect> {
  const parsed = await serialize(parser, text)
  const root = transform ? transform(parsed) : parsed
  const ctes = cteNames(root)
  const tables = new Map<string, ReadableTable>()
  const masked = new Set<string>()
  const maskedSubqueries = new Map<string, Node>()

  const rewrite = async (node: unknown): Promise<unknown> => {
    if (Array.isArray(node)) return Promise.all(node.map(rewrite))
    if (!node || typeof node !== 'object') return node
    const n = node as Node
    if (n.type === 'TABLE_FUNCTION') throw refused('table functions (read_csv, read_parquet, duckdb_tables(), …) are not available; name tables as dataset.table')
    if (n.type === 'BASE_TABLE') {
      const catalog = String(n.catalog_name ?? '')
      const schema = String(n.schema_name ?? '')
      const table = String(n.table_name ?? '')
      if (!catalog && !schema && ctes.has(table.toLowerCase())) return n
      if (catalog || !schema) throw refused(`name tables as dataset.table ("${[catalog, schema, table].filter(Boolean).join('.')}" is not)`)
      const found = resolve(schema, table)
      if (!found) throw refused(`${schema}.${table} is not a table of a dataset this project may read`)
      tables.set(found.tableId, found)
      const alias = String(n.alias || table)
      // another tenant's table is read from its snapshot, whose private columns are NULL whatever the caller's role
      const privateColumns = mask || found.snapshot ? found.columns.filter((c) => c.private) : []
      if (privateColumns.length === 0 && !found.snapshot) {
        const names = warehouseNames(found)
        return { ...n, catalog_name: '', schema_name: names.schema, table_name: names.table, alias }
      }
      for (const c of privateColumns) masked.add(c.name)
      let subquery = maskedSubqueries.get(found.tableId)
      if (!subquery) {
        const list = found.columns.map((c) => (c.private ? `CAST(NULL AS ${c.type}) AS "${c.name}"` : `"${c.name}"`)).join(', ')
        const names = warehouseNames(found)
        const source = found.snapshot ? `read_parquet('${found.snapshot.replaceAll("'", "''")}')` : `"${names.schema}"."${names.table}"`
        subquery = await serialize(parser, `SELECT ${list} FROM ${source}`)
        maskedSubqueries.set(found.tableId, subquery)
      }
      return { type: 'SUBQUERY', alias, sample: null, query_location: 0, subquery: { node: subquery, named_param_map: [] }, column_name_alias: n.column_name_alias ?? [] }
    }
    const out: Node = {}
    for (const [k, v] of Object.entries(n)) out[k] = await rewrite(v)
    return out
  }

  const node = (await rewrite(root)) as Node
  return { sql: await deserialize(parser, node), tables: [...tables.values()], masked: [...masked] }
}
