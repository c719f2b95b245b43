// Blueprint SQL judged by the engine's real parser: libpg-query (PostgreSQL's own grammar) and node-sql-parser
// (MySQL). The result names each statement and its kind, every error with its line and column, and refuses the
// statements a blueprint may not run: role, user and database changes, transaction control (an application
// is one transaction of its own), server file access and session identity changes.
import pgQuery from 'libpg-query'
import sqlParser from 'node-sql-parser'
import type { Engine } from '../provisioning/managed-servers.js'
import { lineAndColumn, scanSql } from './sql-lexer.js'
import { renderTemplate, templateOffset, type Declarations, type VariableValue } from './variables.js'

export interface ParsedStatement {
  /** 1-based position in the blueprint */
  index: number
  /** the parser's name for it (PostgreSQL: the node type, e.g. CreateStmt; MySQL: e.g. create table) */
  kind: string
  sql: string
  line: number
  /** MySQL: DDL commits implicitly, so it cannot be rolled back */
  autocommits: boolean
}

export interface ParseIssue {
  message: string
  line: number
  column: number
  statement?: number
}

export interface ParseResult {
  valid: boolean
  statements: ParsedStatement[]
  errors: ParseIssue[]
  warnings: ParseIssue[]
  /** placeholders used in code, in order of first use */
  placeholders: string[]
}

export const MAX_BLUEPRINT_BYTES = 1_048_576
export const MAX_STATEMENTS = 1000

let pgReady: Promise<void> | undefined
/** libpg-query is WebAssembly: loaded once, before the first parse */
export function loadParsers(): Promise<void> {
  pgReady ??= pgQuery.loadModule()
  return pgReady
}

// PostgreSQL node types a blueprint may not contain, and why
const PG_FORBIDDEN: Record<string, string> = {
  CreateRoleStmt: 'role changes', AlterRoleStmt: 'role changes', AlterRoleSetStmt: 'role changes', DropRoleStmt: 'role changes',
  GrantRoleStmt: 'role membership changes', ReassignOwnedStmt: 'role changes', DropOwnedStmt: 'role changes',
  CreatedbStmt: 'database changes', DropdbStmt: 'database changes', AlterDatabaseStmt: 'database changes',
  AlterDatabaseSetStmt: 'database changes', AlterDatabaseRefreshCollStmt: 'database changes',
  AlterSystemStmt: 'server configuration changes', LoadStmt: 'loading server libraries',
  CreateTableSpaceStmt: 'tablespace changes', DropTableSpaceStmt: 'tablespace changes', AlterTableSpaceOptionsStmt: 'tablespace changes',
  CreateSubscriptionStmt: 'replication changes', AlterSubscriptionStmt: 'replication changes', DropSubscriptionStmt: 'replication changes',
  TransactionStmt: 'transaction control (an application runs in a transaction of its own)',
  VacuumStmt: 'VACUUM/ANALYZE (it cannot run inside the application\'s transaction)',
  CreateEventTrigStmt: 'event triggers', ListenStmt: 'session commands', NotifyStmt: 'session commands',
}

// MySQL statement types (type, or type/keyword) a blueprint may not contain
const MYSQL_FORBIDDEN: Record<string, string> = {
  'create/database': 'database changes', 'create/schema': 'database changes', 'drop/database': 'database changes', 'drop/schema': 'database changes',
  'alter/database': 'database changes', 'alter/schema': 'database changes',
  'create/user': 'user changes', grant: 'privilege changes', use: 'switching databases', transaction: 'transaction control (an application runs in a transaction of its own)',
  lock: 'table locks', load_data: 'server file access', 'set/GLOBAL': 'server configuration changes',
}
const MYSQL_AUTOCOMMIT = new Set(['create', 'drop', 'alter', 'truncate', 'rename'])

/**
 * Parses a blueprint. With `values` the statements carry those values (quoted); without, stand-ins of each
 * variable's type are parsed, so a template is judged before it is applied.
 */
export async function parseBlueprint(text: string, engine: Engine, declarations: Declarations, values?: Record<string, VariableValue>): Promise<ParseResult> {
  const result: ParseResult = { valid: false, statements: [], errors: [], warnings: [], placeholders: [] }
  const at = (offset: number) => lineAndColumn(text, offset)
  if (Buffer.byteLength(text) > MAX_BLUEPRINT_BYTES) {
    result.errors.push({ message: `the SQL is larger than ${MAX_BLUEPRINT_BYTES} bytes`, line: 1, column: 1 })
    return result
  }
  const scan = scanSql(text, engine)
  result.placeholders = [...new Set(scan.placeholders.map((p) => p.name))]
  for (const q of scan.quoted) {
    result.warnings.push({ message: `{{${q.name}}} is inside quoted text or a comment and is not replaced; write it outside quotes to bind a value`, ...at(q.start) })
  }
  const rendered = renderTemplate(text, engine, declarations, values)
  for (const u of rendered.undeclared) {
    result.errors.push({ message: `{{${u.name}}} is not a declared variable; declare it in "variables" with a type (${['string', 'number', 'boolean', 'identifier'].join(', ')})`, ...at(u.offset) })
  }
  for (const name of Object.keys(declarations)) {
    if (!result.placeholders.includes(name)) result.warnings.push({ message: `variable "${name}" is declared but never used`, line: 1, column: 1 })
  }
  if (result.errors.length) return result
  const toTemplate = (offset: number) => at(templateOffset(rendered.offsets, offset))
  if (engine === 'postgres') await parsePostgres(rendered.sql, result, toTemplate)
  else parseMysql(rendered.sql, scanSql(rendered.sql, engine).semicolons, result, toTemplate)
  if (!result.errors.length && result.statements.length === 0) result.errors.push({ message: 'the SQL holds no statement', line: 1, column: 1 })
  if (result.statements.length > MAX_STATEMENTS) result.errors.push({ message: `a blueprint may hold at most ${MAX_STATEMENTS} statements`, line: 1, column: 1 })
  result.valid = result.errors.length === 0
  return result
}

type Locate = (offset: number) => { line: number; column: number }

async function parsePostgres(sql: string, result: ParseResult, locate: Locate): Promise<void> {
  await loadParsers()
  let tree: { stmts?: Array<{ stmt: Record<string, any>; stmt_location?: number; stmt_len?: number }> }
  try {
    tree = pgQuery.parseSync(sql) as typeof tree
  } catch (err) {
    const details = (err as { sqlDetails?: { cursorPosition?: number } }).sqlDetails
    result.errors.push({ message: (err as Error).message, ...locate(details?.cursorPosition ?? 0) })
    return
  }
  for (const [i, s] of (tree.stmts ?? []).entries()) {
    const start = s.stmt_location ?? 0
    const end = s.stmt_len ? start + s.stmt_len : sql.length
    const raw = sql.slice(start, end)
    const lead = raw.length - raw.trimStart().length
    const kind = Object.keys(s.stmt)[0]!
    const node = s.stmt[kind]
    const statement: ParsedStatement = { index: i + 1, kind, sql: raw.trim(), line: locate(start + lead).line, autocommits: false }
    result.statements.push(statement)
    const why = PG_FORBIDDEN[kind] ?? pgForbiddenDetail(kind, node)
    if (why) result.errors.push({ message: `statement ${i + 1} (${kind}) is not allowed in a blueprint: ${why}`, statement: i + 1, ...locate(start + lead) })
  }
}

/** the forbidden forms of otherwise allowed PostgreSQL statements */
function pgForbiddenDetail(kind: string, node: Record<string, any>): string | undefined {
  if (kind === 'VariableSetStmt' && ['role', 'session_authorization', 'session authorization'].includes(String(node.name ?? '').toLowerCase())) return 'session identity changes'
  if (kind === 'VariableSetStmt' && node.kind === 'VAR_RESET_ALL') return undefined
  if (kind === 'CopyStmt' && (node.is_program || node.filename)) return 'server file or program access (use COPY … FROM STDIN or INSERT)'
  if (kind === 'IndexStmt' && node.concurrent) return 'CREATE INDEX CONCURRENTLY (it cannot run inside the application\'s transaction)'
  return undefined
}

const mysqlParser = new sqlParser.Parser()

function parseMysql(sql: string, semicolons: number[], result: ParseResult, locate: Locate): void {
  let start = 0
  for (const end of [...semicolons, sql.length]) {
    const chunk = sql.slice(start, end)
    const chunkStart = start
    start = end + 1
    let ast: any
    try {
      ast = mysqlParser.astify(chunk, { database: 'MySQL' })
    } catch (err) {
      const offset = (err as { location?: { start?: { offset?: number } } }).location?.start?.offset ?? 0
      result.errors.push({ message: (err as Error).message, statement: result.statements.length + 1, ...locate(chunkStart + offset) })
      continue
    }
    const nodes = (Array.isArray(ast) ? ast : [ast]).filter(Boolean)
    // a chunk of only whitespace and comments holds no statement
    if (nodes.length === 0) continue
    const node = nodes[0]
    const lead = chunk.length - chunk.trimStart().length
    const kind = [node.type, node.keyword].filter(Boolean).join(' ')
    const index = result.statements.length + 1
    result.statements.push({ index, kind, sql: chunk.trim(), line: locate(chunkStart + lead).line, autocommits: MYSQL_AUTOCOMMIT.has(node.type) })
    const why = MYSQL_FORBIDDEN[`${node.type}/${node.keyword}`] ?? MYSQL_FORBIDDEN[node.type]
    if (why) result.errors.push({ message: `statement ${index} (${kind}) is not allowed in a blueprint: ${why}`, statement: index, ...locate(chunkStart + lead) })
    else if (node.type === 'select' && node.into?.position) result.errors.push({ message: `statement ${index} (SELECT … INTO) is not allowed in a blueprint: server file access`, statement: index, ...locate(chunkStart + lead) })
  }
}

/** an issue as the API's `errors`/`warnings` strings show it */
export const describeIssue = (i: ParseIssue) => `line ${i.line}, column ${i.column}: ${i.message}`
