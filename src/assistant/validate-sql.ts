// Generated (or hand-written) SQL checked before anything runs: one statement, read with the dialect's real
// parser, every table and column found in the schema cache, and its class (from the platform's raw-SQL
// classifier, side-effecting functions included) held to the connection: reads always, writes only when the
// connection allows them, DDL never.
import { parseSync } from 'libpg-query'
import { AppError } from '../errors/app-error.js'
import type { ClassifiedSql } from '../sql/classify.js'
import { loadSqlParsers } from '../sql/classify-postgres.js'
import { mysqlParser } from '../sql/classify-mysql.js'
import type { DbSchema, TableInfo } from '../sources/schema.js'
import type { Source } from '../sources/source.js'

/** the SQL in a model's answer: the first ```sql block (or any fenced block), else the whole text */
export function extractSql(text: string): string {
  const fenced = /```(?:sql|postgresql|mysql)?\s*\n?([\s\S]*?)```/i.exec(text)
  const sql = (fenced ? fenced[1] : text).trim().replace(/;\s*$/, '').trim()
  if (!sql) throw new AppError('sql_error', 'the answer holds no SQL statement')
  return sql
}

interface Names {
  /** tables named, CTE names left out */
  tables: Array<{ schema: string | null; name: string; alias: string | null }>
  /** column references: qualifier (table or alias) and name */
  columns: Array<{ qualifier: string | null; name: string }>
  /** names the statement itself defines: output aliases, CTE and subquery columns */
  defined: Set<string>
}

function pgNames(sql: string): Names {
  let tree: { stmts?: Array<{ stmt: unknown }> }
  try {
    tree = parseSync(sql)
  } catch (err) {
    throw new AppError('sql_error', `SQL syntax error: ${(err as Error).message}`, { sqlstate: '42601' })
  }
  if ((tree.stmts ?? []).length !== 1) throw new AppError('invalid_request', 'give exactly one SQL statement')
  const names: Names = { tables: [], columns: [], defined: new Set() }
  const ctes = new Set<string>()
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) { node.forEach(walk); return }
    if (!node || typeof node !== 'object') return
    const o = node as Record<string, any>
    if (o.CommonTableExpr) {
      ctes.add(o.CommonTableExpr.ctename)
      for (const c of o.CommonTableExpr.aliascolnames ?? []) names.defined.add(String(c?.String?.sval ?? ''))
    }
    if (typeof o.relname === 'string' && 'relpersistence' in o) {
      names.tables.push({ schema: o.schemaname ?? null, name: o.relname, alias: o.alias?.aliasname ?? null })
    }
    if (o.ColumnRef) {
      const fields: any[] = o.ColumnRef.fields ?? []
      const last = fields[fields.length - 1]
      if (last?.String) {
        const qualifier = fields.length > 1 ? String(fields[fields.length - 2]?.String?.sval ?? '') : null
        names.columns.push({ qualifier, name: String(last.String.sval) })
      }
    }
    if (o.ResTarget && typeof o.ResTarget.name === 'string') names.defined.add(o.ResTarget.name)
    // subquery and function aliases with column lists, and the aliases themselves as qualifiers
    if (typeof o.aliasname === 'string') {
      // `x.col`, and `x` alone (a whole row, or the one column of a function such as generate_series)
      names.defined.add(`${o.aliasname}.`)
      names.defined.add(o.aliasname)
      for (const c of o.colnames ?? []) names.defined.add(String(c?.String?.sval ?? ''))
    }
    for (const value of Object.values(o)) walk(value)
  }
  walk(tree.stmts![0].stmt)
  // RangeVar's alias is a bare object (not wrapped in {Alias}); a CTE's name is no table
  names.tables = names.tables.filter((t) => t.schema !== null || !ctes.has(t.name))
  for (const c of ctes) names.defined.add(`${c}.`)
  return names
}

function mysqlNames(sql: string): Names {
  let parsed: { tableList: string[]; columnList: string[]; ast: unknown }
  try {
    parsed = mysqlParser().parse(sql, { database: 'MySQL' }) as never
  } catch (err) {
    throw new AppError('sql_error', `SQL syntax error: ${String((err as Error).message).split('\n')[0]}`, { sqlstate: '42000' })
  }
  if (Array.isArray(parsed.ast) && parsed.ast.length !== 1) throw new AppError('invalid_request', 'give exactly one SQL statement')
  const names: Names = { tables: [], columns: [], defined: new Set() }
  const ctes = new Set<string>()
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) { node.forEach(walk); return }
    if (!node || typeof node !== 'object') return
    const o = node as Record<string, any>
    if (Array.isArray(o.with)) for (const w of o.with) ctes.add(String(w?.name?.value ?? w?.name ?? ''))
    if (typeof o.as === 'string') { names.defined.add(o.as); names.defined.add(`${o.as}.`) }
    for (const value of Object.values(o)) walk(value)
  }
  walk(parsed.ast)
  for (const entry of parsed.tableList) {
    const [, db, table] = entry.split('::')
    if (db === 'null' && ctes.has(table)) continue
    names.tables.push({ schema: db === 'null' ? null : db, name: table, alias: null })
  }
  for (const entry of parsed.columnList) {
    const [, table, column] = entry.split('::')
    if (column === '(.*)' || column === '*') continue
    names.columns.push({ qualifier: table === 'null' ? null : table, name: column })
  }
  for (const c of ctes) names.defined.add(`${c}.`)
  return names
}

/** throws unknown_table / unknown_column for the first name the schema cache does not hold */
export async function checkNames(source: Source, schema: DbSchema, sql: string): Promise<void> {
  if (source.dialect === 'postgres') await loadSqlParsers()
  const names = source.dialect === 'postgres' ? pgNames(sql) : mysqlNames(sql)
  const tables = new Map<string, TableInfo>()
  for (const t of names.tables) {
    const info = schema.findTable(t.name, t.schema ?? undefined)
    if (!info) {
      const shown = t.schema ? `${t.schema}.${t.name}` : t.name
      throw new AppError('unknown_table', `table "${shown}" does not exist; the tables are: ${schema.tableNames().slice(0, 50).join(', ')}`)
    }
    tables.set(t.name, info)
    if (t.alias) tables.set(t.alias, info)
  }
  const all = new Set([...tables.values()].flatMap((t) => t.columns.map((c) => c.name)))
  for (const c of names.columns) {
    const table = c.qualifier ? tables.get(c.qualifier) : undefined
    if (table ? table.columnMap.has(c.name) : all.has(c.name) || names.defined.has(c.name)) continue
    // a qualifier the statement defines (a subquery or CTE) has columns the schema cache cannot know
    if (c.qualifier && !table && names.defined.has(`${c.qualifier}.`)) continue
    const where = table ? `table "${table.name}"` : 'the tables of the statement'
    const known = table ? table.columns.map((x) => x.name) : [...all]
    throw new AppError('unknown_column', `column "${c.qualifier ? `${c.qualifier}.` : ''}${c.name}" does not exist in ${where}; the columns are: ${known.slice(0, 80).join(', ')}`)
  }
}

/** the statement's class, refused when the connection may not run it */
export async function classifyFor(source: Source, sql: string, allowWrites: boolean): Promise<ClassifiedSql> {
  const classified = await source.dialectEntry.classifyRawSql(source, sql, { isAdmin: false })
  if (classified.statements.length !== 1) throw new AppError('invalid_request', 'give exactly one SQL statement')
  if (classified.statements[0].isTransactionControl) throw refused('transaction control is not run here')
  if (classified.class === 'ddl') throw refused('schema changes and server-level statements are never run here', classified.reason)
  if (classified.class === 'write' && !allowWrites) throw refused('it writes data, and the connection was created without "allow_writes": true', classified.reason)
  return classified
}

function refused(what: string, reason?: string): AppError {
  return new AppError('assistant_sql_refused', `the statement was refused: ${what}${reason ? ` (it would ${reason})` : ''}`, {
    hint: 'ask for a read (SELECT); writes need a connection created with "allow_writes": true, and schema changes never run here',
  })
}
