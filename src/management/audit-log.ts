// The audit table management changes are recorded in (public.database_audit_log, or database_audit_log in the
// MySQL database): checking that it is there, writing one row per change, and installing it from sql/.
import { readFileSync } from 'node:fs'
import { AppError } from '../errors/app-error.js'
import type { Dialect } from '../sources/dialects.js'
import type { Executor } from '../sources/driver.js'

export interface AuditEntry {
  actor: string
  apiKeyId: string | null
  clientName: string
  operation: string
  objectSchema: string | null
  objectName: string
  statement: string
  details: Record<string, unknown>
  requestId: string | null
}

const REQUIRED_COLUMNS = ['occurred_at', 'actor', 'api_key_id', 'client_name', 'operation', 'object_schema', 'object_name', 'statement', 'details', 'request_id']

const COLUMNS_SQL: Record<Dialect, string> = {
  postgres: "SELECT column_name::text AS column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'database_audit_log'",
  mysql: "SELECT column_name AS column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'database_audit_log'",
}

/** whether the audit table exists with every column Atrium writes; names the missing ones */
export async function auditLogState(db: Executor, dialect: Dialect): Promise<{ installed: boolean; missing: string[]; exists: boolean }> {
  const rows = (await db.query({ sql: COLUMNS_SQL[dialect], params: [] })).rows
  const present = new Set(rows.map((r) => String(r.column_name).toLowerCase()))
  const missing = REQUIRED_COLUMNS.filter((c) => !present.has(c))
  return { installed: present.size > 0 && missing.length === 0, missing, exists: present.size > 0 }
}

/** 503 audit_log_missing unless the audit table is ready; checked before any DDL runs */
export async function assertAuditLog(db: Executor, dialect: Dialect, client: string): Promise<void> {
  const state = await auditLogState(db, dialect)
  if (state.installed) return
  const table = dialect === 'postgres' ? 'public.database_audit_log' : 'database_audit_log'
  throw new AppError('audit_log_missing', state.exists
    ? `${table} on client "${client}" lacks the columns ${state.missing.join(', ')}; management changes are refused until it is complete`
    : `${table} does not exist on client "${client}"; management changes are refused until it does`, {
    hint: `install it with POST /admin/clients/${client}/audit-log or sql/database_audit_log.${dialect}.sql`,
    retryAfter: 60,
  })
}

/** writes one audit row on the given executor (the DDL's own transaction on PostgreSQL); returns its id */
export async function writeAuditRow(db: Executor, dialect: Dialect, e: AuditEntry): Promise<number | null> {
  const params = [e.actor, e.apiKeyId, e.clientName, e.operation, e.objectSchema, e.objectName, e.statement, JSON.stringify(e.details), e.requestId]
  if (dialect === 'postgres') {
    const res = await db.query({
      sql: `INSERT INTO public.database_audit_log (actor, api_key_id, client_name, operation, object_schema, object_name, statement, details, request_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9) RETURNING id`,
      params,
    })
    return Number(res.rows[0]?.id ?? null)
  }
  const res = await db.query({
    sql: `INSERT INTO database_audit_log (actor, api_key_id, client_name, operation, object_schema, object_name, statement, details, request_id)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    params,
  })
  return res.insertId ?? null
}

/** the statements of sql/database_audit_log.<dialect>.sql, comments removed */
export function auditLogStatements(dialect: Dialect): string[] {
  const text = readFileSync(new URL(`../../sql/database_audit_log.${dialect}.sql`, import.meta.url), 'utf8')
  return text
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.replace(/\s+--[^\n]*$/gm, '').trim())
    .filter(Boolean)
}
