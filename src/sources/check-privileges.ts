// Finds out whether a data source connects with more power than a client should have (a superuser, server
// file access). Asked once per registration in the background, never on the request path.
import type { Executor } from './driver.js'

export interface PrivilegeReport {
  /** PostgreSQL: rolsuper; MySQL/MariaDB: SUPER or ALL PRIVILEGES on *.* */
  superuser: boolean
  /** each a sentence an administrator can act on */
  warnings: string[]
}

// Predefined roles whose members reach outside the database: server files, programs, other backends.
const PG_RISKY_ROLES = ['pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program', 'pg_signal_backend']

const PG_SQL = `
  SELECT current_setting('is_superuser') = 'on' AS superuser,
         r.rolbypassrls AS bypass_rls,
         r.rolcreaterole AS create_role,
         ARRAY(SELECT g FROM unnest($1::text[]) AS g
                WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = g) AND pg_has_role(current_user, g, 'MEMBER')) AS risky_roles
    FROM pg_roles r WHERE r.rolname = current_user`

const ADVICE = 'give the client a dedicated role without it (see docs/security.md)'

export async function checkPostgresPrivileges(db: Executor): Promise<PrivilegeReport> {
  const row = (await db.query({ sql: PG_SQL, params: [PG_RISKY_ROLES] })).rows[0] as
    { superuser: boolean; bypass_rls: boolean; create_role: boolean; risky_roles: string[] } | undefined
  if (!row) return { superuser: false, warnings: [] }
  const warnings: string[] = []
  if (row.superuser) warnings.push(`connects as a superuser: raw SQL can read server files, run programs and reach every database; ${ADVICE}`)
  else {
    if (row.risky_roles.length) warnings.push(`the role is a member of ${row.risky_roles.join(', ')}; ${ADVICE}`)
    if (row.bypass_rls) warnings.push(`the role bypasses row level security; ${ADVICE}`)
    if (row.create_role) warnings.push(`the role can create roles; ${ADVICE}`)
  }
  return { superuser: row.superuser, warnings }
}

// SHOW GRANTS lists the connecting account's own grants (and its active role's) one statement per row.
const GLOBAL_GRANT = /^GRANT (.+?) ON \*\.\* TO /i

export async function checkMysqlPrivileges(db: Executor): Promise<PrivilegeReport> {
  const rows = (await db.query({ sql: 'SHOW GRANTS', params: [] })).rows
  const global = rows
    .map((row) => String(Object.values(row)[0] ?? ''))
    .map((grant) => GLOBAL_GRANT.exec(grant)?.[1].toUpperCase().split(/\s*,\s*/) ?? [])
    .flat()
  const superuser = global.includes('ALL PRIVILEGES') || global.includes('ALL') || global.includes('SUPER')
  const warnings: string[] = []
  if (superuser) warnings.push(`connects with SUPER or ALL PRIVILEGES on *.*: raw SQL can reach every database and server file; ${ADVICE}`)
  else if (global.includes('FILE')) warnings.push(`the account has the FILE privilege (server files through INTO OUTFILE and LOAD_FILE); ${ADVICE}`)
  return { superuser, warnings }
}
