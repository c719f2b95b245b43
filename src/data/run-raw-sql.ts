// Raw SQL for every surface: classify with the real parser, check the right for the class, run (read-only
// for keys that may only read, as a second wall behind the classification).
import { operationRights, requireOperation } from '../auth/operation-rights.js'
import { hasRight, type Principal } from '../auth/principal.js'
import type { Source } from '../sources/source.js'
import type { ClassifiedSql, SqlClass } from '../sql/classify.js'
import { classifyMysql } from '../sql/classify-mysql.js'
import { classifyPostgres } from '../sql/classify-postgres.js'
import { catalogueFor } from '../sources/pg-catalogue.js'
import { runSql, type SqlRunResult } from '../sql/run-sql.js'
import { AppError } from '../errors/app-error.js'
import type { Services } from '../services.js'
import { assertWritable } from './write-rows.js'
import { nulByte } from '../query/input-limits.js'


export interface RawSqlOutcome extends SqlRunResult {
  sqlClass: SqlClass
}

export interface RawSqlOptions {
  /** aborts when the request is abandoned (its deadline passed): the running SQL is cancelled */
  signal?: AbortSignal
}

export async function runRawSql(services: Services, source: Source, principal: Principal, query: string, opts: RawSqlOptions = {}): Promise<RawSqlOutcome> {
  if (typeof query !== 'string' || query.trim() === '') throw new AppError('invalid_request', 'query must be a non-empty SQL string')
  // a NUL ends the text on the wire: the server would read a broken message and drop the connection
  if (query.includes('\u0000')) throw nulByte('the SQL')
  const classified = source.dialect === 'postgres'
    ? await classifyForSource(source, principal, query)
    : classifyMysql(query, { exposedDatabase: source.schemas[0], isAdmin: principal.kind === 'admin' })
  requireOperation(principal, `sql.${classified.class}`, classified.reason)
  if (classified.class !== 'read') assertWritable(source)
  const readOnly = classified.class === 'read' && !hasRight(principal, operationRights['sql.write'].right)
  const leave = await services.rawSqlGate.enter(principal, source.name, source.rawPoolMax, opts.signal)
  let result: SqlRunResult
  try {
    result = await runSql(source, classified, { readOnly, cap: services.config.gateway.rawSql, signal: opts.signal })
  } finally {
    leave()
  }
  if (classified.class !== 'read') services.resultCache.invalidateSource(source.name)
  if (classified.class === 'ddl') await source.refreshSchema().catch(() => {})
  return { ...result, sqlClass: classified.class }
}

/**
 * PostgreSQL: functions are resolved against the source's own pg_proc (cached per schema-cache generation), and
 * every caller but the admin key is held to the exposed schemas, as on /rest/v1.
 */
async function classifyForSource(source: Source, principal: Principal, query: string): Promise<ClassifiedSql> {
  const catalogue = async () => catalogueFor(await source.schema(), () => source.driver)
  return classifyPostgres(query, { catalogue, exposedSchemas: principal.kind === 'admin' ? null : source.schemas })
}
