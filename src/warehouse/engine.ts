// The small interface the Workspace stores and queries tables through. Everything above it speaks of tenants,
// datasets and tables by id; an engine decides where they live. DuckDB (duckdb-engine.ts) is the one today;
// docs/workspace.md says what a ClickHouse or Trino engine would need.
import type { CompiledDml } from './duckdb-dml.js'
import type { CompiledSelect, ReadableTable } from './duckdb-select.js'
import type { ColumnSpec, SchemaChange } from './table-schema.js'

/** a table in the warehouse: names are ids, so renames in the catalog never touch the engine */
export interface TableRef {
  tenantId: string
  datasetId: string
  tableId: string
}

export interface ResultColumn {
  name: string
  type: string
}

export interface QueryRun {
  /** the local Parquet file holding the result */
  file: string
  columns: ResultColumn[]
  totalRows: number
  /** the engine's plan, as JSON */
  plan: unknown
}

/** a compiled query job: a SELECT, or an INSERT, UPDATE or DELETE on one table of the project's own datasets */
export type CompiledStatement = (CompiledSelect & { kind: 'select' }) | CompiledDml

export interface WarehouseEngine {
  /** creates the table with its declared columns (idempotent: an existing table is left as it is) */
  createTable(ref: TableRef, columns: readonly ColumnSpec[]): Promise<void>
  /**
   * Applies the changes all or nothing, calling `commit` before the engine commits them, so the catalog's
   * record of the schema changes in step: a commit that throws leaves the table as it was.
   */
  alterTable(ref: TableRef, changes: readonly SchemaChange[], commit: () => Promise<void>): Promise<void>
  dropTable(ref: TableRef): Promise<void>
  /** the rows a table holds (statistics and tests) */
  countRows(ref: TableRef): Promise<number>
  /**
   * A query's text as the engine will run it: one SELECT in the engine's dialect, reading only the tables
   * `resolve` knows (dataset.table), with private columns NULL when `mask` is set; or one INSERT, UPDATE or
   * DELETE on a `writable` table; 422 invalid_query otherwise.
   */
  compileQuery(text: string, resolve: (dataset: string, table: string) => ReadableTable | undefined, mask: boolean): Promise<CompiledStatement>
  /**
   * Runs a compiled DML statement once: `runId` is recorded in the same transaction, so running it again
   * (a retried job after a crash) changes nothing and answers the count of the first run.
   */
  runDml(tenantId: string, sql: string, opts: { runId: string; signal: AbortSignal }): Promise<{ affectedRows: number; plan: unknown }>
  /** where the reader's copy of another tenant's table at version `stamp` is (ReadableTable.snapshot) */
  snapshotFile(readerTenantId: string, table: { tableId: string }, stamp: string): string
  /** writes that copy from the owner's database, unless it is there already (private columns NULL) */
  materializeSnapshot(readerTenantId: string, table: ReadableTable): Promise<void>
  /** runs a compiled query into a result file (Parquet); `signal` interrupts it */
  runQuery(tenantId: string, sql: string, opts: { resultId: string; signal: AbortSignal }): Promise<QueryRun>
  /** a page of a stored result, values as JSON */
  readResult(tenantId: string, resultId: string, offset: number, limit: number): Promise<{ columns: ResultColumn[]; totalRows: number; rows: Record<string, unknown>[] }>
  /** the local path of a result file (written by runQuery, or put back from the object store) */
  resultFile(tenantId: string, resultId: string): string
  /** bytes a query over these tables processes at most (the cost model's input) */
  estimateBytes(tenantId: string, tables: readonly ReadableTable[]): Promise<number>
  /** the engine answers (health) */
  ping(): Promise<void>
  close(): Promise<void>
}
