// Creates or repairs the embedded default data source: its own database, owned by and reached through a
// non-superuser role that cannot connect to the catalog. It never touches the catalog's own tables.
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import type { Logger } from 'pino'

/** the role and database of the `default` client; the password is generated once per data directory */
export const DEFAULT_SOURCE_ROLE = 'atrium_default'
export const DEFAULT_SOURCE_DATABASE = 'atrium_default'
export const DEFAULT_SOURCE_CREDENTIALS_FILE = 'embedded-default-source.json'

interface Credentials {
  user: string
  password: string
  database: string
}

// Every attribute that would let the role step outside its own database is switched off explicitly, so a
// role altered by hand (or by an older Atrium) is repaired on the next start.
const ROLE_ATTRIBUTES = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT -1'

// One round trip that answers everything the setup has to decide. Role memberships come with their grantor,
// because since PostgreSQL 16 a REVOKE removes only the grant made by the named grantor.
const INSPECT_SQL = `
  SELECT r.oid IS NOT NULL AS has_role,
         EXISTS (SELECT 1 FROM pg_database WHERE datname = $2) AS has_database,
         (SELECT count(*)::int FROM pg_tables WHERE schemaname = 'public') AS catalog_public_tables,
         COALESCE((SELECT json_agg(json_build_array(g.rolname, gr.rolname))
                     FROM pg_auth_members m
                     JOIN pg_roles g ON g.oid = m.roleid
                     JOIN pg_roles gr ON gr.oid = m.grantor
                    WHERE m.member = r.oid), '[]'::json) AS memberships,
         current_user AS bootstrap_user,
         current_database() AS catalog_database
    FROM (SELECT 1) AS one
    LEFT JOIN pg_roles r ON r.rolname = $1`

interface Inspection {
  has_role: boolean
  has_database: boolean
  catalog_public_tables: number
  memberships: Array<[role: string, grantor: string]>
  bootstrap_user: string
  catalog_database: string
}

/** reads the default source's credentials, creating them (mode 0600) beside the catalog's on first use */
function defaultSourceCredentials(dataDir: string): Credentials {
  const file = join(dataDir, DEFAULT_SOURCE_CREDENTIALS_FILE)
  if (existsSync(file)) {
    // a copy restored with a looser mode is tightened again: the file holds a password
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600)
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Credentials>
    if (stored.user && stored.password && stored.database) return stored as Credentials
  }
  const fresh: Credentials = { user: DEFAULT_SOURCE_ROLE, password: randomBytes(24).toString('base64url'), database: DEFAULT_SOURCE_DATABASE }
  writeFileSync(file, JSON.stringify(fresh), { mode: 0o600 })
  return fresh
}

/** the DDL that brings role, memberships and the catalog's CONNECT right to the wanted state */
function repairScript(found: Inspection, creds: Credentials): string {
  const { escapeIdentifier: id, escapeLiteral: literal } = pg
  const role = id(creds.user)
  const statements = [
    `${found.has_role ? 'ALTER' : 'CREATE'} ROLE ${role} WITH ${ROLE_ATTRIBUTES} PASSWORD ${literal(creds.password)}`,
    // settings attached to the role (ALTER ROLE … SET) could change what its sessions may do
    ...(found.has_role ? [`ALTER ROLE ${role} RESET ALL`] : []),
    // no predefined role (pg_read_server_files, pg_execute_server_program, pg_signal_backend, …) nor any other
    ...found.memberships.map(([group, grantor]) =>
      `REVOKE ${id(group)} FROM ${role}${grantor === found.bootstrap_user ? '' : ` GRANTED BY ${id(grantor)}`}`),
    // the catalog is reachable by the bootstrap user only, whoever else exists on the server
    `REVOKE CONNECT, TEMPORARY ON DATABASE ${id(found.catalog_database)} FROM PUBLIC`,
    `GRANT CONNECT ON DATABASE ${id(found.catalog_database)} TO ${id(found.bootstrap_user)}`,
    ...(found.has_database ? [`ALTER DATABASE ${id(creds.database)} OWNER TO ${role}`] : []),
  ]
  return statements.join(';\n')
}

const DUPLICATE = new Set(['42710', '42P04']) // duplicate_object (role), duplicate_database

/**
 * Makes sure the default source exists and is safe, on one connection in two or three round trips, and
 * answers its connection URL. Another process setting up the same server at the same moment makes one of
 * the CREATEs fail as a duplicate; the setup then runs once more and finds everything in place.
 */
export async function prepareEmbeddedDefaultSource(opts: { dataDir: string; adminUrl: string; port: number; logger: Logger }): Promise<string> {
  const creds = defaultSourceCredentials(opts.dataDir)
  const client = new pg.Client({ connectionString: opts.adminUrl, application_name: 'atrium-setup' })
  client.on('error', () => {})
  await client.connect()
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await setUp(client, creds, opts.logger)
        break
      } catch (err) {
        if (attempt > 1 || !DUPLICATE.has((err as { code?: string }).code ?? '')) throw err
      }
    }
  } finally {
    await client.end().catch(() => {})
  }
  return `postgres://${encodeURIComponent(creds.user)}:${encodeURIComponent(creds.password)}@127.0.0.1:${opts.port}/${encodeURIComponent(creds.database)}`
}

async function setUp(client: pg.Client, creds: Credentials, logger: Logger): Promise<void> {
  const found = (await client.query<Inspection>(INSPECT_SQL, [creds.user, creds.database])).rows[0]
  // A multi-statement simple query runs as one implicit transaction: all of it applies or none.
  await client.query(repairScript(found, creds))
  if (found.has_database) return
  // CREATE DATABASE cannot run inside a transaction, so it is a round trip of its own. Since PostgreSQL 15
  // the new database's `public` schema belongs to pg_database_owner, i.e. to the role.
  await client.query(`CREATE DATABASE ${pg.escapeIdentifier(creds.database)} OWNER ${pg.escapeIdentifier(creds.user)}`)
  logger.info({ database: creds.database, role: creds.user }, 'created the embedded default data source')
  if (found.catalog_public_tables > 0) {
    // an Atrium before this one served `default` from the catalog database itself
    logger.warn(
      { tables: found.catalog_public_tables, database: found.catalog_database, now: creds.database },
      'tables created through the old embedded default client stay in the catalog database; the default client now uses its own database (copy them with pg_dump -n public if they are still needed)',
    )
  }
}
