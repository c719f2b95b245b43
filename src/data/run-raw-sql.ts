// Raw SQL for every surface: classify with the real parser, check the right for the class, run (read-only
// for keys that may only read, as a second wall behind the classification).
import { operationRights, requireOperation } from '../auth/operation-rights.js'
import { hasRight } from '../auth/principal.js'
import type { SqlClass } from '../sql/classify.js'
import { runSql, type SqlRunResult } from '../sql/run-sql.js'
import { AppError } from '../errors/app-error.js'
import type { RequestContext } from '../request-context.js'
import type { DataDeps } from './data-deps.js'
import { assertWritable } from './write-rows.js'
import { nulByte } from '../query/input-limits.js'

export interface RawSqlOutcome extends SqlRunResult {
  sqlClass: SqlClass
}

export interface RawSqlOptions {
  /** only a read may run (a pipeline's source query), whatever rights the caller holds */
  readOnly?: boolean
}

/** what a dry run tells before anything runs: the class, and whether this caller may run it */
export interface RawSqlClassification {
  sqlClass: SqlClass
  statementCount: number
  /** the right the class needs, and whether the caller holds it */
  requiredRight: string
  allowed: boolean
  reason?: string
}

/**
 * Classifies raw SQL as running it would, and runs nothing (`dry_run`; the console shows the class before
 * running). Any raw SQL right lets a caller ask, since classification resolves names against the source.
 */
export async function classifyRawSqlFor(ctx: RequestContext, query: string): Promise<RawSqlClassification> {
  const { source, principal } = ctx
  if (typeof query !== 'string' || query.trim() === '') throw new AppError('invalid_request', 'query must be a non-empty SQL string')
  if (query.includes('\u0000')) throw nulByte('the SQL')
  const rights = (['sql.read', 'sql.write', 'sql.ddl'] as const).map((op) => operationRights[op].right)
  if (!rights.some((right) => hasRight(principal, right))) requireOperation(principal, 'sql.read', 'classify SQL')
  const classified = await source.dialectEntry.classifyRawSql(source, query, { isAdmin: principal.kind === 'admin' })
  const requiredRight = operationRights[`sql.${classified.class}`].right
  return {
    sqlClass: classified.class,
    statementCount: classified.statements.length,
    requiredRight,
    allowed: hasRight(principal, requiredRight),
    ...(classified.reason ? { reason: classified.reason } : {}),
  }
}

/** the request's deadline (ctx.deadline) cancels the running SQL when it passes */
export async function runRawSql(deps: DataDeps, ctx: RequestContext, query: string, opts: RawSqlOptions = {}): Promise<RawSqlOutcome> {
  const { source, principal } = ctx
  if (typeof query !== 'string' || query.trim() === '') throw new AppError('invalid_request', 'query must be a non-empty SQL string')
  // a NUL ends the text on the wire: the server would read a broken message and drop the connection
  if (query.includes('\u0000')) throw nulByte('the SQL')
  // the dialect's own parser; on PostgreSQL, functions are resolved against the source's pg_proc and every caller
  // but the admin key is held to the exposed schemas, as on /rest/v1
  const classified = await source.dialectEntry.classifyRawSql(source, query, { isAdmin: principal.kind === 'admin' })
  if (opts.readOnly && classified.class !== 'read') {
    throw new AppError('invalid_request', `only a read-only query may run here; this one is classified as ${classified.class}`, { detail: classified.reason })
  }
  requireOperation(principal, `sql.${classified.class}`, classified.reason)
  if (classified.class !== 'read') assertWritable(source)
  const readOnly = classified.class === 'read' && (opts.readOnly === true || !hasRight(principal, operationRights['sql.write'].right))
  const signal = ctx.deadline
  const leave = await deps.rawSqlGate.enter(principal, source.name, source.rawPoolMax, signal)
  let result: SqlRunResult
  try {
    result = await runSql(source, classified, { readOnly, cap: deps.config.gateway.rawSql, signal, query })
  } finally {
    leave()
  }
  if (classified.class !== 'read') deps.resultCache.invalidateSource(source.name)
  if (classified.class === 'ddl') await source.refreshSchema().catch(() => {})
  return { ...result, sqlClass: classified.class }
}

