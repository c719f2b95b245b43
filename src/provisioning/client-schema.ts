// Atrium's schema on a client: the tables its features expect in a client database, applying them and reporting
// which are present. The statements are the files under sql/ (one per table and dialect), run by the feature
// that owns each table, so `POST /admin/provision` and that feature's own install route cannot drift apart.
import type { Config } from '../config/schema.js'
import { installAuditLog, type AuditLogInstallDeps } from '../management/install-audit-log.js'
import { Source } from '../sources/source.js'

/** what this module needs, passed in from boot.ts */
export interface ClientSchemaDeps extends AuditLogInstallDeps {
  config: Config
}

interface ClientTable {
  name: string
  /** creates the table (idempotent); the statements it ran */
  install(deps: ClientSchemaDeps, source: Source, requestId: string | null): Promise<string[]>
}

// One entry per table a feature needs on a client. database_audit_log: every /management/* change is recorded there.
const CLIENT_TABLES: ClientTable[] = [
  { name: 'database_audit_log', install: async (deps, source, requestId) => (await installAuditLog(deps, source, requestId)).statements },
]

export const CLIENT_TABLE_NAMES: readonly string[] = CLIENT_TABLES.map((t) => t.name)

export interface AppliedSchema {
  statements_executed: number
  tables: string[]
}

/** creates every table of Atrium's client schema that is missing; safe to repeat */
export async function applyClientSchema(deps: ClientSchemaDeps, source: Source, requestId: string | null): Promise<AppliedSchema> {
  let executed = 0
  for (const table of CLIENT_TABLES) executed += (await table.install(deps, source, requestId)).length
  return { statements_executed: executed, tables: [...CLIENT_TABLE_NAMES] }
}

export interface SchemaStatus {
  provisioned: boolean
  present_tables: string[]
  missing_tables: string[]
}

/** which of Atrium's client tables the database has (public on PostgreSQL, the client's database on MySQL) */
export async function clientSchemaStatus(source: Source): Promise<SchemaStatus> {
  const stmt = source.dialect === 'postgres'
    ? { sql: "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_name = ANY($1::text[])", params: [CLIENT_TABLE_NAMES] }
    : { sql: `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN (${CLIENT_TABLE_NAMES.map(() => '?').join(', ')})`, params: [...CLIENT_TABLE_NAMES] }
  const found = new Set((await source.driver.query(stmt)).rows.map((r) => String(r.name ?? r.NAME)))
  const present = CLIENT_TABLE_NAMES.filter((t) => found.has(t))
  const missing = CLIENT_TABLE_NAMES.filter((t) => !found.has(t))
  return { provisioned: missing.length === 0, present_tables: present, missing_tables: missing }
}

/**
 * A source for a database that is not (yet) a client, closed after `work`: one connection, the configured
 * timeouts. The name only labels the audit row and the logs.
 */
export async function withUnregisteredSource<T>(deps: ClientSchemaDeps, name: string, url: string, work: (source: Source) => Promise<T>): Promise<T> {
  const source = new Source({ name, url, origin: 'catalog', pool: { ...deps.config.pool, max: 1 } })
  try {
    return await work(source)
  } finally {
    await source.close().catch(() => {})
  }
}
