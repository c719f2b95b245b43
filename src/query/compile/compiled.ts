// What the compile stage hands to a runner: every statement a planned query needs, with its parameters, decided
// before anything runs. A dialect's compiler builds these; only that dialect's runner reads them, since the
// result shape of a statement is the dialect's business (PostgreSQL answers JSON text, MySQL answers rows).
import type { Row, Statement } from '../../sources/driver.js'
import type { CountMode } from '../ast.js'
import type { PlannedDelete, PlannedInsert, PlannedRead, PlannedRpc, PlannedUpdate } from '../plan/types.js'

/**
 * How a total is found. `Exact` is what runs instead when an estimate is not to be trusted: `estimated` counts
 * exactly while the planner guesses fewer than `exactBelow` rows, as PostgREST does with max-rows.
 */
export type CompiledTotal<Exact> =
  /** the statement that answers the rows answers the total too */
  | { kind: 'in-result' }
  /** one row whose first value is the total */
  | { kind: 'count'; stmt: Statement }
  /** the rows of this statement, counted (MySQL: grouped reads, whose groups only the database knows) */
  | { kind: 'rows'; stmt: Statement }
  /** the planner's guess (EXPLAIN; nothing runs) */
  | { kind: 'estimate'; stmt: Statement; exactBelow?: number; exact?: Exact }

/** a page of rows and, when one was asked for, its total */
export interface CompiledRead {
  kind: 'read'
  plan: PlannedRead
  /** PostgreSQL: one row (body, rows[, total]); MySQL: the page's rows, given JSON types from `plan` by the runner */
  page: Statement
  total?: CompiledTotal<CompiledRead>
}

/** a standalone count of the rows a read matches */
export interface CompiledCount {
  kind: 'count'
  total: CompiledTotal<CompiledCount>
}

/** a large read through a cursor: the rows, and their total counted in the cursor's snapshot first */
export interface CompiledStream {
  kind: 'stream'
  plan: PlannedRead
  /** PostgreSQL: one JSON text per row; MySQL: the rows */
  rows: Statement
  total?: Statement
}

/**
 * An insert, update or delete. PostgreSQL: `write` alone, answering one row (JSON text of the returned rows,
 * affected). MySQL has no UPDATE … RETURNING, so the runner sequences more statements in one transaction.
 */
export interface CompiledWrite {
  kind: 'write'
  plan: PlannedInsert | PlannedUpdate | PlannedDelete
  write: Statement
  /** MySQL: the write answers the primary keys of the rows it inserted (MariaDB's INSERT … RETURNING) */
  returnsKeys?: boolean
  /** MySQL: keys of existing rows that an ignore-duplicates insert may run into, left out of the answer */
  collisions?: Statement
  /** MySQL: reads and locks the keys of the rows an update or delete touches (before it runs) */
  lockKeys?: Statement
  /**
   * MySQL: the rows to answer, read back by primary key (after an insert or update, before a delete). The keys
   * are only known once statements have run, so this part is compiled then; `exclude` drops keys.
   */
  readBack?: (keys: Row[], exclude?: Row[]) => Statement
}

/** a function or procedure call */
export interface CompiledRpc {
  kind: 'rpc'
  plan: PlannedRpc
  /** PostgreSQL: one row (JSON text of the result, rows[, total]); MySQL: the function's value or the procedure's rows */
  call: Statement
  total?: CompiledTotal<CompiledRpc>
}

export type Compiled = CompiledRead | CompiledCount | CompiledStream | CompiledWrite | CompiledRpc

/** One dialect's compile stage: pure, no I/O. Plans in, statements out (values always parameters). */
export interface QueryCompiler {
  read(plan: PlannedRead, count?: CountMode): CompiledRead
  count(plan: PlannedRead, mode: CountMode): CompiledCount
  stream(plan: PlannedRead): CompiledStream
  insert(plan: PlannedInsert): CompiledWrite
  update(plan: PlannedUpdate): CompiledWrite
  delete(plan: PlannedDelete): CompiledWrite
  rpc(plan: PlannedRpc, count?: CountMode): CompiledRpc
}
