// INSERT, UPDATE and DELETE in a query job, on one table of the project's own datasets. DuckDB's parser serializes
// only SELECTs (json_serialize_sql), so a DML statement is taken apart with PostgreSQL's grammar (libpg-query,
// from which DuckDB's own parser is derived): its kind, its target and where its parts start. Every part that
// holds an expression is then compiled as a SELECT by duckdb-select.ts — DuckDB's parser, the same reference
// checks and rewriting as any query — and the statement that runs is built from our own fixed head around
// that SELECT. So nothing of the text reaches DuckDB without passing DuckDB's parser and the reference checks,
// and what runs can only change rows of the target table.
import type { DuckDBConnection } from '@duckdb/node-api'
import { parseSync } from 'libpg-query'
import { AppError } from '../errors/app-error.js'
import { loadSqlParsers } from '../sql/classify-postgres.js'
import { compileSelect, serialize, warehouseNames, type CompiledSelect, type Node, type ReadableTable } from './duckdb-select.js'

export type DmlKind = 'insert' | 'update' | 'delete'

export interface CompiledDml extends CompiledSelect {
  kind: DmlKind
  /** the table it changes */
  target: ReadableTable
}

const KINDS: Record<string, DmlKind> = { InsertStmt: 'insert', UpdateStmt: 'update', DeleteStmt: 'delete' }
/** the column a statement compiled as a SELECT carries the target's row ids in */
const ROWID = '__atrium_rowid'

const refused = (msg: string) => new AppError('invalid_query', msg, { data: { loc: ['body', 'query_text'] } })
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`

interface RangeVar { catalogname?: string; schemaname?: string; relname: string; alias?: { aliasname: string }; location: number }
interface ResTarget { name?: string; val?: Record<string, unknown>; location: number }

/** the DML statement the text is, as PostgreSQL's grammar sees it; null when it is not one (it may be a SELECT) */
export async function dmlStatement(text: string): Promise<{ kind: DmlKind; node: Record<string, any> } | null> {
  await loadSqlParsers()
  let tree: { stmts?: Array<{ stmt: Record<string, any> }> }
  try {
    tree = parseSync(text)
  } catch {
    return null // not PostgreSQL's syntax: DuckDB's SELECT grammar judges it (duckdb-select.ts)
  }
  const stmts = tree.stmts ?? []
  const kinds = stmts.map((s) => Object.keys(s.stmt)[0]!)
  if (!kinds.some((k) => k in KINDS)) return null
  if (stmts.length !== 1) throw refused('send exactly one statement')
  return { kind: KINDS[kinds[0]!]!, node: stmts[0]!.stmt[kinds[0]!] }
}

/**
 * The statement to run for a DML text: `resolve` finds the tables the project may read; the target must also be
 * `writable` (a dataset of the project itself, never a shared one).
 */
export async function compileDml(
  parser: DuckDBConnection,
  text: string,
  dml: { kind: DmlKind; node: Record<string, any> },
  resolve: (dataset: string, table: string) => ReadableTable | undefined,
): Promise<CompiledDml> {
  const { kind, node } = dml
  // DuckDB's own statement splitter agrees that this is one statement
  if ((await parser.extractStatements(text)).count !== 1) throw refused('send exactly one statement')
  for (const [field, what] of [['withClause', 'WITH before the statement'], ['returningList', 'RETURNING'], ['onConflictClause', 'ON CONFLICT'], ['usingClause', 'DELETE … USING'], ['fromClause', 'UPDATE … FROM']] as const) {
    if (node[field] && (!Array.isArray(node[field]) || node[field].length > 0)) throw refused(`${what} is not supported in a query job's ${kind.toUpperCase()}`)
  }
  const rel = node.relation as RangeVar
  if (rel.catalogname || !rel.schemaname) throw refused(`name the table as dataset.table ("${[rel.catalogname, rel.schemaname, rel.relname].filter(Boolean).join('.')}" is not)`)
  const target = resolve(rel.schemaname, rel.relname)
  if (!target) throw refused(`${rel.schemaname}.${rel.relname} is not a table of a dataset this project may read`)
  if (!target.writable) throw refused(`${target.name} is shared into this project: it may be read, not changed`)
  if (target.columns.some((c) => c.name.toLowerCase() === 'rowid')) throw refused(`${target.name} has a column named rowid, which DML here cannot tell from the row id`)
  const wh = warehouseNames(target)
  const table = `${quote(wh.schema)}.${quote(wh.table)}`
  const bytes = Buffer.from(text, 'utf8')
  /** the text from a parse-tree location on (libpg-query counts bytes) */
  const from = (location: number) => bytes.subarray(location).toString('utf8')
  const columnOf = (name: string) => {
    const col = target.columns.find((c) => c.name.toLowerCase() === name.toLowerCase())
    if (!col) throw refused(`${target.name} has no column ${name}`)
    return col.name
  }
  const withTarget = (compiled: CompiledSelect, sql: string): CompiledDml =>
    ({ ...compiled, sql, kind, target, tables: compiled.tables.some((t) => t.tableId === target.tableId) ? compiled.tables : [...compiled.tables, target] })

  if (kind === 'insert') {
    if (rel.alias) throw refused('INSERT INTO dataset.table AS alias is not supported')
    if (!node.selectStmt) throw refused('INSERT … DEFAULT VALUES is not supported; give VALUES or a SELECT')
    if (node.override && node.override !== 'OVERRIDING_NOT_SET') throw refused('OVERRIDING is not supported')
    const cols = ((node.cols ?? []) as Array<{ ResTarget: ResTarget }>).map((c) => c.ResTarget)
    if (cols.some((c) => c.val)) throw refused('name plain columns in INSERT INTO dataset.table (columns)')
    const names = cols.map((c) => columnOf(c.name!))
    // the source starts after the column list's ")", or after the table's name
    const rest = cols.length > 0 ? from(cols.at(-1)!.location) : from(rel.location)
    const head = cols.length > 0 ? /^(?:"(?:[^"]|"")*"|[^\s")]+)\s*\)/.exec(rest) : /^(?:"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)\s*\.\s*(?:"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)/.exec(rest)
    if (!head) throw refused('the INSERT cannot be taken apart: write INSERT INTO dataset.table [(columns)] VALUES … or SELECT …')
    const compiled = await compileSelect(parser, rest.slice(head[0].length), resolve, false)
    const list = names.length > 0 ? ` (${names.map(quote).join(', ')})` : ''
    return withTarget(compiled, `INSERT INTO ${table}${list} ${compiled.sql}`)
  }

  const alias = rel.alias?.aliasname ?? rel.relname
  // the target as DuckDB's tree names it, with a row-id column: templates serialized by DuckDB itself
  const template = await serialize(parser, `SELECT ${quote(alias)}.rowid AS ${ROWID} FROM ${quote(rel.schemaname)}.${quote(rel.relname)} AS ${quote(alias)}`)
  const rowidItem = (template.select_list as Node[])[0]!
  const sameTarget = (from: Node) => from.type === 'BASE_TABLE' && !from.catalog_name
    && String(from.schema_name).toLowerCase() === rel.schemaname!.toLowerCase() && String(from.table_name).toLowerCase() === rel.relname.toLowerCase()
    && String(from.alias || from.table_name).toLowerCase() === alias.toLowerCase()

  if (kind === 'delete') {
    // DELETE FROM <target> [alias] [WHERE …] is compiled as SELECT alias.rowid FROM <target> [alias] [WHERE …]
    const compiled = await compileSelect(parser, `SELECT ${quote(alias)}.rowid AS ${ROWID} FROM ${from(rel.location)}`, resolve, false, (root) => {
      if (root.type !== 'SELECT_NODE' || !sameTarget(root.from_table as Node) || (root.select_list as Node[]).length !== 1 || (root.modifiers as unknown[]).length > 0 || root.group_expressions && (root.group_expressions as unknown[]).length > 0) {
        throw refused('the DELETE cannot be taken apart: write DELETE FROM dataset.table [alias] [WHERE …]')
      }
      return root
    })
    return withTarget(compiled, `DELETE FROM ${table} WHERE rowid IN (SELECT ${ROWID} FROM (${compiled.sql}))`)
  }

  // UPDATE <target> [alias] SET c = e, … [WHERE …]: "SELECT c = e, … [WHERE …]" parses as comparisons, which
  // become SELECT alias.rowid, e AS c, … FROM <target> [alias] [WHERE …]
  const targets = ((node.targetList ?? []) as Array<{ ResTarget: ResTarget }>).map((t) => t.ResTarget)
  if (targets.some((t) => !t.name || (t.val && 'MultiAssignRef' in t.val))) throw refused('set one column at a time: SET a = …, b = …')
  const columns = targets.map((t) => columnOf(t.name!))
  if (new Set(columns).size !== columns.length) throw refused('a column is set twice')
  const compiled = await compileSelect(parser, `SELECT ${from(targets[0]!.location)}`, resolve, false, (root) => {
    const items = root.select_list as Node[]
    const fits = root.type === 'SELECT_NODE' && (root.from_table as Node).type === 'EMPTY' && items.length === targets.length && (root.modifiers as unknown[]).length === 0
      && items.every((item, i) => item.type === 'COMPARE_EQUAL' && (item.left as Node).type === 'COLUMN_REF'
        && ((item.left as Node).column_names as string[]).join('.').toLowerCase() === targets[i]!.name!.toLowerCase())
    if (!fits) throw refused('the UPDATE cannot be taken apart: write UPDATE dataset.table [alias] SET column = value, … [WHERE …], with a value that is not itself a comparison or AND/OR (put it in parentheses)')
    return { ...root, from_table: template.from_table, select_list: [rowidItem, ...items.map((item, i) => ({ ...(item.right as Node), alias: columns[i] }))] }
  })
  const sets = columns.map((c) => `${quote(c)} = __atrium_s.${quote(c)}`).join(', ')
  return withTarget(compiled, `UPDATE ${table} AS __atrium_t SET ${sets} FROM (${compiled.sql}) AS __atrium_s WHERE __atrium_t.rowid = __atrium_s.${ROWID}`)
}
