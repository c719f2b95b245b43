// Splits raw SQL into statements and classifies each as read / write / ddl with the dialect's real parser
// (libpg-query for PostgreSQL in classify-postgres.ts, node-sql-parser for MySQL here). Rights are checked on
// the highest class found.
import { createRequire } from 'node:module'
import type NodeSqlParser from 'node-sql-parser'
import { AppError } from '../errors/app-error.js'

export type SqlClass = 'read' | 'write' | 'ddl'

export interface ClassifiedStatement {
  sql: string
  class: SqlClass
  /** a plain SELECT/VALUES whose rows PostgreSQL can turn into JSON itself */
  isPlainSelect: boolean
  /** transaction control (BEGIN/COMMIT…), which Atrium owns */
  isTransactionControl: boolean
}

export interface ClassifiedSql {
  statements: ClassifiedStatement[]
  /** the highest class among the statements */
  class: SqlClass
  /** what raised the class, phrased to follow "needed to" (e.g. "call pg_read_file(), which …"), when known */
  reason?: string
}

const RANK: Record<SqlClass, number> = { read: 0, write: 1, ddl: 2 }

// PostgreSQL is classified in its own module (functions and relations are resolved against the catalogue)
export { classifyPostgres, loadSqlParsers } from './classify-postgres.js'

function maxClass(classes: SqlClass[]): SqlClass {
  return classes.reduce<SqlClass>((acc, c) => (RANK[c] > RANK[acc] ? c : acc), 'read')
}

// node-sql-parser takes about a third of a second to load and only MySQL sources need it: it loads on first use,
// so start-up (the embedded default's cold start above all) does not pay for it
let mysqlParserInstance: InstanceType<typeof NodeSqlParser.Parser> | undefined
function mysqlParser(): InstanceType<typeof NodeSqlParser.Parser> {
  mysqlParserInstance ??= new (createRequire(import.meta.url)('node-sql-parser') as typeof NodeSqlParser).Parser()
  return mysqlParserInstance
}
const MYSQL_READ = new Set(['select', 'show', 'desc', 'describe', 'explain'])
const MYSQL_WRITE = new Set(['insert', 'replace', 'update', 'delete'])

/**
 * node-sql-parser does not know every MySQL statement; what it cannot parse runs as one statement
 * classified as DDL, the most demanding class, so a parser gap never lowers the rights needed.
 */
export function classifyMysql(sql: string): ClassifiedSql {
  let asts: any[]
  try {
    const parsed = mysqlParser().astify(sql, { database: 'MariaDB' })
    asts = Array.isArray(parsed) ? parsed : [parsed]
  } catch {
    return { statements: [{ sql: sql.trim(), class: 'ddl', isPlainSelect: false, isTransactionControl: false }], class: 'ddl' }
  }
  if (asts.length === 1) {
    const cls = classifyMysqlAst(asts[0])
    return { statements: [{ sql: sql.trim(), class: cls, isPlainSelect: false, isTransactionControl: isMysqlTransaction(asts[0]) }], class: cls }
  }
  const statements = asts.map((ast) => ({
    sql: mysqlParser().sqlify(ast, { database: 'MariaDB' }),
    class: classifyMysqlAst(ast),
    isPlainSelect: false,
    isTransactionControl: isMysqlTransaction(ast),
  }))
  return { statements, class: maxClass(statements.map((s) => s.class)) }
}

function classifyMysqlAst(ast: any): SqlClass {
  const type = String(ast?.type ?? '').toLowerCase()
  if (type === 'select') return ast.into?.position ? 'ddl' : ast.locking_read ? 'write' : 'read'
  if (MYSQL_READ.has(type)) return 'read'
  if (MYSQL_WRITE.has(type)) return 'write'
  return 'ddl'
}

function isMysqlTransaction(ast: any): boolean {
  return String(ast?.type ?? '').toLowerCase() === 'transaction'
}
