// What a statement reads and writes, from the dialect's real parser (libpg-query for PostgreSQL, node-sql-parser
// for MySQL/MariaDB): its kind, the tables read and written (CTE names are not tables; qualified names keep their
// schema), the columns it uses and the CTEs it defines. Nothing runs; no database is needed.
import { parseSync } from 'libpg-query'
import { AppError } from '../errors/app-error.js'
import { loadSqlParsers } from '../sql/classify-postgres.js'
import { mysqlParser } from '../sql/classify-mysql.js'

export interface Lineage {
  query_type: string
  tables_read: string[]
  tables_written: string[]
  columns_used: string[]
  ctes: string[]
}

const PG_TYPES: Record<string, string> = {
  SelectStmt: 'SELECT', InsertStmt: 'INSERT', UpdateStmt: 'UPDATE', DeleteStmt: 'DELETE', MergeStmt: 'MERGE',
  CreateStmt: 'CREATE', CreateTableAsStmt: 'CREATE', ViewStmt: 'CREATE', DropStmt: 'DROP', AlterTableStmt: 'ALTER',
  TruncateStmt: 'TRUNCATE', CopyStmt: 'COPY', ExplainStmt: 'EXPLAIN',
}
/** statements whose `relation` is the table they write */
const WRITES_RELATION = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'CreateStmt', 'AlterTableStmt'])

const sorted = (names: Iterable<string>) => [...new Set(names)].sort()
const sval = (n: any): string => String(n?.String?.sval ?? n?.String?.str ?? '')

function parsePg(sql: string): Array<[string, any]> {
  let tree: { stmts?: Array<{ stmt: Record<string, any> }> }
  try {
    tree = parseSync(sql)
  } catch (err) {
    throw new AppError('sql_error', `SQL syntax error: ${(err as Error).message}`, { sqlstate: '42601' })
  }
  const stmts = tree.stmts ?? []
  if (stmts.length !== 1) throw new AppError('invalid_request', 'give exactly one SQL statement')
  return [Object.entries(stmts[0].stmt)[0] as [string, any]]
}

export async function postgresLineage(sql: string): Promise<Lineage> {
  await loadSqlParsers()
  const [[kind, body]] = parsePg(sql)
  const ctes: string[] = []
  const aliases = new Map<string, string>()
  /** output names given with AS: ORDER BY n names the output, not a column */
  const outputs = new Set<string>()
  const display = (rv: any) => (rv.schemaname ? `${rv.schemaname}.${rv.relname}` : String(rv.relname))
  const isRangeVar = (o: any) => o && typeof o.relname === 'string' && 'relpersistence' in o
  // first pass: CTE names and table aliases, wherever they are
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) { node.forEach(collect); return }
    if (!node || typeof node !== 'object') return
    const o = node as Record<string, any>
    if (o.CommonTableExpr && !ctes.includes(o.CommonTableExpr.ctename)) ctes.push(o.CommonTableExpr.ctename)
    if (isRangeVar(o)) aliases.set(o.alias?.aliasname ?? o.relname, display(o))
    if (o.ResTarget?.name && o.ResTarget.val && sval(o.ResTarget.val.ColumnRef?.fields?.at(-1)) !== o.ResTarget.name) outputs.add(o.ResTarget.name)
    Object.values(o).forEach(collect)
  }
  collect(body)
  const read = new Set<string>()
  const written = new Set<string>()
  const columns = new Set<string>()
  const tableOf = (qualifier: string) => aliases.get(qualifier) ?? qualifier
  const target = (rv: any) => { written.add(display(rv)); return display(rv) }
  const visit = (node: unknown, stmtKind?: string): void => {
    if (Array.isArray(node)) { node.forEach((n) => visit(n, stmtKind)); return }
    if (!node || typeof node !== 'object') return
    const o = node as Record<string, any>
    if (isRangeVar(o)) {
      // a CTE reference is no table (a schema-qualified name always is one)
      if (o.schemaname || !ctes.includes(o.relname)) read.add(display(o))
      return
    }
    if (o.ColumnRef) {
      const fields: any[] = o.ColumnRef.fields ?? []
      const last = fields[fields.length - 1]
      const name = last?.A_Star ? '*' : sval(last)
      const qualifier = fields.slice(0, -1).map(sval)
      if (!qualifier.length && outputs.has(name)) return
      columns.add(qualifier.length ? `${tableOf(qualifier.join('.'))}.${name}` : name)
      return
    }
    for (const [key, value] of Object.entries(o)) {
      if (WRITES_RELATION.has(key)) { visitStatement(key, value); continue }
      if ((key === 'intoClause' || key === 'into') && value?.rel) { target(value.rel); continue }
      // CREATE VIEW's name, TRUNCATE's tables and DROP TABLE's names are written, not read
      if (key === 'view' && isRangeVar(value)) { target(value); continue }
      if (key === 'relations' && stmtKind === 'TruncateStmt') { for (const r of value ?? []) target(r.RangeVar ?? r); continue }
      if (key === 'objects' && stmtKind === 'DropStmt' && o.removeType === 'OBJECT_TABLE') {
        for (const obj of value ?? []) written.add((obj.List?.items ?? []).map(sval).join('.'))
        continue
      }
      visit(value, stmtKind)
    }
  }
  /** a writing statement: its relation is written, its SET/column list names columns of that table */
  const visitStatement = (stmtKind: string, s: any): void => {
    const rest = { ...s }
    if (s.relation && isRangeVar(s.relation)) {
      const table = target(s.relation)
      delete rest.relation
      if (stmtKind === 'InsertStmt') for (const c of s.cols ?? []) columns.add(`${table}.${c.ResTarget?.name}`)
      if (stmtKind === 'UpdateStmt') for (const c of s.targetList ?? []) columns.add(`${table}.${c.ResTarget?.name}`)
      delete rest.cols
      if (stmtKind === 'UpdateStmt') {
        delete rest.targetList
        for (const c of s.targetList ?? []) visit(c.ResTarget?.val, stmtKind)
      }
      if (stmtKind === 'CreateStmt') delete rest.tableElts
      if (stmtKind === 'MergeStmt') {
        for (const clause of s.mergeWhenClauses ?? []) {
          for (const t of clause.MergeWhenClause?.targetList ?? []) if (t.ResTarget?.name) columns.add(`${table}.${t.ResTarget.name}`)
        }
      }
    }
    visit(rest, stmtKind)
  }
  if (WRITES_RELATION.has(kind)) visitStatement(kind, body)
  else visit(body, kind)
  return { query_type: PG_TYPES[kind] ?? kind.replace(/Stmt$/, '').toUpperCase(), tables_read: sorted(read), tables_written: sorted(written), columns_used: sorted(columns), ctes }
}

export function mysqlLineage(sql: string): Lineage {
  let parsed: { tableList: string[]; columnList: string[]; ast: any }
  try {
    parsed = mysqlParser().parse(sql, { database: 'MySQL' }) as never
  } catch (err) {
    throw new AppError('sql_error', `SQL syntax error: ${String((err as Error).message).split('\n')[0]}`, { sqlstate: '42000' })
  }
  const ast = Array.isArray(parsed.ast) ? parsed.ast : [parsed.ast]
  if (ast.length !== 1) throw new AppError('invalid_request', 'give exactly one SQL statement')
  const ctes: string[] = []
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) { node.forEach(collect); return }
    if (!node || typeof node !== 'object') return
    const o = node as Record<string, any>
    if (Array.isArray(o.with)) for (const w of o.with) { const n = String(w?.name?.value ?? w?.name ?? ''); if (!ctes.includes(n)) ctes.push(n) }
    Object.values(o).forEach(collect)
  }
  collect(ast)
  const read = new Set<string>()
  const written = new Set<string>()
  for (const entry of parsed.tableList) {
    const [action, db, table] = entry.split('::')
    if (db === 'null' && ctes.includes(table)) continue
    const name = db === 'null' ? table : `${db}.${table}`
    if (action === 'select') read.add(name)
    else written.add(name)
  }
  // a SET or column-list name written bare belongs to the statement's target, as on PostgreSQL
  const target = parsed.tableList.map((e) => e.split('::')).find(([action]) => action !== 'select')?.[2]
  const columns = new Set<string>()
  for (const entry of parsed.columnList) {
    const [action, table, column] = entry.split('::')
    const name = column === '(.*)' ? '*' : column
    // DELETE, and INSERT without a column list, name their target's "every column": the row, not a column used
    if (action !== 'select' && name === '*') continue
    const qualifier = table === 'null' ? (action !== 'select' ? target : undefined) : table
    columns.add(qualifier ? `${qualifier}.${name}` : name)
  }
  const type = String(ast[0]?.type ?? '').toUpperCase()
  return { query_type: type === 'REPLACE' ? 'INSERT' : type, tables_read: sorted(read), tables_written: sorted(written), columns_used: sorted(columns), ctes }
}

const DIALECTS: Record<string, 'postgres' | 'mysql'> = { postgres: 'postgres', postgresql: 'postgres', mysql: 'mysql', mariadb: 'mysql' }

export async function lineageOf(sql: string, dialect: string): Promise<Lineage> {
  const d = DIALECTS[dialect.toLowerCase()]
  if (!d) throw new AppError('invalid_request', 'dialect must be "postgresql" or "mysql"')
  if (sql.includes('\u0000')) throw new AppError('invalid_request', 'sql must not contain NUL characters')
  return d === 'postgres' ? postgresLineage(sql) : mysqlLineage(sql)
}
