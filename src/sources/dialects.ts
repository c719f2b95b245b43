// The dialect registry: every database engine Atrium speaks is one entry here, with everything that differs
// between engines (URL schemes, driver, introspection, privilege check, capabilities, compiler, runner, raw-SQL
// classification). Code that needs a dialect's behaviour asks its source's entry rather than testing its name.
// Adding an engine is adding an entry: see "Adding a dialect" in docs/architecture.md.
import type { DbSchema } from './schema.js'
import type { Source } from './source.js'
import type { Driver, DriverOptions, Executor } from './driver.js'
import { checkMysqlPrivileges, checkPostgresPrivileges, type PrivilegeReport } from './check-privileges.js'
import { MysqlDriver } from './drivers/mysql-driver.js'
import { PostgresDriver } from './drivers/postgres-driver.js'
import { introspectMysql } from './introspect/mysql.js'
import { introspectPostgres } from './introspect/postgres.js'
import { catalogueFor } from './pg-catalogue.js'
import type { QueryCompiler } from '../query/compile/compiled.js'
import { MysqlQueryCompiler } from '../query/compile/mysql-query-compiler.js'
import { PostgresQueryCompiler } from '../query/compile/postgres-query-compiler.js'
import { MARIADB, MYSQL, POSTGRES, type DialectCapabilities } from '../query/dialect.js'
import type { Runner } from '../query/run/runner.js'
import { MysqlRunner } from '../query/run/mysql-runner.js'
import { PostgresRunner } from '../query/run/postgres-runner.js'
import type { ClassifiedSql } from '../sql/classify.js'
import { classifyMysql } from '../sql/classify-mysql.js'
import { classifyPostgres } from '../sql/classify-postgres.js'
import { cappedSelect, type ResultCap } from '../sql/run-sql.js'

export interface DialectEntry {
  readonly name: string
  /** URL schemes (with the colon) of sources of this dialect */
  readonly urlSchemes: readonly string[]
  /**
   * What the engine can do. It may depend on the server's flavour (MySQL or MariaDB), known from the version
   * the server reports on the first connection; `dependsOnServer` says so, and callers then ask again later.
   */
  capabilities(serverVersion: string | undefined): DialectCapabilities
  readonly dependsOnServer: boolean
  createDriver(opts: DriverOptions): Driver
  /** the schemas exposed when the source's definition names none */
  defaultSchemas(url: string): string[]
  /** the schema cache's contents: tables, columns, keys, relationships and functions of `schemas` */
  introspect(db: Executor, schemas: string[]): Promise<DbSchema>
  /** whether the connecting role has more power than a client should (asked once, in the background) */
  checkPrivileges(db: Executor): Promise<PrivilegeReport>
  /** the compile stage for one source (it may cache what it compiled) */
  createCompiler(caps: DialectCapabilities): QueryCompiler
  /** the execute stage for one source: runs what createCompiler's compiler produced */
  createRunner(driver: Driver): Runner
  /** raw SQL split into statements and classed read / write / ddl by the engine's own parser */
  classifyRawSql(source: Source, sql: string, opts: { isAdmin: boolean }): Promise<ClassifiedSql>
  /**
   * raw SQL: a plain SELECT rewritten so the database renders its rows as JSON and keeps to the cap itself
   * (one row: body, n, cut); without it, rows come back whole and are capped as they are read
   */
  readonly capPlainSelect?: (sql: string, cap: ResultCap) => string
}

const postgres: DialectEntry = {
  name: 'postgres',
  urlSchemes: ['postgres:', 'postgresql:'],
  capabilities: () => POSTGRES,
  dependsOnServer: false,
  createDriver: (opts) => new PostgresDriver(opts),
  defaultSchemas: () => ['public'],
  introspect: introspectPostgres,
  checkPrivileges: checkPostgresPrivileges,
  createCompiler: () => new PostgresQueryCompiler(),
  createRunner: (driver) => new PostgresRunner(driver),
  // functions are resolved against the source's own pg_proc (cached per schema-cache generation), and every
  // caller but the admin key is held to the exposed schemas, as on /rest/v1
  classifyRawSql: (source, sql, { isAdmin }) => classifyPostgres(sql, {
    catalogue: async () => catalogueFor(await source.schema(), () => source.driver),
    exposedSchemas: isAdmin ? null : source.schemas,
  }),
  capPlainSelect: cappedSelect,
}

const mysql: DialectEntry = {
  name: 'mysql',
  urlSchemes: ['mysql:', 'mariadb:'],
  // MariaDB reports itself in the version; it has INSERT … RETURNING and ordered, limited JSON_ARRAYAGG
  capabilities: (serverVersion) => (serverVersion?.startsWith('MariaDB') ? MARIADB : MYSQL),
  dependsOnServer: true,
  createDriver: (opts) => new MysqlDriver(opts),
  // the database named in the URL
  defaultSchemas: (url) => [decodeURIComponent(new URL(url.replace(/^mariadb:/i, 'mysql:')).pathname.slice(1))],
  // a MySQL database is one schema
  introspect: (db, schemas) => introspectMysql(db, schemas[0]),
  checkPrivileges: checkMysqlPrivileges,
  createCompiler: (caps) => new MysqlQueryCompiler(caps),
  createRunner: (driver) => new MysqlRunner(driver),
  classifyRawSql: async (source, sql, { isAdmin }) => classifyMysql(sql, { exposedDatabase: source.schemas[0], isAdmin }),
}

const DIALECTS = { postgres, mysql }

export type Dialect = keyof typeof DIALECTS

/** every URL scheme a source may use */
export const SOURCE_URL_SCHEMES: readonly string[] = Object.values(DIALECTS).flatMap((d) => d.urlSchemes)

export function dialectNamed(name: Dialect): DialectEntry {
  return DIALECTS[name]
}

/**
 * The dialect of a source URL, by its scheme. URLs are checked against SOURCE_URL_SCHEMES where they enter
 * (configuration, admin API); one that slipped past is taken for PostgreSQL, as it always was.
 */
export function dialectOfUrl(url: string): Dialect {
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0].toLowerCase()
  for (const [name, entry] of Object.entries(DIALECTS)) if (scheme && entry.urlSchemes.includes(scheme)) return name as Dialect
  return 'postgres'
}
