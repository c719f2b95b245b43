// Runs compiled statements on PostgreSQL: one statement per request, JSON built by the server, cursors for large reads.
import type { Driver, Executor, Statement } from '../../sources/driver.js'
import type { CompiledCount, CompiledRead, CompiledRpc, CompiledStream, CompiledTotal, CompiledWrite } from '../compile/compiled.js'
import { commitHook, pageRows, type MutationOptions, type MutationResult, type ReadResult, type RpcResult, type Runner, type StreamedRead } from './runner.js'

export class PostgresRunner implements Runner {
  constructor(private readonly driver: Driver) {}

  read(c: CompiledRead): Promise<ReadResult> {
    if (c.total?.kind === 'estimate') return this.readEstimated(c, c.total)
    return this.readPage(c.page, c.total !== undefined)
  }

  private readPage(page: Statement, counted: boolean): Promise<ReadResult> {
    // named columns rather than array rows: the hot read then goes to pg as text and values (see send in the driver)
    return this.driver.query(page, { prepare: true }).then((res) => {
      const { body, rows, total } = res.rows[0] as { body: string; rows: number; total?: string | number }
      return { body, rows, total: counted ? Number(total) : undefined }
    })
  }

  private async readEstimated(c: CompiledRead, estimate: Extract<CompiledTotal<CompiledRead>, { kind: 'estimate' }>): Promise<ReadResult> {
    const guess = await this.estimateOn(this.driver, estimate.stmt)
    if (estimate.exact && isBelow(guess, estimate.exactBelow)) return this.read(estimate.exact)
    return { ...(await this.readPage(c.page, false)), total: guess }
  }

  async stream(c: CompiledStream, chunkSize: number): Promise<{ small: ReadResult } | { stream: StreamedRead }> {
    const cursor = await this.driver.openCursor(c.rows, { chunkSize, arrayRows: true })
    try {
      // counted in the cursor's snapshot, so the header and the body describe the same rows
      const counted = await cursor.query(c.total!, { arrayRows: true })
      const total = Number((counted.rows[0] as unknown as [number])[0])
      const rows = pageRows(total, c.plan.offset, c.plan.limit)
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

  async count(c: CompiledCount): Promise<number> {
    const t = c.total
    if (t.kind === 'estimate') {
      const guess = await this.estimateOn(this.driver, t.stmt)
      return t.exact && isBelow(guess, t.exactBelow) ? this.count(t.exact) : guess
    }
    if (t.kind !== 'count') throw new Error(`PostgreSQL runner: a standalone count cannot be "${t.kind}"`)
    const res = await this.driver.query(t.stmt, { arrayRows: true })
    return Number((res.rows[0] as unknown as [number])[0])
  }

  /** the planner's row count of an EXPLAIN (FORMAT JSON) statement */
  private async estimateOn(db: Executor, explain: Statement): Promise<number> {
    const res = await db.query(explain, { arrayRows: true })
    const doc = (res.rows[0] as unknown as [unknown])[0]
    const parsed = typeof doc === 'string' ? JSON.parse(doc) : doc
    return Number(parsed?.[0]?.Plan?.['Plan Rows'] ?? 0)
  }

  /** one statement commits on its own; a result to verify needs a transaction the check can roll back */
  write(c: CompiledWrite, opts?: MutationOptions): Promise<MutationResult> {
    const verify = opts?.verify
    if (!verify && !opts?.announce) return this.mutate(this.driver, c.write)
    let written: MutationResult | undefined
    return this.driver.transaction('read write', async (tx) => {
      const result = await this.mutate(tx, c.write)
      verify?.(result)
      written = result
      return result
    }, commitHook(opts?.announce, () => written))
  }

  rpc(c: CompiledRpc): Promise<RpcResult> {
    const returnsSet = c.plan.read !== null || c.plan.fn.returnsSet
    const run = async (db: Executor): Promise<RpcResult> => {
      let call = c
      let guess: number | undefined
      if (c.total?.kind === 'estimate') {
        // EXPLAIN does not run the function
        guess = await this.estimateOn(db, c.total.stmt)
        if (c.total.exact && isBelow(guess, c.total.exactBelow)) {
          call = c.total.exact
          guess = undefined
        }
      }
      const res = await db.query(call.call, { arrayRows: true })
      const [body, rows, total] = res.rows[0] as unknown as [string | null, number, number | string | undefined]
      return { body: body ?? 'null', rows, total: call.total?.kind === 'in-result' ? Number(total) : guess, returnsSet }
    }
    // GET calls and stable/immutable functions run read-only, so a GET can never write
    return c.plan.readOnly ? this.driver.transaction('read only', run) : run(this.driver)
  }

  private async mutate(db: Executor, stmt: Statement): Promise<MutationResult> {
    const res = await db.query(stmt, { arrayRows: true, prepare: true })
    // a mutation that sends nothing back is compiled bare (no result row): its command tag counts the rows
    if (!res.rows.length) return { body: '[]', affected: res.affected, rows: 0 }
    const [body, affected] = res.rows[0] as unknown as [string, number]
    // the statement counts the rows it returns (wrapMutation); with nothing asked back the body is `[]`
    return { body, affected, rows: body === '[]' ? 0 : affected }
  }
}

const isBelow = (guess: number, threshold: number | undefined) => threshold !== undefined && guess < threshold
