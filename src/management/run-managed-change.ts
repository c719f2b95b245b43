// Runs one management change: checks, DDL and its audit row together (one transaction on PostgreSQL;
// statement then row on MySQL, which commits DDL implicitly), then refreshes schema caches everywhere.
import type { Operation } from '../auth/operation-rights.js'
import type { RequestContext } from '../request-context.js'
import { assertWritable } from '../data/write-rows.js'
import { AppError } from '../errors/app-error.js'
import type { ErrorCode } from '../errors/codes.js'
import type { Executor } from '../sources/driver.js'
import type { Source } from '../sources/source.js'
import { assertAuditLog, writeAuditRow } from './audit-log.js'
import { actorOf, requireManagementAccess } from './management-access.js'
import type { Logger } from 'pino'
import type { Metrics } from '../observability/metrics.js'
import type { ResultCache } from '../query/result-cache.js'
import type { RegistrySync } from '../clients/registry-sync.js'

/** what this module needs, passed in from boot.ts */
export interface ManagementDeps {
  metrics: Metrics
  logger: Logger
  /** cached reads of the changed source are dropped */
  resultCache: ResultCache
  /** tells other processes to reload the source's schema */
  clientSync: RegistrySync
}


export interface ManagedChange {
  /** dotted name for the audit row and metrics, e.g. management.tables.create */
  operation: string
  objectSchema: string | null
  objectName: string
  details: Record<string, unknown>
  /** checks what exists (on the executor the DDL will use) and returns the statements to run */
  plan(db: Executor): Promise<string[]>
  /** the code for "already exists" errors the database raises if a concurrent change wins the race */
  existsCode?: ErrorCode
  /**
   * PostgreSQL: the statements cannot run in a transaction (CREATE INDEX CONCURRENTLY, which does not block
   * writes while it builds); they run one by one, then the audit row. If they fail after the checks passed,
   * `cleanup` runs (a failed concurrent build leaves an invalid index behind).
   */
  outsideTransaction?: { cleanup: string[] }
}

export interface ChangeOutcome {
  statements: string[]
  audit_log_id: number | null
}

// DDL waits for an ACCESS EXCLUSIVE lock; a busy table should fail the request, not hold it for minutes.
const LOCK_TIMEOUT = '5s'

/** access (401/403) and the frozen check (423) come before anything else is looked at */
export function authorizeManagement(ctx: RequestContext, operation: Operation): void {
  requireManagementAccess(ctx.principal, ctx.source, operation)
  assertWritable(ctx.source)
}

export async function runManagedChange(deps: ManagementDeps, ctx: RequestContext, change: ManagedChange): Promise<ChangeOutcome> {
  const { source } = ctx
  const dialect = source.dialect
  const { actor, apiKeyId } = actorOf(ctx.principal)
  /** the checks passed and the statements were sent: only then is there anything to clean up */
  let ran = false
  const apply = async (db: Executor): Promise<ChangeOutcome> => {
    await assertAuditLog(db, dialect, source.name)
    const statements = await change.plan(db)
    ran = true
    for (const sql of statements) await db.query({ sql, params: [] })
    const auditId = await writeAuditRow(db, dialect, {
      actor, apiKeyId, clientName: source.name, operation: change.operation, objectSchema: change.objectSchema,
      objectName: change.objectName, statement: statements.join(';\n'), details: change.details, requestId: ctx.requestId,
    })
    return { statements, audit_log_id: auditId }
  }
  let outcome: ChangeOutcome
  try {
    outcome = dialect === 'postgres' && change.outsideTransaction
      ? await apply(source.driver).catch(async (err) => {
          if (ran) for (const sql of change.outsideTransaction!.cleanup) await source.driver.query({ sql, params: [] }).catch(() => undefined)
          throw err
        })
      : dialect === 'postgres'
      ? await source.driver.transaction('read write', async (tx) => {
          await tx.query({ sql: `SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`, params: [] })
          return apply(tx)
        })
      : await apply(source.driver)
  } catch (err) {
    deps.metrics.managementMutations.inc({ operation: change.operation, status: 'error' })
    throw asManagementError(err, change.existsCode ?? 'table_exists')
  }
  deps.metrics.managementMutations.inc({ operation: change.operation, status: 'success' })
  await afterChange(deps, source)
  return outcome
}

/** this process's schema cache now; other processes through the catalog */
async function afterChange(deps: ManagementDeps, source: Source): Promise<void> {
  deps.resultCache.invalidateSource(source.name)
  await source.refreshSchema().catch((err: Error) => deps.logger.warn({ client: source.name, err: err.message }, 'schema refresh after DDL failed'))
  await deps.clientSync.announceSchemaChange(source.name).catch((err: Error) => deps.logger.warn({ client: source.name, err: err.message }, 'announcing a schema change failed'))
}

// SQLSTATEs (PostgreSQL, and MySQL's own) a concurrent change can still raise after the checks passed.
const BY_SQLSTATE: Record<string, ErrorCode | 'exists'> = {
  '42P07': 'exists', '42S01': 'exists', '42710': 'exists',
  '42701': 'column_exists', '42S21': 'column_exists',
  '42P01': 'table_not_found', '42S02': 'table_not_found',
  '42703': 'column_not_found', '42S22': 'column_not_found',
  '42704': 'index_not_found',
}

function asManagementError(err: unknown, existsCode: ErrorCode): unknown {
  if (!(err instanceof AppError) || !err.extra.sqlstate) return err
  const mapped = BY_SQLSTATE[err.extra.sqlstate]
  if (!mapped) return err
  return new AppError(mapped === 'exists' ? existsCode : mapped, err.message, { ...err.extra, cause: err })
}
