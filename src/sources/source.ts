// One data source: its definition, a lazily created driver and its schema cache (loaded once, refreshable).
import type { PoolConfig } from '../config/schema.js'
import type { PrivilegeReport } from './check-privileges.js'
import { dialectNamed, dialectOfUrl, type Dialect, type DialectEntry } from './dialects.js'
import type { Driver } from './driver.js'
import type { DbSchema } from './schema.js'

export type SourceOrigin = 'config' | 'env' | 'catalog' | 'embedded'

export interface SourceDefinition {
  name: string
  url: string
  origin: SourceOrigin
  description?: string | null
  schemas?: string[]
  pool: PoolConfig
  statementTimeoutMs?: number
  /** connections of the separate raw-SQL pool; unset or 0 = half of pool.max, at least 1 */
  rawPoolMax?: number
  frozen?: boolean
  /** the session user a private source belongs to (an Assistant connection); resolve() never returns it */
  owner?: string | null
}

/** the raw-SQL pool size a definition asks for */
export const rawPoolSize = (def: Pick<SourceDefinition, 'pool' | 'rawPoolMax'>): number => def.rawPoolMax || Math.max(1, Math.floor(def.pool.max / 2))

export class Source {
  readonly name: string
  readonly origin: SourceOrigin
  readonly dialect: Dialect
  /** everything that differs by engine: driver, introspection, compiler, runner, raw-SQL classifier */
  readonly dialectEntry: DialectEntry
  description: string | null
  frozen: boolean
  /** set: private to this session user, reached only through registry.get() by the code that checked the owner */
  readonly owner: string | null
  private driverInstance: Driver | undefined
  private schemaLoad: Promise<DbSchema> | undefined
  private schemaValue: DbSchema | undefined
  private privilegeCheck: Promise<PrivilegeReport> | undefined
  /** what the connecting role may do, once checkPrivileges() has answered; undefined until then */
  privileges: PrivilegeReport | undefined

  constructor(private readonly def: SourceDefinition, private readonly onDriverError?: (source: string, err: Error) => void) {
    this.name = def.name
    this.origin = def.origin
    this.dialect = dialectOfUrl(def.url)
    this.dialectEntry = dialectNamed(this.dialect)
    this.description = def.description ?? null
    this.frozen = def.frozen ?? false
    this.owner = def.owner ?? null
  }

  /** the connection URL; callers must never send it out unmasked */
  get url(): string {
    return this.def.url
  }

  get driver(): Driver {
    if (!this.driverInstance) {
      const opts = {
        name: this.name,
        url: this.def.url,
        pool: this.def.pool,
        statementTimeoutMs: this.def.statementTimeoutMs,
        rawPoolMax: this.rawPoolMax,
        onError: (err: Error) => this.onDriverError?.(this.name, err),
      }
      this.driverInstance = this.dialectEntry.createDriver(opts)
    }
    return this.driverInstance
  }

  /** connections of the raw-SQL pool, which is also the default cap on concurrent raw-SQL requests */
  get rawPoolMax(): number {
    return rawPoolSize(this.def)
  }

  get hasDriver(): boolean {
    return this.driverInstance !== undefined
  }

  /** exposed schemas: configured ones, else the dialect's default (`public` on PostgreSQL, the URL's database on MySQL) */
  get schemas(): string[] {
    if (this.def.schemas?.length) return this.def.schemas
    return this.dialectEntry.defaultSchemas(this.def.url)
  }

  /** the schema cache, loading it on first use; a failed load is not remembered */
  schema(): Promise<DbSchema> {
    if (this.schemaValue) return Promise.resolve(this.schemaValue)
    this.schemaLoad ??= this.introspect().then(
      (s) => { this.schemaValue = s; return s },
      (err) => { this.schemaLoad = undefined; throw err },
    )
    return this.schemaLoad
  }

  get cachedSchema(): DbSchema | undefined {
    return this.schemaValue
  }

  async refreshSchema(): Promise<DbSchema> {
    const fresh = await this.introspect()
    this.schemaValue = fresh
    this.schemaLoad = Promise.resolve(fresh)
    return fresh
  }

  /** asks the database once (a failure is not remembered) whether the source connects as a superuser */
  checkPrivileges(): Promise<PrivilegeReport> {
    this.privilegeCheck ??= this.dialectEntry.checkPrivileges(this.driver).then(
      (report) => { this.privileges = report; return report },
      (err) => { this.privilegeCheck = undefined; throw err },
    )
    return this.privilegeCheck
  }

  async close(): Promise<void> {
    const driver = this.driverInstance
    this.driverInstance = undefined
    await driver?.close()
  }

  private introspect(): Promise<DbSchema> {
    return this.dialectEntry.introspect(this.driver, this.schemas)
  }
}
