// What differs by database engine in a backup: the programs and their arguments, how the connection reaches
// them (URL parts as arguments, the password in the environment), the version check, the table inventory and
// whether a restore target is in use. The byte plumbing (compression, checksum, object store) is backup-runner.ts's.
import type { Config } from '../config/schema.js'
import { AppError } from '../errors/app-error.js'
import { quoteIdent } from '../management/identifiers.js'
import type { Source } from '../sources/source.js'
import { majorVersion, runTool, toolVersion, type Tool, type ToolRun } from './backup-tools.js'

export type Engine = 'postgres' | 'mysql'

export interface TableCount {
  schema: string
  name: string
  /** null when counting failed (e.g. the statement timeout on a huge table) */
  rows: number | null
}

export interface DumpVersions {
  server_version: string
  tool_version: string
}

export interface BackupEngine {
  engine: Engine
  /** how the archive's bytes are laid out: pg_custom (pg_dump -Fc) or sql_gzip */
  format: string
  extension: string
  contentType: string
  /** whether Atrium gzips the program's output (pg_dump -Fc compresses by itself) */
  gzip: boolean
  /** 422 backup_tool_missing or backup_tool_too_old unless the dump program can dump this server */
  checkDump(source: Source): Promise<DumpVersions>
  /** 422 unless the restore program can read an archive made by `archiveTool` */
  checkRestore(archiveTool: string): Promise<string>
  dump(source: Source, signal: AbortSignal): ToolRun
  restore(source: Source, signal: AbortSignal): ToolRun
  tables(source: Source): Promise<TableCount[]>
  /** why the target counts as in use (it has tables, or another session is running a statement), or null */
  inUse(source: Source): Promise<string | null>
}

export function backupEngines(settings: Config['backups']): Record<Engine, BackupEngine> {
  return { postgres: postgresEngine(settings), mysql: mysqlEngine(settings) }
}

// libpq refuses parameters it does not know (node-postgres accepts more), so only these reach the programs
const LIBPQ_PARAMS = new Set(['host', 'hostaddr', 'port', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'sslcrl', 'connect_timeout', 'options', 'target_session_attrs'])

/** the URL without its password (for --dbname) and the password (for PGPASSWORD) */
export function libpqConnection(url: string): { dbname: string; env: Record<string, string> } {
  const u = new URL(url)
  const password = decodeURIComponent(u.password)
  u.password = ''
  for (const name of [...u.searchParams.keys()]) if (!LIBPQ_PARAMS.has(name)) u.searchParams.delete(name)
  u.protocol = 'postgresql:'
  return { dbname: u.toString(), env: { ...(password ? { PGPASSWORD: password } : {}), PGAPPNAME: 'atrium-backup' } }
}

/** --host/--port/--user and the database for the MariaDB programs, the password in MYSQL_PWD */
export function mysqlConnection(url: string): { args: string[]; database: string; env: Record<string, string> } {
  const u = new URL(url.replace(/^mariadb:/i, 'mysql:'))
  const password = decodeURIComponent(u.password)
  const args = [`--host=${u.hostname || '127.0.0.1'}`, `--port=${u.port || '3306'}`]
  if (u.username) args.push(`--user=${decodeURIComponent(u.username)}`)
  return { args, database: decodeURIComponent(u.pathname.slice(1)), env: password ? { MYSQL_PWD: password } : {} }
}

const count = (rows: Record<string, unknown>[]) => Number(Object.values(rows[0] ?? {})[0] ?? 0)

async function countRows(source: Source, tables: { schema: string; name: string }[], qualify: (t: { schema: string; name: string }) => string): Promise<TableCount[]> {
  const out: TableCount[] = []
  for (const t of tables) {
    const rows = await source.driver.query({ sql: `SELECT COUNT(*) AS n FROM ${qualify(t)}`, params: [] }).then((r) => count(r.rows), () => null)
    out.push({ schema: t.schema, name: t.name, rows })
  }
  return out
}

function postgresEngine(settings: Config['backups']): BackupEngine {
  const pgDump: Tool = { name: 'pg_dump', path: settings.pgDumpPath, setting: 'backups.pgDumpPath' }
  const pgRestore: Tool = { name: 'pg_restore', path: settings.pgRestorePath, setting: 'backups.pgRestorePath' }
  const tableList = async (source: Source) => (await source.driver.query({
    sql: `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
            AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
          ORDER BY 1, 2`,
    params: [],
  })).rows as { schema: string; name: string }[]
  return {
    engine: 'postgres',
    format: 'pg_custom',
    extension: 'dump',
    contentType: 'application/octet-stream',
    gzip: false,
    async checkDump(source) {
      const [tool, server] = await Promise.all([
        toolVersion(pgDump),
        source.driver.query({ sql: `SELECT current_setting('server_version') AS v, current_setting('server_version_num')::int AS n`, params: [] }),
      ])
      const serverVersion = String(server.rows[0]?.v ?? '')
      const serverMajor = Math.floor(Number(server.rows[0]?.n ?? 0) / 10_000)
      const toolMajor = majorVersion(tool)
      // pg_dump refuses a newer server by itself, but only once the job runs; this says so before it is queued
      if (toolMajor === undefined || toolMajor < serverMajor) {
        throw new AppError('backup_tool_too_old', `${pgDump.path} is ${JSON.stringify(tool)}, but the server of client "${source.name}" runs PostgreSQL ${serverVersion}: pg_dump ${serverMajor} or newer is needed`, {
          hint: `install pg_dump ${serverMajor} or newer and point backups.pgDumpPath at it`,
          data: { tool: 'pg_dump', tool_version: tool, needed: `${serverMajor}`, server_version: serverVersion },
        })
      }
      return { server_version: serverVersion, tool_version: tool }
    },
    async checkRestore(archiveTool) {
      const tool = await toolVersion(pgRestore)
      const needed = majorVersion(archiveTool) ?? 0
      const have = majorVersion(tool)
      // an archive's format version can be newer than an older pg_restore understands
      if (have === undefined || have < needed) {
        throw new AppError('backup_tool_too_old', `${pgRestore.path} is ${JSON.stringify(tool)}, but the archive was made by ${archiveTool}: pg_restore ${needed} or newer is needed`, {
          hint: `install pg_restore ${needed} or newer and point backups.pgRestorePath at it`,
          data: { tool: 'pg_restore', tool_version: tool, needed: `${needed}` },
        })
      }
      return tool
    },
    dump(source, signal) {
      const { dbname, env } = libpqConnection(source.url)
      return runTool(pgDump, ['--format=custom', `--dbname=${dbname}`], { env, signal })
    },
    restore(source, signal) {
      const { dbname, env } = libpqConnection(source.url)
      // one transaction: a restore that fails half-way leaves the target as it was
      return runTool(pgRestore, ['--clean', '--if-exists', '--no-owner', '--no-privileges', '--single-transaction', '--exit-on-error', `--dbname=${dbname}`], { env, signal })
    },
    async tables(source) {
      return countRows(source, await tableList(source), (t) => `${quoteIdent('postgres', t.schema)}.${quoteIdent('postgres', t.name)}`)
    },
    async inUse(source) {
      const tables = await tableList(source)
      if (tables.length) return `it has ${tables.length} table(s), e.g. ${tables[0]!.schema}.${tables[0]!.name}`
      const busy = await source.driver.query({
        sql: `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                AND state = 'active' AND backend_type = 'client backend'`,
        params: [],
      })
      const n = count(busy.rows)
      return n ? `${n} other session(s) are running statements on it` : null
    },
  }
}

function mysqlEngine(settings: Config['backups']): BackupEngine {
  const dumpTool: Tool = { name: 'mariadb-dump', path: settings.mysqlDumpPath, setting: 'backups.mysqlDumpPath' }
  const client: Tool = { name: 'mariadb', path: settings.mysqlPath, setting: 'backups.mysqlPath' }
  const tableList = async (source: Source) => (await source.driver.query({
    sql: `SELECT TABLE_SCHEMA AS \`schema\`, TABLE_NAME AS name FROM information_schema.TABLES
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`,
    params: [],
  })).rows as { schema: string; name: string }[]
  return {
    engine: 'mysql',
    format: 'sql_gzip',
    extension: 'sql.gz',
    contentType: 'application/gzip',
    gzip: true,
    async checkDump(source) {
      const [tool, server] = await Promise.all([toolVersion(dumpTool), source.driver.query({ sql: 'SELECT VERSION() AS v', params: [] })])
      return { server_version: String(server.rows[0]?.v ?? ''), tool_version: tool }
    },
    checkRestore: () => toolVersion(client),
    dump(source, signal) {
      const { args, database, env } = mysqlConnection(source.url)
      // one consistent snapshot without locking writers; routines and triggers come along; binary as hex;
      // no dump date, so two dumps of the same data are the same bytes
      const flags = ['--single-transaction', '--quick', '--routines', '--triggers', '--hex-blob', '--default-character-set=utf8mb4', '--no-tablespaces', '--skip-dump-date']
      return runTool(dumpTool, [...args, ...flags, '--', database], { env, signal })
    },
    restore(source, signal) {
      const { args, database, env } = mysqlConnection(source.url)
      return runTool(client, [...args, '--default-character-set=utf8mb4', '--binary-mode', `--database=${database}`], { env, signal })
    },
    async tables(source) {
      return countRows(source, await tableList(source), (t) => `${quoteIdent('mysql', t.schema)}.${quoteIdent('mysql', t.name)}`)
    },
    async inUse(source) {
      const tables = await tableList(source)
      if (tables.length) return `it has ${tables.length} table(s), e.g. ${tables[0]!.name}`
      const busy = await source.driver.query({
        sql: `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()
                AND COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump')`,
        params: [],
      })
      const n = count(busy.rows)
      return n ? `${n} other session(s) are running statements on it` : null
    },
  }
}
