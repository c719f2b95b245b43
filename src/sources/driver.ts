// The small interface every database driver implements; the query pipeline talks to nothing else.
import type { PoolConfig } from '../config/schema.js'

/** the name of a registered dialect (sources/dialects.ts) */

export type Row = Record<string, unknown>

/** A compiled statement: SQL text with placeholders and its values, never concatenated. */
export interface Statement {
  sql: string
  params: readonly unknown[]
}

export interface QueryResult {
  rows: Row[]
  /** rows written by INSERT/UPDATE/DELETE (or returned by SELECT) */
  affected: number
  /** result column names in order */
  columns: string[]
  /** MySQL auto-increment id of the first inserted row */
  insertId?: number
  /** rows past QueryOptions.cap were read and dropped */
  truncated?: boolean
}

export interface QueryOptions {
  /** return rows as arrays instead of objects (cheaper for single-column JSON results) */
  arrayRows?: boolean
  /**
   * the statement's result shape never changes (e.g. the pipeline's JSON text + count), so it may be kept
   * as a prepared statement when it recurs; never set for user SQL, whose result type can change with DDL
   */
  prepare?: boolean
  /**
   * give values to_json's JSON types in the driver (MySQL: booleans, ISO timestamps) — for results no plan
   * describes, such as raw SQL; planned reads are typed from the schema cache instead, which is cheaper
   */
  typed?: boolean
  /**
   * raw SQL through script(): keep at most this many rows and bytes of row JSON per result; drivers that can
   * read rows one at a time (MySQL) drop the rest as they arrive instead of holding the whole result
   */
  cap?: { maxRows: number; maxBytes: number }
}

/** what a dialect's driver factory is given for one source */
export interface DriverOptions {
  name: string
  url: string
  pool: PoolConfig
  statementTimeoutMs?: number
  /** connections of the raw-SQL pool; default half of pool.max, at least 1 */
  rawPoolMax?: number
  onError?: (err: Error) => void
}

export type TransactionMode = 'read only' | 'read write'

/**
 * A write whose commit something outside the source must learn of reliably (an event in the catalog's
 * outbox). `beforeCommit` runs after the transaction's statements, before COMMIT, with the transaction's
 * identity on the source; throwing rolls the transaction back. After a crash that identity tells whether the
 * transaction committed: on PostgreSQL it is the xid8 of `pg_current_xact_id()` (ask `pg_xact_status`); on
 * MySQL/MariaDB the transaction runs as XA transaction `xaId` and is prepared (`XA PREPARE`, durable and
 * listed by `XA RECOVER`) before `beforeCommit`, then `XA COMMIT`ted.
 */
export interface CommitHook {
  beforeCommit(sourceTx: string): Promise<void>
  /** MySQL/MariaDB: the XA id to run the transaction under (ignored by PostgreSQL) */
  xaId?: string
}

export interface ScriptOptions extends QueryOptions {
  /** the request was abandoned (its deadline passed): cancel the running statement on the database */
  signal?: AbortSignal
}

export interface Executor {
  query(stmt: Statement, opts?: QueryOptions): Promise<QueryResult>
}

export interface Driver extends Executor {
  /** the engine's name in the dialect registry (sources/dialects.ts), which imports the drivers */
  readonly dialect: string
  /** runs fn on one connection inside BEGIN … COMMIT (ROLLBACK on error); `hook` for a commit that is announced */
  transaction<T>(mode: TransactionMode, fn: (tx: Executor) => Promise<T>, hook?: CommitHook): Promise<T>
  /**
   * Runs SQL texts that take no parameters (raw SQL, already split and classified) in one transaction and
   * answers one result per text. They run on a separate pool that never serves planned queries, and the
   * connection's whole session state (settings, role, locks, temporary tables, prepared statements,
   * variables) is reset before it is used again. The source's statement timeout bounds the whole call and
   * is enforced by Atrium (it cancels the statement on the database) whatever the texts set; past it, or
   * when `signal` aborts, the call fails with statement_timeout. PostgreSQL sends the script in one round trip.
   */
  script(mode: TransactionMode, texts: readonly string[], opts?: ScriptOptions): Promise<QueryResult[]>
  /**
   * Opens a read-only snapshot on one connection for a large read. Run any other statement (e.g. a count)
   * through `cursor.query` before the first `next()`; then read chunks until one comes back empty.
   */
  openCursor(stmt: Statement, opts: { chunkSize: number; arrayRows?: boolean }): Promise<Cursor>
  ping(): Promise<void>
  stats(): PoolStats
  close(): Promise<void>
  /** server flavour and version, e.g. "PostgreSQL 15.4" or "MariaDB 10.11" (after first connection) */
  readonly serverVersion: string | undefined
}

export interface PoolStats {
  total: number
  idle: number
  waiting: number
  connected: boolean
}

export interface Cursor {
  /** runs another statement on the same connection and snapshot; only before the first next() */
  query(stmt: Statement, opts?: QueryOptions): Promise<QueryResult>
  /** the next chunk of rows; an empty array once the result is exhausted */
  next(): Promise<Row[]>
  /** ends the snapshot and returns the connection; safe to call twice */
  close(): Promise<void>
}
