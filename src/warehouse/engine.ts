// The small interface the Workspace stores and queries tables through. Everything above it speaks of tenants,
// datasets and tables by id; an engine decides where they live. DuckDB (duckdb-engine.ts) is the one today;
// docs/workspace.md says what a ClickHouse or Trino engine would need.
import type { ColumnSpec, SchemaChange } from './table-schema.js'

/** a table in the warehouse: names are ids, so renames in the catalog never touch the engine */
export interface TableRef {
  tenantId: string
  datasetId: string
  tableId: string
}

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
  /** the engine answers (health) */
  ping(): Promise<void>
  close(): Promise<void>
}
