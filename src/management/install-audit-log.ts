// Installs the audit table from sql/database_audit_log.<dialect>.sql on a client, recording its own row.
import { assertWritable } from '../data/write-rows.js'
import type { Source } from '../sources/source.js'
import { auditLogStatements, writeAuditRow } from './audit-log.js'
import type { Logger } from 'pino'
import type { Metrics } from '../observability/metrics.js'

/** what this module needs, passed in from boot.ts */
export interface AuditLogInstallDeps {
  metrics: Metrics
  logger: Logger
}

export async function installAuditLog(deps: AuditLogInstallDeps, source: Source, requestId: string | null): Promise<{ statements: string[]; audit_log_id: number | null }> {
  assertWritable(source)
  const statements = auditLogStatements(source.dialect)
  const record = (db: Parameters<typeof writeAuditRow>[0]) => writeAuditRow(db, source.dialect, {
    actor: 'admin', apiKeyId: null, clientName: source.name, operation: 'management.audit_log.install',
    objectSchema: source.dialect === 'postgres' ? 'public' : source.schemas[0], objectName: 'database_audit_log',
    statement: statements.join(';\n'), details: {}, requestId,
  })
  const auditId = source.dialect === 'postgres'
    ? await source.driver.transaction('read write', async (tx) => {
        for (const sql of statements) await tx.query({ sql, params: [] })
        return record(tx)
      })
    : await (async () => {
        for (const sql of statements) await source.driver.query({ sql, params: [] })
        return record(source.driver)
      })()
  deps.metrics.managementMutations.inc({ operation: 'management.audit_log.install', status: 'success' })
  await source.refreshSchema().catch((err: Error) => deps.logger.warn({ client: source.name, err: err.message }, 'schema refresh failed'))
  return { statements, audit_log_id: auditId }
}
