// PostgreSQL's compile stage: each plan to the statements PostgresRunner executes (one for almost every request).
// Pure: statements are built by PostgresCompiler; page reads come from their compiled shape when they have one.
import type { CountMode } from '../ast.js'
import type { PlannedDelete, PlannedInsert, PlannedRead, PlannedRpc, PlannedUpdate } from '../plan/types.js'
import type { CompiledCount, CompiledRead, CompiledRpc, CompiledStream, CompiledWrite, QueryCompiler } from './compiled.js'
import { PostgresCompiler } from './postgres-compiler.js'
import { ReadShapes } from './read-shapes.js'

// `estimated` counts exactly while the planner guesses fewer rows than this, as PostgREST does with max-rows.
export const ESTIMATE_EXACT_BELOW = 1_000

const IN_RESULT = Object.freeze({ kind: 'in-result' as const })

export class PostgresQueryCompiler implements QueryCompiler {
  /** page reads compiled once per shape (the SQL depends only on names, so schema reloads need no reset) */
  private readonly pages = new ReadShapes((plan, exactCount) => new PostgresCompiler().compileRead(plan, { exactCount }))

  /** planned and estimated counts ask the planner first; every other read is one statement */
  read(plan: PlannedRead, count?: CountMode): CompiledRead {
    if (count === 'planned' || count === 'estimated') {
      const exact = count === 'estimated' ? this.read(plan, 'exact') : undefined
      const estimate = new PostgresCompiler().compileEstimate(plan)
      return { kind: 'read', plan, page: this.pages.statement(plan, false), total: { kind: 'estimate', stmt: estimate, exactBelow: exact ? ESTIMATE_EXACT_BELOW : undefined, exact } }
    }
    const exactCount = count === 'exact'
    return { kind: 'read', plan, page: this.pages.statement(plan, exactCount), total: exactCount ? IN_RESULT : undefined }
  }

  count(plan: PlannedRead, mode: CountMode): CompiledCount {
    const exact: CompiledCount = { kind: 'count', total: { kind: 'count', stmt: new PostgresCompiler().compileCount(plan) } }
    if (mode === 'exact') return exact
    const estimate = new PostgresCompiler().compileEstimate(plan)
    return { kind: 'count', total: mode === 'estimated' ? { kind: 'estimate', stmt: estimate, exactBelow: ESTIMATE_EXACT_BELOW, exact } : { kind: 'estimate', stmt: estimate } }
  }

  stream(plan: PlannedRead): CompiledStream {
    return { kind: 'stream', plan, rows: new PostgresCompiler().compileRowStream(plan), total: new PostgresCompiler().compileCount(plan) }
  }

  insert(plan: PlannedInsert): CompiledWrite {
    return { kind: 'write', plan, write: new PostgresCompiler().compileInsert(plan) }
  }

  update(plan: PlannedUpdate): CompiledWrite {
    return { kind: 'write', plan, write: new PostgresCompiler().compileUpdate(plan) }
  }

  delete(plan: PlannedDelete): CompiledWrite {
    return { kind: 'write', plan, write: new PostgresCompiler().compileDelete(plan) }
  }

  /** a set result may be counted; EXPLAIN estimates it without running the function */
  rpc(plan: PlannedRpc, count?: CountMode): CompiledRpc {
    const returnsSet = plan.read !== null || plan.fn.returnsSet
    if (returnsSet && (count === 'planned' || count === 'estimated')) {
      const exact = count === 'estimated' ? this.rpc(plan, 'exact') : undefined
      const estimate = new PostgresCompiler().compileRpcEstimate(plan)
      return { kind: 'rpc', plan, call: new PostgresCompiler().compileRpc(plan, false), total: { kind: 'estimate', stmt: estimate, exactBelow: exact ? ESTIMATE_EXACT_BELOW : undefined, exact } }
    }
    const exactCount = returnsSet && count === 'exact'
    return { kind: 'rpc', plan, call: new PostgresCompiler().compileRpc(plan, exactCount), total: exactCount ? IN_RESULT : undefined }
  }
}
