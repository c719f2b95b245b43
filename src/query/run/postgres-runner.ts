// Runs plans on PostgreSQL: one statement per request, JSON built by the server, cursors for large reads.
import type { Driver, Executor, Statement } from '../../sources/driver.js'
import type { CountMode } from '../ast.js'
import { PostgresCompiler } from '../compile/postgres-compiler.js'
import type { PlannedDelete, PlannedInsert, PlannedRead, PlannedRpc, PlannedUpdate } from '../plan/types.js'
import { ReadShapes } from './read-shapes.js'
import { commitHook, pageRows, type MutationOptions, type MutationResult, type ReadResult, type RpcResult, type Runner, type StreamedRead } from './runner.js'

// `estimated` counts exactly while the planner guesses fewer rows than this, as PostgREST does with max-rows.
const ESTIMATE_EXACT_BELOW = 1_000

export class PostgresRunner implements Runner {
  /** page reads compiled once per shape (the SQL depends only on names, so schema reloads need no reset) */
  private readonly pages = new ReadShapes((plan, exactCount) => new PostgresCompiler().compileRead(plan, { exactCount }))

  constructor(private readonly driver: Driver) {}

  read(plan: PlannedRead, count?: CountMode): Promise<ReadResult> {
    // planned and estimated counts ask the planner first; every other read is one statement
    if (count === 'planned' || count === 'estimated') return this.readEstimated(plan, count)
    return this.readPage(plan, count === 'exact')
  }

  private readPage(plan: PlannedRead, exactCount: boolean): Promise<ReadResult> {
    // named columns rather than array rows: the hot read then goes to pg as text and values (see send in the driver)
    return this.driver.query(this.pages.statement(plan, exactCount), { prepare: true }).then((res) => {
      const { body, rows, total } = res.rows[0] as { body: string; rows: number; total?: string | number }
      return { body, rows, total: exactCount ? Number(total) : undefined }
    })
  }

  private async readEstimated(plan: PlannedRead, count: 'planned' | 'estimated'): Promise<ReadResult> {
    const guess = await plannerTotal(count, this.estimate(plan))
    if (guess === undefined) return this.readPage(plan, true)
    return { ...(await this.readPage(plan, false)), total: guess }
  }

  async readLarge(plan: PlannedRead, chunkSize: number): Promise<{ small: ReadResult } | { stream: StreamedRead }> {
    const cursor = await this.driver.openCursor(new PostgresCompiler().compileRowStream(plan), { chunkSize, arrayRows: true })
    try {
      // counted in the cursor's snapshot, so the header and the body describe the same rows
      const counted = await cursor.query(new PostgresCompiler().compileCount(plan), { arrayRows: true })
      const total = Number((counted.rows[0] as unknown as [number])[0])
      const rows = pageRows(total, plan.offset, plan.limit)
      const first = (await cursor.next()).map((r) => (r as unknown as [string])[0])
      if (first.length < chunkSize) {
        await cursor.close()
        return { small: { body: `[${first.join(',')}]`, rows: first.length, total } }
      }
      async function* chunks(): AsyncGenerator<string[]> {
        yield first
        for (;;) {
          const next = await cursor.next()
          if (!next.length) break
          yield next.map((r) => (r as unknown as [string])[0])
        }
        await cursor.close()
      }
      return { stream: { total, rows, chunks: chunks(), close: () => cursor.close() } }
    } catch (err) {
      await cursor.close()
      throw err
    }
  }

  async count(plan: PlannedRead, mode: CountMode): Promise<number> {
    if (mode === 'planned' || mode === 'estimated') {
      const guess = await plannerTotal(mode, this.estimate(plan))
      if (guess !== undefined) return guess
    }
    const res = await this.driver.query(new PostgresCompiler().compileCount(plan), { arrayRows: true })
    return Number((res.rows[0] as unknown as [number])[0])
  }

  private estimate(plan: PlannedRead): Promise<number> {
    return this.estimateOn(this.driver, new PostgresCompiler().compileEstimate(plan))
  }

  /** the planner's row count of an EXPLAIN (FORMAT JSON) statement */
  private async estimateOn(db: Executor, explain: Statement): Promise<number> {
    const res = await db.query(explain, { arrayRows: true })
    const doc = (res.rows[0] as unknown as [unknown])[0]
    const parsed = typeof doc === 'string' ? JSON.parse(doc) : doc
    return Number(parsed?.[0]?.Plan?.['Plan Rows'] ?? 0)
  }

  insert(plan: PlannedInsert, opts?: MutationOptions): Promise<MutationResult> {
    return this.write(new PostgresCompiler().compileInsert(plan), opts)
  }

  update(plan: PlannedUpdate, opts?: MutationOptions): Promise<MutationResult> {
    return this.write(new PostgresCompiler().compileUpdate(plan), opts)
  }

  delete(plan: PlannedDelete, opts?: MutationOptions): Promise<MutationResult> {
    return this.write(new PostgresCompiler().compileDelete(plan), opts)
  }

  /** one statement commits on its own; a result to verify needs a transaction the check can roll back */
  private write(stmt: { sql: string; params: readonly unknown[] }, opts?: MutationOptions): Promise<MutationResult> {
    const verify = opts?.verify
    if (!verify && !opts?.announce) return this.mutate(this.driver, stmt)
    let written: MutationResult | undefined
    return this.driver.transaction('read write', async (tx) => {
      const result = await this.mutate(tx, stmt)
      verify?.(result)
      written = result
      return result
    }, commitHook(opts?.announce, () => written))
  }

  async rpc(plan: PlannedRpc, count?: CountMode): Promise<RpcResult> {
    const returnsSet = plan.read !== null || plan.fn.returnsSet
    const run = async (db: Executor): Promise<RpcResult> => {
      // EXPLAIN does not run the function
      const byPlanner = returnsSet && (count === 'planned' || count === 'estimated')
      const guess = byPlanner ? await plannerTotal(count, this.estimateOn(db, new PostgresCompiler().compileRpcEstimate(plan))) : undefined
      const exact = returnsSet && (count === 'exact' || (byPlanner && guess === undefined))
      const res = await db.query(new PostgresCompiler().compileRpc(plan, exact), { arrayRows: true })
      const [body, rows, total] = res.rows[0] as unknown as [string | null, number, number | string | undefined]
      return { body: body ?? 'null', rows, total: exact ? Number(total) : guess, returnsSet }
    }
    // GET calls and stable/immutable functions run read-only, so a GET can never write
    return plan.readOnly ? this.driver.transaction('read only', run) : run(this.driver)
  }

  private async mutate(db: Executor, stmt: { sql: string; params: readonly unknown[] }): Promise<MutationResult> {
    const res = await db.query(stmt, { arrayRows: true, prepare: true })
    const [body, affected] = res.rows[0] as unknown as [string, number]
    return { body, affected }
  }
}

/**
 * Planned and estimated counts ask the planner first. The total is its guess, or undefined where the rows
 * must be counted exactly: `estimated` below ESTIMATE_EXACT_BELOW planned rows.
 */
async function plannerTotal(mode: 'planned' | 'estimated', estimate: Promise<number>): Promise<number | undefined> {
  const guess = await estimate
  return mode === 'estimated' && guess < ESTIMATE_EXACT_BELOW ? undefined : guess
}
