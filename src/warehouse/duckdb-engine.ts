// The DuckDB warehouse engine: one database file per tenant under <dataDir>/warehouse, never shared, opened
// sandboxed — no file or network access from SQL (enable_external_access=false, which also stops ATTACH,
// COPY … TO and extension installs), no extension loading, and the configuration locked so query text cannot
// change any of it. Tables are "ds_<dataset id>"."t_<table id>"; column names were checked by table-schema.ts
// and are quoted here as well.
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { AppError } from '../errors/app-error.js'
import type { CompiledStatement, QueryRun, ResultColumn, TableRef, WarehouseEngine } from './engine.js'
import { compileDml, dmlStatement } from './duckdb-dml.js'
import { isUuid } from '../tenancy/paging.js'
import type { ColumnSpec, SchemaChange } from './table-schema.js'
import { compileSelect, warehouseNames, type ReadableTable } from './duckdb-select.js'

/** settings every tenant database opens with; lock_configuration makes SET/PRAGMA of them fail from SQL */
export const SANDBOX_SETTINGS: Record<string, string> = {
  enable_external_access: 'false',
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
  allow_community_extensions: 'false',
  lock_configuration: 'true',
}

/**
 * A database opened with the sandbox on, except for one directory: the tenant's own query results, which
 * only Atrium's statements name (a query's text cannot: duckdb-select.ts refuses table functions). DuckDB takes
 * allowed_directories only as a SET made before external access is turned off, so the sandbox is applied on
 * the first connection, before the instance is handed to anyone, and then locked.
 */
async function openSandboxed(path: string, resultsDir: string, options: DuckDbEngineOptions): Promise<DuckDBInstance> {
  mkdirSync(resultsDir, { recursive: true, mode: 0o700 })
  const inst = await DuckDBInstance.create(path, {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    allow_community_extensions: 'false',
    memory_limit: options.memoryLimit,
    threads: String(options.threads),
  })
  try {
    const c = await inst.connect()
    try {
      await c.run(`SET allowed_directories = [${literal(`${resultsDir}/`)}]`)
      await c.run('SET enable_external_access = false')
      await c.run('SET lock_configuration = true')
    } finally {
      c.closeSync()
    }
  } catch (err) {
    inst.closeSync()
    throw err
  }
  return inst
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`
/** a path as a SQL string literal (the data directory may hold any character) */
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`
const hex = (id: string) => id.replaceAll('-', '').toLowerCase()

/** how long an older version of a shared table's copy is kept after a newer one is written */
const SNAPSHOT_KEEP_MS = 24 * 3600 * 1000

const openParser = () => DuckDBInstance.create(':memory:', SANDBOX_SETTINGS)

async function describeResult(c: DuckDBConnection, file: string): Promise<{ columns: ResultColumn[]; totalRows: number }> {
  const described = await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${literal(file)})`)
  const columns = described.getRows().map((r) => ({ name: String(r[0]), type: String(r[1]) }))
  const counted = await c.runAndReadAll(`SELECT count(*)::BIGINT FROM read_parquet(${literal(file)})`)
  return { columns, totalRows: Number(counted.getRows()[0]![0]) }
}

const EXACT_TYPES = /^(BIGINT|HUGEINT|UBIGINT|UHUGEINT|DECIMAL.*)$/
/** DuckDB's JSON form writes 64-bit integers and decimals as strings; those a double holds exactly become numbers */
function jsonRow(row: Record<string, unknown>, columns: ResultColumn[]): Record<string, unknown> {
  for (const col of columns) {
    const v = row[col.name]
    if (typeof v === 'string' && EXACT_TYPES.test(col.type)) {
      const n = Number(v)
      if (Number.isFinite(n) && (col.type.startsWith('DECIMAL') || Number.isSafeInteger(n))) row[col.name] = n
    }
  }
  return row
}

const WIDTHS: Array<[RegExp, number]> = [
  [/^(BOOLEAN|BOOL|TINYINT|UTINYINT)$/, 1], [/^(SMALLINT|USMALLINT)$/, 2], [/^(INTEGER|INT|UINTEGER|FLOAT|REAL|DATE)$/, 4],
  [/^(BIGINT|UBIGINT|DOUBLE|TIME|TIMESTAMP|TIMESTAMPTZ|TIMESTAMP WITH TIME ZONE)$/, 8],
]
/** bytes a value of the type counts for in estimates; variable-length and 16-byte types count 16 */
const widthOf = (type: string) => WIDTHS.find(([re]) => re.test(type))?.[1] ?? 16

export const schemaNameOf = (datasetId: string) => warehouseNames({ datasetId, tableId: datasetId }).schema
export const tableNameOf = (ref: TableRef) => `${quote(schemaNameOf(ref.datasetId))}.${quote(warehouseNames(ref).table)}`

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
  /** an empty in-memory database that only parses query text (json_serialize_sql) */
  private parser: Promise<DuckDBInstance> | undefined

  constructor(private readonly options: DuckDbEngineOptions) {
    this.dir = join(options.dataDir, 'warehouse')
  }

  /** the tenant's database, opened once per process */
  async instance(tenantId: string): Promise<DuckDBInstance> {
    // the id names a file: only a UUID may
    if (!isUuid(tenantId)) throw new AppError('invalid_request', 'a tenant id is a UUID')
    let inst = this.instances.get(tenantId)
    if (!inst) {
      inst = openSandboxed(join(this.dir, `${hex(tenantId)}.duckdb`), this.resultsDir(tenantId), this.options).catch((err: unknown) => {
        // DuckDB locks the file for one process: a second Atrium process on the same data directory is refused
        // here, before it could touch the file, and says so instead of failing with DuckDB's bare message
        const message = (err as Error).message ?? ''
        if (!/Could not set lock on file/i.test(message)) throw err
        throw new AppError('warehouse_unavailable', `the warehouse of tenant ${tenantId} is open in another Atrium process (${/PID \d+/.exec(message)?.[0] ?? 'another process'}); one process serves a tenant's warehouse at a time`, {
          hint: 'run the Workspace on one node, or route each tenant to the node that opened its warehouse (docs/workspace.md)',
          cause: err,
        })
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

  /** where the tenant's query results are written and read (the one directory its database may touch) */
  resultsDir(tenantId: string): string {
    return join(this.dir, 'results', hex(tenantId))
  }

  resultFile(tenantId: string, resultId: string): string {
    if (!isUuid(resultId)) throw new AppError('invalid_request', 'a result id is a UUID')
    return join(this.resultsDir(tenantId), `${hex(resultId)}.parquet`)
  }

  async compileQuery(text: string, resolve: (dataset: string, table: string) => ReadableTable | undefined, mask: boolean): Promise<CompiledStatement> {
    this.parser ??= openParser()
    const dml = await dmlStatement(text)
    const conn = await (await this.parser).connect()
    try {
      if (dml) return await compileDml(conn, text, dml, resolve)
      return { kind: 'select', ...await compileSelect(conn, text, resolve, mask) }
    } finally {
      conn.closeSync()
    }
  }

  /**
   * Runs a compiled SELECT into the result's Parquet file, interrupted when `signal` aborts; then reads its
   * row count and columns from the file, and the plan from EXPLAIN.
   */
  async runQuery(tenantId: string, sql: string, opts: { resultId: string; signal: AbortSignal }): Promise<QueryRun> {
    const file = this.resultFile(tenantId, opts.resultId)
    return this.withConnection(tenantId, async (c) => {
      const stop = () => c.interrupt()
      if (opts.signal.aborted) throw opts.signal.reason
      opts.signal.addEventListener('abort', stop, { once: true })
      let plan: unknown = null
      try {
        const explained = await c.runAndReadAll(`EXPLAIN (FORMAT JSON) ${sql}`)
        plan = JSON.parse(String(explained.getRows()[0]?.[1] ?? 'null'))
        await c.run(`COPY (${sql}) TO ${literal(file)} (FORMAT parquet, COMPRESSION zstd)`)
      } catch (err) {
        if (opts.signal.aborted) throw opts.signal.reason
        throw new AppError('invalid_query', `the query failed: ${(err as Error).message.split('\n')[0]}`, { cause: err })
      } finally {
        opts.signal.removeEventListener('abort', stop)
      }
      const { columns, totalRows } = await describeResult(c, file)
      return { file, columns, totalRows, plan }
    })
  }

  async runDml(tenantId: string, sql: string, opts: { runId: string; signal: AbortSignal }): Promise<{ affectedRows: number; plan: unknown }> {
    if (!isUuid(opts.runId)) throw new AppError('invalid_request', 'a run id is a UUID')
    return this.withConnection(tenantId, async (c) => {
      // a table of Atrium's in the tenant's database: query text cannot name it (only dataset.table resolves)
      await c.run(`CREATE TABLE IF NOT EXISTS main.atrium_dml_runs (run_id UUID PRIMARY KEY, affected_rows BIGINT NOT NULL, ran_at TIMESTAMPTZ NOT NULL DEFAULT now())`)
      const earlier = await c.runAndReadAll(`SELECT affected_rows FROM main.atrium_dml_runs WHERE run_id = ${literal(opts.runId)}::UUID`)
      if (earlier.getRows().length > 0) return { affectedRows: Number(earlier.getRows()[0]![0]), plan: null }
      const stop = () => c.interrupt()
      if (opts.signal.aborted) throw opts.signal.reason
      opts.signal.addEventListener('abort', stop, { once: true })
      try {
        const explained = await c.runAndReadAll(`EXPLAIN (FORMAT JSON) ${sql}`)
        const plan = JSON.parse(String(explained.getRows()[0]?.[1] ?? 'null'))
        await c.run('BEGIN TRANSACTION')
        try {
          const counted = await c.runAndReadAll(sql)
          const affectedRows = Number(counted.getRows()[0]?.[0] ?? 0)
          await c.run(`INSERT INTO main.atrium_dml_runs (run_id, affected_rows) VALUES (${literal(opts.runId)}::UUID, ${affectedRows})`)
          await c.run('COMMIT')
          return { affectedRows, plan }
        } catch (err) {
          await c.run('ROLLBACK').catch(() => {})
          throw err
        }
      } catch (err) {
        if (opts.signal.aborted) throw opts.signal.reason
        throw new AppError('invalid_query', `the statement failed: ${(err as Error).message.split('\n')[0]}`, { cause: err })
      } finally {
        opts.signal.removeEventListener('abort', stop)
      }
    })
  }

  snapshotFile(readerTenantId: string, table: { tableId: string }, stamp: string): string {
    const version = createHash('sha256').update(stamp).digest('hex').slice(0, 16)
    return join(this.resultsDir(readerTenantId), 'shared', `${hex(table.tableId)}_${version}.parquet`)
  }

  async materializeSnapshot(readerTenantId: string, table: ReadableTable): Promise<void> {
    const target = table.snapshot
    if (!target || !table.ownerTenantId || existsSync(target)) return
    // the owner's database may write only in its own results folder: the copy is made there, then moved over
    const ownerDir = join(this.resultsDir(table.ownerTenantId), 'outgoing')
    mkdirSync(ownerDir, { recursive: true, mode: 0o700 })
    mkdirSync(join(this.resultsDir(readerTenantId), 'shared'), { recursive: true, mode: 0o700 })
    const staged = join(ownerDir, `${hex(table.tableId)}_${process.pid}_${Date.now()}.parquet`)
    const list = table.columns.map((col) => (col.private ? `CAST(NULL AS ${col.type}) AS ${quote(col.name)}` : quote(col.name))).join(', ')
    try {
      await this.withConnection(table.ownerTenantId, (c) => c.run(`COPY (SELECT ${list} FROM ${tableNameOf({ tenantId: table.ownerTenantId!, ...table })}) TO ${literal(staged)} (FORMAT parquet, COMPRESSION zstd)`))
      const partial = `${target}.${process.pid}.part`
      copyFileSync(staged, partial)
      renameSync(partial, target)
    } finally {
      if (existsSync(staged)) unlinkSync(staged)
    }
    // older versions of the copy go once they are a day old: a job still reading one has long finished
    const dir = join(this.resultsDir(readerTenantId), 'shared')
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (!name.startsWith(`${hex(table.tableId)}_`) || path === target) continue
      try {
        if (statSync(path).mtimeMs < Date.now() - SNAPSHOT_KEEP_MS) unlinkSync(path)
      } catch { /* removed by another process meanwhile */ }
    }
  }

  /** rows [offset, offset+limit) of a result file, values as JSON */
  async readResult(tenantId: string, resultId: string, offset: number, limit: number): Promise<{ columns: ResultColumn[]; totalRows: number; rows: Record<string, unknown>[] }> {
    const file = this.resultFile(tenantId, resultId)
    return this.withConnection(tenantId, async (c) => {
      const { columns, totalRows } = await describeResult(c, file)
      const stmt = await c.prepare(`SELECT * FROM read_parquet(${literal(file)}) LIMIT $1 OFFSET $2`)
      stmt.bindBigInt(1, BigInt(limit))
      stmt.bindBigInt(2, BigInt(offset))
      const reader = await stmt.runAndReadAll()
      return { columns, totalRows, rows: reader.getRowObjectsJson().map((r) => jsonRow(r as Record<string, unknown>, columns)) }
    })
  }

  /** rows × nominal column widths of the tables a query reads: what it processes at most */
  async estimateBytes(tenantId: string, tables: readonly ReadableTable[]): Promise<number> {
    let bytes = 0
    for (const t of tables) {
      // a table shared from another tenant is counted where it lives
      const owner = t.ownerTenantId ?? tenantId
      const rows = await this.withConnection(owner, async (c) => Number((await c.runAndReadAll(`SELECT count(*)::BIGINT FROM ${tableNameOf({ tenantId: owner, ...t })}`)).getRows()[0]![0]))
      bytes += rows * t.columns.reduce((sum, col) => sum + widthOf(col.type), 0)
    }
    return bytes
  }

  async close(): Promise<void> {
    const parser = this.parser
    this.parser = undefined
    ;(await parser?.catch(() => null))?.closeSync()
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
