// Classifies MySQL/MariaDB raw SQL by what the server will actually run: refuses text the parser and the server
// could read differently, re-emits every statement from the parser's own tree, and ranks it by statement kind,
// the functions it calls and the databases it names. It never runs anything.
import { createRequire } from 'node:module'
import type NodeSqlParser from 'node-sql-parser'
import { AppError } from '../errors/app-error.js'
import { higherClass, type ClassifiedSql, type ClassifiedStatement, type SqlClass } from './classify.js'

export interface MysqlClassifyOptions {
  /** the one database the client exposes (`source.schemas[0]`); other databases are refused to non-admins */
  exposedDatabase: string
  /** the static admin key: may name any database and run statements the parser cannot read */
  isAdmin: boolean
}

/**
 * Functions whose effect reaches past a read, by lower-case name. A statement calling one needs at least
 * this class. `ddl` marks the ones that touch server state outside the transaction (named locks, server
 * files, replication, OS-command UDFs); `write` the ones that change state a rollback does not undo or
 * that only hold a connection.
 */
export const MYSQL_FUNCTION_CLASS: Readonly<Record<string, SqlClass>> = Object.freeze({
  // named locks are held by the connection, not the transaction, and outlive the request
  get_lock: 'ddl',
  release_lock: 'ddl',
  release_all_locks: 'ddl',
  // these two tell whether (and which connection) another caller holds a lock
  is_free_lock: 'ddl',
  is_used_lock: 'ddl',
  // reads any file the server process may read
  load_file: 'ddl',
  // replication waits
  master_pos_wait: 'ddl',
  master_gtid_wait: 'ddl',
  source_pos_wait: 'ddl',
  wsrep_sync_wait_upto_gtid: 'ddl',
  // lib_mysqludf_sys-style UDFs run operating-system commands
  sys_exec: 'ddl',
  sys_eval: 'ddl',
  sys_get: 'ddl',
  sys_set: 'ddl',
  sys_bineval: 'ddl',
  // MariaDB sequences advance outside the transaction
  nextval: 'write',
  setval: 'write',
  lastval: 'write',
  // they do no work but hold a pooled connection
  sleep: 'write',
  benchmark: 'write',
})

/** SHOW forms that only describe the client's own database; every other SHOW is server state (`ddl`) */
const SHOW_READS = new Set(['tables', 'columns', 'fields', 'index', 'indexes', 'keys', 'create'])
const READ_TYPES = new Set(['select', 'desc', 'describe', 'explain'])
const WRITE_TYPES = new Set(['insert', 'replace', 'update', 'delete'])
/**
 * node-sql-parser's MySQL grammar reads more everyday SQL than its MariaDB one (a `status` column,
 * UPDATE … ORDER BY … LIMIT, `->`), the MariaDB one a few MariaDB-only forms (DELETE … RETURNING): each text is
 * read with the first grammar that accepts it, and re-emitted with that same grammar.
 */
const GRAMMARS = [{ database: 'MySQL' }, { database: 'MariaDB' }] as const
type Grammar = (typeof GRAMMARS)[number]

// node-sql-parser takes about a third of a second to load and only MySQL sources need it: it loads on first use,
// so start-up (the embedded default's cold start above all) does not pay for it
let parserInstance: InstanceType<typeof NodeSqlParser.Parser> | undefined
export function mysqlParser(): InstanceType<typeof NodeSqlParser.Parser> {
  parserInstance ??= new (createRequire(import.meta.url)('node-sql-parser') as typeof NodeSqlParser).Parser()
  return parserInstance
}

/**
 * Statements the parser cannot read run only for the admin key, as one `ddl` statement in the original text;
 * everyone else gets a 400, because without a tree Atrium can neither rank the statement nor check the
 * databases it names.
 */
export function classifyMysql(sql: string, opts: MysqlClassifyOptions): ClassifiedSql {
  assertUnambiguous(sql)
  let asts: any[]
  let grammar: Grammar
  try {
    ;({ asts, grammar } = parseWithAnyGrammar(sql))
  } catch (err) {
    if (opts.isAdmin) {
      return { statements: [{ sql: sql.trim(), class: 'ddl', isPlainSelect: false, isTransactionControl: false }], class: 'ddl' }
    }
    throw new AppError('sql_error', `Atrium's MySQL parser cannot read this SQL, so it cannot check what it would do: ${firstLine(err)}`, {
      sqlstate: '42000',
      hint: 'write it in the common MySQL syntax (see docs/security.md for statements the parser does not know, such as CREATE OR REPLACE TABLE or SHOW VARIABLES); only the admin key may run SQL the parser cannot read',
    })
  }
  const statements = asts.map((ast) => classifyStatement(ast, grammar, opts))
  return { statements, class: statements.reduce<SqlClass>((acc, s) => higherClass(acc, s.class), 'read') }
}

function parseWithAnyGrammar(sql: string): { asts: any[]; grammar: Grammar } {
  let first: unknown
  for (const grammar of GRAMMARS) {
    try {
      const parsed = mysqlParser().astify(sql, grammar)
      return { asts: Array.isArray(parsed) ? parsed : [parsed], grammar }
    } catch (err) {
      first ??= err
    }
  }
  throw first
}

function classifyStatement(ast: any, grammar: Grammar, opts: MysqlClassifyOptions): ClassifiedStatement {
  const text = reemit(ast, grammar)
  if (!opts.isAdmin) assertExposed(ast, opts.exposedDatabase)
  return {
    sql: text,
    class: classOf(ast),
    isPlainSelect: false,
    isTransactionControl: String(ast?.type ?? '').toLowerCase() === 'transaction',
  }
}

/**
 * The server runs the parser's re-emitted text, never the original, so it runs exactly what was classified.
 * The emitted text must itself pass the lexical check and re-emit to the same text: where the emitter
 * mangles a statement (an alias holding a backtick, say), that statement is refused, not run differently.
 */
function reemit(ast: any, grammar: Grammar): string {
  const text = mysqlParser().sqlify(ast, grammar)
  let again: string | undefined
  try {
    assertUnambiguous(text)
    const reparsed = mysqlParser().astify(text, grammar)
    const list = Array.isArray(reparsed) ? reparsed : [reparsed]
    if (list.length === 1) again = mysqlParser().sqlify(list[0], grammar)
  } catch {
    again = undefined
  }
  if (again !== text) {
    throw new AppError('ambiguous_sql', `this statement does not survive Atrium's parse and re-emit round trip unchanged, so what would run could differ from what was checked: ${preview(text)}`, {
      hint: 'simplify the quoting (plain identifiers, backticks without embedded backticks, aliases without quotes inside them)',
    })
  }
  return text
}

function classOf(ast: any): SqlClass {
  const type = String(ast?.type ?? '').toLowerCase()
  let cls: SqlClass
  if (READ_TYPES.has(type)) cls = 'read'
  else if (type === 'show') cls = SHOW_READS.has(String(ast.keyword ?? '').toLowerCase()) ? 'read' : 'ddl'
  else if (WRITE_TYPES.has(type)) cls = 'write'
  // SET @user_var changes session state only; any other SET (system variables, names, passwords) is admin
  else if (type === 'set') cls = (ast.expr ?? []).every((e: any) => e?.left?.type === 'var' && e.left.prefix === '@') ? 'write' : 'ddl'
  else cls = 'ddl'
  if (cls === 'ddl') return cls
  return higherClass(cls, effectsOf(ast))
}

/** what the expressions inside a statement do: INTO targets, locking reads, side-effect functions, `@x :=` */
function effectsOf(root: unknown): SqlClass {
  let cls: SqlClass = 'read'
  visit(root, (node) => {
    if (node.type === 'select') {
      const into = node.into
      if (into?.position) cls = higherClass(cls, into.keyword === 'var' ? 'write' : 'ddl')
      if (node.locking_read) cls = higherClass(cls, 'write')
    } else if (node.type === 'function' || node.type === 'aggr_func') {
      const name = functionName(node).toLowerCase()
      cls = higherClass(cls, MYSQL_FUNCTION_CLASS[name] ?? 'read')
      // LAST_INSERT_ID(expr) sets the value later calls return
      if (name === 'last_insert_id' && (node.args?.value?.length ?? 0) > 0) cls = higherClass(cls, 'write')
    } else if (node.type === 'assign' && node.left?.type === 'var') {
      cls = higherClass(cls, node.left.prefix === '@' ? 'write' : 'ddl')
    }
  })
  return cls
}

/**
 * Every database the statement names (tables, columns, functions, USE) must be the exposed one; unqualified
 * names resolve in the connection's own database, which is the exposed one. Names are compared exactly, so
 * a differently cased spelling is refused rather than guessed at.
 */
function assertExposed(ast: any, exposed: string): void {
  visit(ast, (node) => {
    const named: unknown[] = []
    if (typeof node.db === 'string') named.push(node.db)
    if (node.type === 'function' && node.name && typeof node.name === 'object') named.push(node.name.schema?.value)
    for (const db of named) {
      if (typeof db === 'string' && db !== '' && db !== exposed) {
        throw new AppError('schema_not_exposed', `raw SQL on this client may only use its own database "${exposed}", not "${db}"`, {
          hint: 'name tables without a database or with the client\'s own database; server catalogues (information_schema, mysql, performance_schema, sys) and other databases are for the admin key only',
          data: { schema: db },
        })
      }
    }
  })
}

function functionName(node: any): string {
  const name = node.name
  if (typeof name === 'string') return name
  const parts = Array.isArray(name?.name) ? name.name : []
  return parts.map((p: any) => String(p?.value ?? '')).join('.')
}

function visit(node: unknown, fn: (node: any) => void): void {
  if (Array.isArray(node)) {
    for (const n of node) visit(n, fn)
    return
  }
  if (!node || typeof node !== 'object') return
  fn(node)
  for (const value of Object.values(node)) if (value && typeof value === 'object') visit(value, fn)
}

// ---------------------------------------------------------------------------------------------------------------
// The lexical check: constructs the parser and MariaDB read differently

interface Lexed {
  /** where strings, identifiers and comments start and end: two readings must agree on these */
  spans: string
  problem?: { construct: string; fix: string }
}

/**
 * Scans outside quoted strings and identifiers for what node-sql-parser and MariaDB disagree on. It scans
 * twice when the text holds a backslash: once with backslash escapes (MariaDB's default) and once without
 * (`NO_BACKSLASH_ESCAPES`, and `"…"` as an identifier under `ANSI_QUOTES`); if the two readings split the text
 * into different strings, the server's mode decides what runs, so the text is refused.
 */
export function assertUnambiguous(sql: string): void {
  const escaped = scanMysql(sql, true)
  const problem = escaped.problem ?? (sql.includes('\\') ? checkPlain(escaped, scanMysql(sql, false)) : undefined)
  if (problem) {
    throw new AppError('ambiguous_sql', `the SQL contains ${problem.construct}, which Atrium's parser and the MySQL server could read differently; ${problem.fix}`, {
      hint: 'Atrium runs only SQL it can classify exactly; see docs/security.md for the constructs it refuses',
    })
  }
}

function checkPlain(escaped: Lexed, plain: Lexed): Lexed['problem'] {
  if (plain.problem) return plain.problem
  if (plain.spans !== escaped.spans) {
    return { construct: 'a backslash before a quote inside a quoted string', fix: "double the quote instead ('it''s'), or use CHAR() for a backslash at the end of a string" }
  }
  return undefined
}

const WORD = /[A-Za-z0-9_$\u0080-\uffff]/

export function scanMysql(sql: string, backslashEscapes: boolean): Lexed {
  const spans: string[] = []
  let prev: 'string' | 'introducer' | 'word' | 'other' | 'start' = 'start'
  let atStatementStart = true
  const fail = (construct: string, fix: string): Lexed => ({ spans: spans.join(','), problem: { construct, fix } })
  let i = 0
  while (i < sql.length) {
    const ch = sql[i]
    const next = sql[i + 1]
    if (ch === '\0') return fail('a NUL byte', 'remove it')
    if (ch === "'" || ch === '"') {
      if (prev === 'string') return fail('two string literals side by side (MySQL joins them into one)', "write one literal, or CONCAT('a', 'b')")
      if (prev === 'introducer') return fail('a character set introducer such as _utf8mb4\'…\'', 'write CONVERT(\'…\' USING utf8mb4) instead')
      const start = i
      i++
      while (i < sql.length) {
        if (backslashEscapes && sql[i] === '\\') { i += 2; continue }
        if (sql[i] === ch) {
          if (sql[i + 1] === ch) { i += 2; continue }
          break
        }
        i++
      }
      i++
      spans.push(`s${start}-${i}`)
      prev = 'string'
      atStatementStart = false
      continue
    }
    if (ch === '`') {
      const start = i
      i++
      while (i < sql.length) {
        if (sql[i] === '`') {
          if (sql[i + 1] === '`') { i += 2; continue }
          break
        }
        i++
      }
      i++
      spans.push(`i${start}-${i}`)
      prev = 'word'
      atStatementStart = false
      continue
    }
    if (ch === '/' && next === '*') {
      const third = sql[i + 2]
      if (third === '!' || ((third === 'M' || third === 'm') && sql[i + 3] === '!')) {
        return fail('an executable comment (/*! … */ or /*M! … */), whose content MariaDB runs but the parser skips', 'write the SQL without the comment markers')
      }
      if (third === '+') return fail('an optimizer hint comment (/*+ … */)', 'remove the hint')
      const end = sql.indexOf('*/', i + 2)
      const stop = end < 0 ? sql.length : end + 2
      spans.push(`c${i}-${stop}`)
      i = stop
      continue
    }
    if (ch === '-' && next === '-') {
      const after = sql[i + 2]
      // MariaDB starts a comment only when -- is followed by whitespace, a control character or the end
      if (after !== undefined && after > ' ') return fail(`"--${after}" (MariaDB reads it as two minus signs, the parser as a comment)`, 'put a space after -- for a comment, or write - -x or -(-x) for arithmetic')
      const end = sql.indexOf('\n', i)
      const stop = end < 0 ? sql.length : end + 1
      spans.push(`c${i}-${stop}`)
      i = stop
      continue
    }
    if (ch === '#') {
      const end = sql.indexOf('\n', i)
      const stop = end < 0 ? sql.length : end + 1
      spans.push(`c${i}-${stop}`)
      i = stop
      continue
    }
    if (ch === '\\') return fail(`"\\${next ?? ''}" outside a string (a client command or the \\N shorthand)`, 'write NULL for \\N; client commands such as \\G are not SQL')
    if (WORD.test(ch)) {
      const start = i
      while (i < sql.length && WORD.test(sql[i])) i++
      const word = sql.slice(start, i)
      if (atStatementStart && word.toUpperCase() === 'DELIMITER') return fail('DELIMITER, a command of the mysql client, not SQL', 'separate statements with ;')
      prev = word.startsWith('_') && /^_[A-Za-z0-9]+$/.test(word) ? 'introducer' : 'word'
      atStatementStart = false
      continue
    }
    if (ch === ';') atStatementStart = true
    if (ch > ' ') prev = 'other'
    i++
  }
  return { spans: spans.join(',') }
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  const line = message.split('\n')[0]
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}

function preview(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text
}
