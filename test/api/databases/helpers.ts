// Helpers for the Databases API tests: an Atrium whose region `local` has the test PostgreSQL and MariaDB as
// managed servers, platform keys, requests with a bearer key, and a safety net that drops every database and
// login the test created even when an assertion failed before the API could delete them.
import mysql from 'mysql2/promise'
import pg from 'pg'
import { startTestAtrium, type TestAtrium, type TestResponse } from '../../helpers/atrium.js'
import { MYSQL_ADMIN_URL, PG_ADMIN_URL, type TestDatabase } from '../../helpers/databases.js'

type Hooks = { after(fn: () => Promise<void>): void }

export interface PlatformKeyOptions {
  email?: string
  scopes?: string[]
  requests_per_minute?: number
  monthly_quota?: number | null
  allowed_ip_list?: string[]
  inactive_ttl_days?: number | null
}

export interface DatabasesAtrium extends TestAtrium {
  /** a request with Authorization: Bearer <key> (no admin key) */
  api<T = any>(method: string, path: string, key: string | null, opts?: { body?: unknown; headers?: Record<string, string> }): Promise<TestResponse<T>>
  createPlatformKey(opts?: PlatformKeyOptions): Promise<{ key: string; userId: number; teamId: number }>
  /** remembers a created database so the safety net drops it */
  track(db: { db_type: string; db_name: string; db_username: string }): void
}

let emails = 0

// test databases and logins are named atrium_test_pk_…, so a leftover is recognisable
export const MANAGED_SERVERS_ENV = { ATRIUM_MANAGED_POSTGRES_URL: PG_ADMIN_URL, ATRIUM_MANAGED_MYSQL_URL: MYSQL_ADMIN_URL, ATRIUM_MANAGED_NAME_PREFIX: 'atrium_test_pk_' }

/** `catalog`: share an existing catalog (another process's) instead of a fresh one */
export async function startDatabasesAtrium(t: Hooks, settings: Record<string, unknown> = {}, catalog?: TestDatabase): Promise<DatabasesAtrium> {
  const created: Array<{ db_type: string; db_name: string; db_username: string }> = []
  // added before the server's own hooks would be wrong: those run first (in the order added) and close the
  // server; this one runs after them, when no provisioning job can recreate anything
  const atrium = await startTestAtrium(t, {
    env: { ...MANAGED_SERVERS_ENV, ATRIUM_WORKERS: '2' },
    settings: { 'jobs.pollIntervalMs': 200, ...settings },
    catalog,
  })
  t.after(() => dropLeftovers(created))
  const api = <T>(method: string, path: string, key: string | null, opts: { body?: unknown; headers?: Record<string, string> } = {}) =>
    atrium.request<T>(method, path, { key: null, body: opts.body, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(opts.headers ?? {}) } })
  return {
    ...atrium,
    api,
    track: (db) => { created.push(db) },
    async createPlatformKey(opts = {}) {
      const res = await atrium.post('/admin/platform-keys', { body: { email: opts.email ?? `user${++emails}-${process.pid}@example.test`, requests_per_minute: 100_000, ...opts } })
      if (res.status !== 201) throw new Error(`creating a platform key failed: ${res.status} ${res.text}`)
      return { key: res.body.data.key, userId: res.body.data.user.id, teamId: res.body.data.user.primary_team_id }
    },
  }
}

/** drops what the API may have left behind (nothing, when the test deleted its databases) */
async function dropLeftovers(created: Array<{ db_type: string; db_name: string; db_username: string }>): Promise<void> {
  const pgOnes = created.filter((d) => d.db_type === 'postgres')
  const myOnes = created.filter((d) => d.db_type === 'mysql')
  if (pgOnes.length) {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL })
    await c.connect()
    for (const d of pgOnes) {
      await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(d.db_name)} WITH (FORCE)`)
      await c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(d.db_username)}`)
    }
    await c.end()
  }
  if (myOnes.length) {
    const c = await mysql.createConnection({ uri: MYSQL_ADMIN_URL })
    for (const d of myOnes) {
      await c.query(`DROP DATABASE IF EXISTS \`${d.db_name}\``)
      await c.query("DROP USER IF EXISTS ?@'%'", [d.db_username])
    }
    await c.end()
  }
}

/** whether a PostgreSQL role / database exists on the test server */
export async function pgHas(kind: 'role' | 'database', name: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL })
  await c.connect()
  try {
    const sql = kind === 'role' ? 'SELECT 1 FROM pg_roles WHERE rolname = $1' : 'SELECT 1 FROM pg_database WHERE datname = $1'
    return ((await c.query(sql, [name])).rowCount ?? 0) > 0
  } finally {
    await c.end()
  }
}

/** whether a MariaDB user / schema exists on the test server */
export async function mysqlHas(kind: 'user' | 'database', name: string): Promise<boolean> {
  const c = await mysql.createConnection({ uri: MYSQL_ADMIN_URL })
  try {
    const [rows] = kind === 'user'
      ? await c.query('SELECT 1 FROM mysql.user WHERE user = ?', [name])
      : await c.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [name])
    return (rows as unknown[]).length > 0
  } finally {
    await c.end()
  }
}

/** runs statements, one after another, on a provisioned database through its returned connection string */
export async function runStatements(url: string, statements: string[]): Promise<void> {
  if (url.startsWith('postgresql:')) {
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    try { for (const s of statements) await c.query(s) } finally { await c.end() }
    return
  }
  const c = await mysql.createConnection({ uri: url })
  try { for (const s of statements) await c.query(s) } finally { await c.end() }
}
