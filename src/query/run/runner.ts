// The execute stage: runs what a dialect's compiler produced on a source. One runner per dialect; surfaces never
// see SQL or drivers.
import type { CommitHook } from '../../sources/driver.js'
import type { CountMode } from '../ast.js'
import type { CompiledCount, CompiledRead, CompiledRpc, CompiledStream, CompiledWrite } from '../compile/compiled.js'
import type { PlannedDelete, PlannedInsert, PlannedRead, PlannedRpc, PlannedUpdate } from '../plan/types.js'

/** a page of rows as one JSON array text (built by the database on PostgreSQL) */
export interface ReadResult {
  body: string
  rows: number
  /** total matching rows when a count was asked for */
  total?: number
}

/** a large read delivered in chunks of JSON row texts, with the total known up front */
export interface StreamedRead {
  total: number
  rows: number
  chunks: AsyncIterable<string[]>
  close(): Promise<void>
}

export interface MutationResult {
  /** JSON array text of the written rows shaped by RETURNING (`[]` when none was asked) */
  body: string
  affected: number
  /** the number of rows in `body`, when the runner knows it without parsing `body` */
  rows?: number
}

export interface MutationOptions {
  /**
   * called with the result inside the write's transaction, before it commits: throwing rolls the write
   * back (e.g. a single object was asked for and several rows were written)
   */
  verify?: (result: MutationResult) => void
  /**
   * the write's commit must be announced (an event in the outbox): runs after `verify`, before COMMIT, with
   * the result and the transaction's identity on the source (see CommitHook in sources/driver.ts)
   */
  announce?: AnnounceHook
}

export interface AnnounceHook {
  /** MySQL/MariaDB: the XA id the write runs under */
  xaId?: string
  beforeCommit(result: MutationResult, sourceTx: string): Promise<void>
}

/** the driver's hook for a write whose result is known only inside the transaction */
export function commitHook(announce: AnnounceHook | undefined, result: () => MutationResult | undefined): CommitHook | undefined {
  if (!announce) return undefined
  return { xaId: announce.xaId, beforeCommit: (sourceTx) => announce.beforeCommit(result()!, sourceTx) }
}

export interface RpcResult {
  /** JSON text: an array for set-returning functions, any JSON value for scalar ones */
  body: string
  rows: number
  total?: number
  returnsSet: boolean
}

/** executes compiled queries; only the runner of the dialect whose compiler built them can read them */
export interface Runner {
  read(c: CompiledRead): Promise<ReadResult>
  /** streams when the result is large; a result that fitted in `chunkSize` comes back whole in `small` */
  stream(c: CompiledStream, chunkSize: number): Promise<{ small: ReadResult } | { stream: StreamedRead }>
  count(c: CompiledCount): Promise<number>
  write(c: CompiledWrite, opts?: MutationOptions): Promise<MutationResult>
  rpc(c: CompiledRpc): Promise<RpcResult>
}

/** planned queries compiled and run in one call, for callers that do not look at the statements */
export interface PlanRunner {
  read(plan: PlannedRead, count?: CountMode): Promise<ReadResult>
  /** streams when the result is large; a result that fitted in `chunkSize` comes back whole in `small` */
  readLarge(plan: PlannedRead, chunkSize: number): Promise<{ small: ReadResult } | { stream: StreamedRead }>
  count(plan: PlannedRead, mode: CountMode): Promise<number>
  insert(plan: PlannedInsert, opts?: MutationOptions): Promise<MutationResult>
  update(plan: PlannedUpdate, opts?: MutationOptions): Promise<MutationResult>
  delete(plan: PlannedDelete, opts?: MutationOptions): Promise<MutationResult>
  rpc(plan: PlannedRpc, count?: CountMode): Promise<RpcResult>
}

/** rows that a page holds given the total, offset and limit */
export function pageRows(total: number, offset = 0, limit?: number): number {
  const after = Math.max(0, total - offset)
  return limit === undefined ? after : Math.min(after, limit)
}
