// Classifies PostgreSQL raw SQL by what will run: libpg-query's parse tree gives the statement kinds, every
// function called (resolved against the source's pg_proc) and every relation named (checked against the exposed
// schemas). It only reads the SQL and the catalogue; it never runs the statements.
import { loadModule, parseSync } from 'libpg-query'
import { AppError } from '../errors/app-error.js'
import { deepFreeze } from '../query/freeze.js'
import { functionKey, type FunctionCandidate, type FunctionName, type PgCatalogue } from '../sources/pg-catalogue.js'
import { higherClass, type ClassifiedSql, type ClassifiedStatement, type SqlClass } from './classify.js'
import { functionFamilyOf, PG_VOLATILE_READS } from './pg-function-families.js'

let pgParserReady: Promise<void> | undefined
/** the WASM PostgreSQL parser loads once per process */
export function loadSqlParsers(): Promise<void> {
  pgParserReady ??= loadModule()
  return pgParserReady
}

const WRITE_KINDS = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt'])
const READ_UTILITY = new Set(['VariableShowStmt'])

export interface RelationRef {
  schema: string | null
  name: string
}

export interface PgStatementAnalysis {
  kind: string
  sql: string
  /** the class the statement kind alone gives, before any function is looked at */
  kindClass: SqlClass
  kindReason?: string
  functions: FunctionName[]
  /** relations named in the statement, CTE references left out */
  relations: RelationRef[]
  /** SET search_path, or set_config on search_path (or on a setting not written as a literal) */
  changesSearchPath: boolean
  isTransactionControl: boolean
  isPlainSelect: boolean
}

interface Walk {
  functions: FunctionName[]
  relations: RelationRef[]
  hasDml: boolean
  hasLocking: boolean
  changesSearchPath: boolean
}

const nameOf = (parts: any[]): string[] => parts.map((p) => String(p?.String?.sval ?? p?.String?.str ?? ''))

/**
 * Walks any node. Fields typed as one node kind come unwrapped in libpg-query's JSON (`InsertStmt.relation`,
 * `CallStmt.funccall`, `IntoClause.rel`), so RangeVar and FuncCall are recognised by shape, wrapped or not.
 * `scope` holds the CTE names visible at this point: an unqualified name among them is not a relation.
 */
function visit(node: unknown, scope: ReadonlySet<string>, w: Walk): void {
  if (Array.isArray(node)) {
    for (const n of node) visit(n, scope, w)
    return
  }
  if (!node || typeof node !== 'object') return
  const obj = node as Record<string, any>
  if (typeof obj.relname === 'string' && 'relpersistence' in obj) {
    if (obj.schemaname || !scope.has(obj.relname)) w.relations.push({ schema: obj.schemaname ?? null, name: obj.relname })
    return
  }
  if (Array.isArray(obj.funcname) && 'funcformat' in obj) recordCall(obj, w)
  if (obj.withClause?.ctes) {
    visitWithScope(obj, scope, w)
    return
  }
  for (const [key, value] of Object.entries(obj)) {
    if (WRITE_KINDS.has(key)) w.hasDml = true
    if (key === 'lockingClause' && Array.isArray(value) && value.length > 0) w.hasLocking = true
    // the target of INSERT/UPDATE/DELETE/MERGE is always a real table, even when a CTE has its name
    if (key === 'relation' && WRITE_KINDS_BODY.has(obj)) visit(value, EMPTY, w)
    else visit(value, scope, w)
  }
}

const EMPTY: ReadonlySet<string> = new Set()
// bodies of DML nodes seen during the current walk (single-threaded, cleared per statement)
const WRITE_KINDS_BODY = new WeakSet<object>()

/** a statement with WITH: each CTE sees the ones before it (all of them, itself included, when RECURSIVE) */
function visitWithScope(obj: Record<string, any>, scope: ReadonlySet<string>, w: Walk): void {
  const ctes: any[] = obj.withClause.ctes
  const names = ctes.map((c) => String(c?.CommonTableExpr?.ctename ?? ''))
  const recursive = Boolean(obj.withClause.recursive)
  ctes.forEach((c, i) => {
    const visible = new Set([...scope, ...(recursive ? names : names.slice(0, i))])
    visit(c?.CommonTableExpr?.ctequery, visible, w)
  })
  const inner = new Set([...scope, ...names])
  const rest = { ...obj }
  delete rest.withClause
  if (WRITE_KINDS_BODY.has(obj)) WRITE_KINDS_BODY.add(rest)
  visit(rest, inner, w)
}

function recordCall(call: Record<string, any>, w: Walk): void {
  const parts = nameOf(call.funcname)
  const name = parts[parts.length - 1]
  const schema = parts.length > 1 ? parts[parts.length - 2] : null
  w.functions.push({ schema, name })
  if (name.toLowerCase() === 'set_config') {
    const setting = call.args?.[0]?.A_Const?.sval?.sval
    if (typeof setting !== 'string' || setting.trim().toLowerCase() === 'search_path') w.changesSearchPath = true
  }
}

/** marks the bodies of DML nodes so their `relation` is walked without CTE names in scope */
function markDmlBodies(node: unknown): void {
  if (Array.isArray(node)) { node.forEach(markDmlBodies); return }
  if (!node || typeof node !== 'object') return
  for (const [key, value] of Object.entries(node)) {
    if (WRITE_KINDS.has(key) && value && typeof value === 'object') WRITE_KINDS_BODY.add(value)
    markDmlBodies(value)
  }
}

/** the class a statement kind deserves before its functions are looked at; see docs/security.md */
function classifyPgNode(kind: string, body: any, w: Walk): { cls: SqlClass; reason?: string } {
  if (WRITE_KINDS.has(kind)) return { cls: 'write' }
  if (kind === 'SelectStmt') {
    if (body.intoClause) return { cls: 'ddl', reason: 'create a table with SELECT … INTO' }
    if (w.hasDml) return { cls: 'write', reason: 'run a data-modifying CTE' }
    if (w.hasLocking) return { cls: 'write', reason: 'lock rows with SELECT … FOR UPDATE/SHARE' }
    return { cls: 'read' }
  }
  if (kind === 'ExplainStmt') {
    const analyze = (body.options ?? []).some((o: any) => o?.DefElem?.defname === 'analyze')
    const [innerKind, innerBody] = Object.entries(body.query ?? {})[0] ?? ['SelectStmt', {}]
    return analyze ? classifyPgNode(innerKind, innerBody, w) : { cls: 'read' }
  }
  if (kind === 'CopyStmt') {
    if (body.is_program || body.filename) return { cls: 'ddl', reason: 'run COPY to or from a server file or program' }
    return { cls: 'write' }
  }
  // a procedure is a volatile function that may also run its own transaction control
  if (kind === 'CallStmt') return { cls: 'write', reason: 'call a procedure' }
  if (READ_UTILITY.has(kind)) return { cls: 'read' }
  return { cls: 'ddl' }
}

/**
 * Analyses of recent SQL texts, keyed by the exact text. An analysis depends on the text alone (the parse tree,
 * never the database), so it never goes stale: what depends on the source (function volatility, where a name
 * resolves, the exposed schemas) is still decided for every request from the catalogue, which sees new and
 * changed functions. A Map keeps insertion order, which makes it an LRU; long texts are not kept, so the cache
 * stays a few MB at most. Saves the parse and walk (tens of µs) on SQL that an application sends again and again.
 */
const ANALYSIS_CACHE_ENTRIES = 1_000
const ANALYSIS_CACHE_MAX_TEXT = 4_096
const analyses = new Map<string, readonly PgStatementAnalysis[]>()

/** parses and walks every statement; no database needed. The answer is frozen: it may be shared. */
export async function analysePostgres(sql: string): Promise<readonly PgStatementAnalysis[]> {
  const hit = analyses.get(sql)
  if (hit) {
    analyses.delete(sql)
    analyses.set(sql, hit)
    return hit
  }
  const analysed = deepFreeze(await parseAndWalk(sql))
  if (sql.length <= ANALYSIS_CACHE_MAX_TEXT) {
    if (analyses.size >= ANALYSIS_CACHE_ENTRIES) analyses.delete(analyses.keys().next().value as string)
    analyses.set(sql, analysed)
  }
  return analysed
}

async function parseAndWalk(sql: string): Promise<PgStatementAnalysis[]> {
  await loadSqlParsers()
  let tree: { stmts?: Array<{ stmt: Record<string, any>; stmt_location?: number; stmt_len?: number }> }
  try {
    tree = parseSync(sql)
  } catch (err) {
    const e = err as { message: string; sqlDetails?: { cursorPosition?: number } }
    throw new AppError('sql_error', `SQL syntax error: ${e.message}`, { sqlstate: '42601', data: e.sqlDetails?.cursorPosition !== undefined ? { position: e.sqlDetails.cursorPosition + 1 } : {} })
  }
  // stmt_location/stmt_len are byte offsets into the UTF-8 text
  const bytes = Buffer.from(sql, 'utf8')
  return (tree.stmts ?? []).map((s) => {
    const [kind, body] = Object.entries(s.stmt)[0]
    const start = s.stmt_location ?? 0
    const text = (s.stmt_len ? bytes.subarray(start, start + s.stmt_len) : bytes.subarray(start)).toString('utf8').trim()
    const w: Walk = { functions: [], relations: [], hasDml: false, hasLocking: false, changesSearchPath: false }
    markDmlBodies(s.stmt)
    visit(s.stmt, EMPTY, w)
    if (kind === 'VariableSetStmt' && String(body.name ?? '').toLowerCase() === 'search_path' && body.kind !== 'VAR_RESET') w.changesSearchPath = true
    const { cls, reason } = classifyPgNode(kind, body, w)
    return {
      kind,
      sql: text,
      kindClass: cls,
      kindReason: reason,
      functions: w.functions,
      relations: w.relations,
      changesSearchPath: w.changesSearchPath,
      isTransactionControl: kind === 'TransactionStmt',
      // the shape, not the class: a SELECT that calls nextval() is still rendered to JSON by PostgreSQL
      isPlainSelect: kind === 'SelectStmt' && cls === 'read',
    }
  })
}

export interface PgClassifyContext {
  /** the source's catalogue, asked for only once the SQL has parsed; without it only the families are known */
  catalogue?: () => Promise<PgCatalogue>
  /**
   * the client's exposed schemas when the caller is not the admin: relations and schema-qualified functions
   * outside them are refused, and so is changing search_path; null or absent for the admin key
   */
  exposedSchemas?: readonly string[] | null
}

interface Verdict {
  cls: SqlClass
  reason?: string
}

const raise = (a: Verdict, b: Verdict): Verdict => (higherClass(a.cls, b.cls) === a.cls ? a : b)

/** the class one call gives: its family first, then its volatility (unknown functions add nothing) */
function classifyCall(fn: FunctionName, candidates: FunctionCandidate[] | undefined): Verdict {
  const family = functionFamilyOf(fn.name)
  if (family) return { cls: 'ddl', reason: `call ${fn.name}(), which ${family.why} (${family.family})` }
  if (!candidates) return { cls: 'read' }
  const volatile = candidates.filter((c) => c.volatility === 'v')
  if (volatile.length === 0) return { cls: 'read' }
  if (volatile.every((c) => c.schema === 'pg_catalog') && PG_VOLATILE_READS.has(fn.name)) return { cls: 'read' }
  const what = volatile.some((c) => c.kind === 'p') ? 'the procedure' : 'the volatile function'
  return { cls: 'write', reason: `call ${what} ${fn.name}(), which may change data` }
}

function refuse(what: string, exposed: readonly string[], hint: string): never {
  throw new AppError('schema_not_exposed', `${what} is outside the client's exposed schemas (${exposed.join(', ')})`, {
    hint,
    data: { exposed_schemas: [...exposed] },
  })
}

/** checks names against the exposed schemas (non-admin callers); throws schema_not_exposed */
function checkExposure(statements: readonly PgStatementAnalysis[], resolved: Map<string, string>, exposed: readonly string[]): void {
  const isExposed = (schema: string) => exposed.includes(schema)
  for (const st of statements) {
    if (st.changesSearchPath) {
      refuse('changing search_path', exposed, 'qualify names with an exposed schema instead; only the admin key may change search_path')
    }
    for (const r of st.relations) {
      const schema = r.schema ?? resolved.get(r.name)
      // an unqualified name that resolves to nothing yet fails in PostgreSQL, or is created by this script
      if (schema === undefined || isExposed(schema)) continue
      refuse(`relation "${schema}"."${r.name}"`, exposed, 'raw SQL reaches the same tables as /rest/v1; the admin key can read the others')
    }
    for (const f of st.functions) {
      if (f.schema === null || f.schema === 'pg_catalog' || isExposed(f.schema)) continue
      refuse(`function "${f.schema}"."${f.name}"`, exposed, 'call functions of the exposed schemas or pg_catalog')
    }
  }
}

/**
 * Splits and classifies PostgreSQL raw SQL. With a catalogue every function is resolved against pg_proc (one
 * query for the names the cache misses); with exposed schemas the names are checked for a non-admin caller.
 */
export async function classifyPostgres(sql: string, ctx: PgClassifyContext = {}): Promise<ClassifiedSql> {
  const analysed = await analysePostgres(sql)
  const unqualified = ctx.exposedSchemas ? analysed.flatMap((st) => st.relations.filter((r) => r.schema === null).map((r) => r.name)) : []
  const functions = analysed.flatMap((st) => st.functions)
  const found = ctx.catalogue && (functions.length > 0 || unqualified.length > 0)
    ? await (await ctx.catalogue()).lookup(functions, unqualified)
    : { functions: new Map<string, FunctionCandidate[]>(), relations: new Map<string, string>() }
  if (ctx.exposedSchemas) checkExposure(analysed, found.relations, ctx.exposedSchemas)

  let overall: Verdict = { cls: 'read' }
  const statements: ClassifiedStatement[] = analysed.map((st) => {
    let verdict: Verdict = { cls: st.kindClass, reason: st.kindReason }
    for (const fn of st.functions) verdict = raise(verdict, classifyCall(fn, ctx.catalogue ? found.functions.get(functionKey(fn)) : undefined))
    overall = raise(overall, verdict)
    return { sql: st.sql, class: verdict.cls, isPlainSelect: st.isPlainSelect, isTransactionControl: st.isTransactionControl }
  })
  return { statements, class: overall.cls, reason: overall.reason }
}
