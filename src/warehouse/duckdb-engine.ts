// The DuckDB warehouse engine: one database file per tenant under <dataDir>/warehouse, never shared, opened
// sandboxed — no file or network access from SQL (enable_external_access=false, which also stops ATTACH,
// COPY … TO and extension installs), no extension loading, and the configuration locked so query text cannot
// change any of it. Tables are "ds_<dataset id>"."t_<table id>"; column names were checked by table-schema.ts
// and are quoted here as well.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { AppError } from '../errors/app-error.js'
import type { TableRef, WarehouseEngine } from './engine.js'
import { isUuid } from '../tenancy/paging.js'
import type { ColumnSpec, SchemaChange } from './table-schema.js'

/** settings every tenant database opens with; lock_configuration makes SET/PRAGMA of them fail from SQL */
export const SANDBOX_SETTINGS: Record<string, string> = {
  enable_external_access: 'false',
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
  allow_community_extensions: 'false',
  lock_configuration: 'true',
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`
const hex = (id: string) => id.replaceAll('-', '').toLowerCase()

export const schemaNameOf = (datasetId: string) => `ds_${hex(datasetId)}`
export const tableNameOf = (ref: TableRef) => `${quote(schemaNameOf(ref.datasetId))}.${quote(`t_${hex(ref.tableId)}`)}`

const columnDdl = (c: ColumnSpec) => `${quote(c.name)} ${c.type}${c.nullable ? '' : ' NOT NULL'}`

export interface DuckDbEngineOptions {
  /** the data directory; tenant databases live in its warehouse/ folder */
  dataDir: string
  /** DuckDB's memory limit per tenant database, e.g. "1GB" */
  memoryLimit: string
  /** DuckDB's threads per tenant database */
  threads: number
}

export class DuckDbEngine implements WarehouseEngine {
  private readonly instances = new Map<string, Promise<DuckDBInstance>>()
  /** DDL of one tenant runs one at a time, so two schema changes never conflict inside DuckDB */
  private readonly ddlTurns = new Map<string, Promise<unknown>>()
  private readonly dir: string

  constructor(private readonly options: DuckDbEngineOptions) {
    this.dir = join(options.dataDir, 'warehouse')
  }

  /** the tenant's database, opened once per process */
  async instance(tenantId: string): Promise<DuckDBInstance> {
    // the id names a file: only a UUID may
    if (!isUuid(tenantId)) throw new AppError('invalid_request', 'a tenant id is a UUID')
    let inst = this.instances.get(tenantId)
    if (!inst) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      inst = DuckDBInstance.create(join(this.dir, `${hex(tenantId)}.duckdb`), {
        ...SANDBOX_SETTINGS,
        memory_limit: this.options.memoryLimit,
        threads: String(this.options.threads),
      })
      this.instances.set(tenantId, inst)
      inst.catch(() => this.instances.delete(tenantId))
    }
    return inst
  }

  /** a connection to the tenant's database, closed after fn */
  async withConnection<T>(tenantId: string, fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = await (await this.instance(tenantId)).connect()
    try {
      return await fn(conn)
    } finally {
      conn.closeSync()
    }
  }

  async createTable(ref: TableRef, columns: readonly ColumnSpec[]): Promise<void> {
    await this.ddl(ref.tenantId, async (c) => {
      await c.run(`CREATE SCHEMA IF NOT EXISTS ${quote(schemaNameOf(ref.datasetId))}`)
      await c.run(`CREATE TABLE IF NOT EXISTS ${tableNameOf(ref)} (${columns.map(columnDdl).join(', ')})`)
    })
  }

  async alterTable(ref: TableRef, changes: readonly SchemaChange[], commit: () => Promise<void>): Promise<void> {
    await this.ddl(ref.tenantId, async (c) => {
      await c.run('BEGIN TRANSACTION')
      try {
        for (const change of changes) {
          try {
            await c.run(alterStatement(ref, change))
          } catch (err) {
            throw new AppError('table_schema_change_refused', `the schema change "${describe(change)}" cannot be applied: ${(err as Error).message.split('\n')[0]}`, {
              data: { loc: ['body', 'schema', 'columns'] },
              cause: err,
            })
          }
        }
        await commit()
        await c.run('COMMIT')
      } catch (err) {
        await c.run('ROLLBACK').catch(() => {})
        throw err
      }
    })
  }

  async dropTable(ref: TableRef): Promise<void> {
    await this.ddl(ref.tenantId, (c) => c.run(`DROP TABLE IF EXISTS ${tableNameOf(ref)}`))
  }

  async countRows(ref: TableRef): Promise<number> {
    return this.withConnection(ref.tenantId, async (c) => {
      const reader = await c.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM ${tableNameOf(ref)}`)
      return Number(reader.getRowObjects()[0]!.n)
    })
  }

  async ping(): Promise<void> {
    const inst = await DuckDBInstance.create(':memory:', SANDBOX_SETTINGS)
    try {
      const c = await inst.connect()
      await c.run('SELECT 1')
      c.closeSync()
    } finally {
      inst.closeSync()
    }
  }

  async close(): Promise<void> {
    const all = [...this.instances.values()]
    this.instances.clear()
    for (const inst of all) (await inst.catch(() => null))?.closeSync()
  }

  private async ddl(tenantId: string, fn: (c: DuckDBConnection) => Promise<unknown>): Promise<void> {
    const before = this.ddlTurns.get(tenantId) ?? Promise.resolve()
    const mine = before.catch(() => {}).then(() => this.withConnection(tenantId, fn))
    this.ddlTurns.set(tenantId, mine)
    try {
      await mine
    } finally {
      if (this.ddlTurns.get(tenantId) === mine) this.ddlTurns.delete(tenantId)
    }
  }
}

function alterStatement(ref: TableRef, change: SchemaChange): string {
  const table = tableNameOf(ref)
  switch (change.kind) {
    case 'add': return `ALTER TABLE ${table} ADD COLUMN ${columnDdl(change.column)}`
    case 'drop': return `ALTER TABLE ${table} DROP COLUMN ${quote(change.name)}`
    case 'rename': return `ALTER TABLE ${table} RENAME COLUMN ${quote(change.from)} TO ${quote(change.to)}`
    case 'nullable': return `ALTER TABLE ${table} ALTER COLUMN ${quote(change.name)} ${change.nullable ? 'DROP' : 'SET'} NOT NULL`
  }
}

function describe(change: SchemaChange): string {
  switch (change.kind) {
    case 'add': return `add ${change.column.name}`
    case 'drop': return `drop ${change.name}`
    case 'rename': return `rename ${change.from} to ${change.to}`
    case 'nullable': return `${change.nullable ? 'allow' : 'forbid'} NULL in ${change.name}`
  }
}
