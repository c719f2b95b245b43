// Splits raw SQL into statements and classifies each as read / write / ddl with the dialect's real parser
// (libpg-query for PostgreSQL, node-sql-parser for MySQL). Rights are checked on the highest class found.
import { loadModule, parseSync } from 'libpg-query'
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
}

const RANK: Record<SqlClass, number> = { read: 0, write: 1, ddl: 2 }
const WRITE_NODES = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt'])
const READ_UTILITY = new Set(['VariableShowStmt'])

let pgParserReady: Promise<void> | undefined
/** the WASM PostgreSQL parser loads once per process */
export function loadSqlParsers(): Promise<void> {
  pgParserReady ??= loadModule()
  return pgParserReady
}

function containsNode(node: unknown, names: Set<string>): boolean {
  if (Array.isArray(node)) return node.some((n) => containsNode(n, names))
  if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (names.has(key) || containsNode(value, names)) return true
    }
  }
  return false
}

function classifyPgNode(kind: string, body: any): SqlClass {
  if (WRITE_NODES.has(kind) || kind === 'CopyStmt') return 'write'
  if (kind === 'SelectStmt') {
    if (body.intoClause) return 'ddl'
    if (body.lockingClause || containsNode(body, WRITE_NODES)) return 'write'
    return 'read'
  }
  if (kind === 'ExplainStmt') {
    const analyze = (body.options ?? []).some((o: any) => o?.DefElem?.defname === 'analyze')
    const [innerKind, innerBody] = Object.entries(body.query ?? {})[0] ?? ['SelectStmt', {}]
    return analyze ? classifyPgNode(innerKind, innerBody) : 'read'
  }
  if (READ_UTILITY.has(kind)) return 'read'
  return 'ddl'
}

function maxClass(classes: SqlClass[]): SqlClass {
  return classes.reduce<SqlClass>((acc, c) => (RANK[c] > RANK[acc] ? c : acc), 'read')
}

export async function classifyPostgres(sql: string): Promise<ClassifiedSql> {
  await loadSqlParsers()
  let tree: { stmts?: Array<{ stmt: Record<string, any>; stmt_location?: number; stmt_len?: number }> }
  try {
    tree = parseSync(sql)
  } catch (err) {
    const e = err as { message: string; sqlDetails?: { cursorPosition?: number } }
    throw new AppError('sql_error', `SQL syntax error: ${e.message}`, { sqlstate: '42601', data: e.sqlDetails?.cursorPosition !== undefined ? { position: e.sqlDetails.cursorPosition + 1 } : {} })
  }
  const statements = (tree.stmts ?? []).map((s) => {
    const [kind, body] = Object.entries(s.stmt)[0]
    // stmt_location/stmt_len are byte offsets into the UTF-8 text
    const bytes = Buffer.from(sql, 'utf8')
    const start = s.stmt_location ?? 0
    const text = (s.stmt_len ? bytes.subarray(start, start + s.stmt_len) : bytes.subarray(start)).toString('utf8').trim()
    const cls = classifyPgNode(kind, body)
    return {
      sql: text,
      class: cls,
      isPlainSelect: kind === 'SelectStmt' && cls === 'read',
      isTransactionControl: kind === 'TransactionStmt',
    }
  })
  return { statements, class: maxClass(statements.map((s) => s.class)) }
}
