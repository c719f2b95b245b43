// What a source's capture table holds, dialect-free: one committed row change of an enabled table.
import type { Executor } from '../../sources/driver.js'
import type { TableInfo } from '../../sources/schema.js'

export type CaptureOp = 'INSERT' | 'UPDATE' | 'DELETE'

export interface CapturedChange {
  /** increasing on the source; the drain's cursor */
  id: number
  /** the writing transaction (PostgreSQL) or connection (MySQL): consecutive changes of one are grouped into one event */
  writer: string
  table: string
  op: CaptureOp
  oldRow: Record<string, unknown> | null
  newRow: Record<string, unknown> | null
}

/** the SQL of change capture on one engine: installing it on a table, reading and trimming what it recorded */
export interface CaptureDialect {
  install(db: Executor & { transaction: TransactionRunner }, table: TableInfo): Promise<void>
  uninstall(db: Executor & { transaction: TransactionRunner }, table: Pick<TableInfo, 'schema' | 'name'>): Promise<void>
  /**
   * The changes after `afterId`, at most `limit`, read while no capturing transaction is open (so no smaller id
   * can still commit after them); null when one is open for longer than a short wait (read again later).
   * When the capture table's ids started again below `afterId` (the table or the database was recreated, or
   * TRUNCATEd), every id now there is new: the read starts from the beginning and says `restarted`.
   */
  read(db: Executor & { transaction: TransactionRunner }, afterId: number, limit: number): Promise<CaptureRead | null>
  /** deletes what was delivered */
  trim(db: Executor, uptoId: number): Promise<void>
}

export interface CaptureRead {
  changes: CapturedChange[]
  /** the ids restarted below the cursor: `changes` were read from the first id */
  restarted: boolean
}

export type TransactionRunner = <T>(mode: 'read only' | 'read write', fn: (tx: Executor) => Promise<T>) => Promise<T>

export const asRow = (v: unknown): Record<string, unknown> | null => {
  if (v === null || v === undefined) return null
  return (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>
}
