// Runs compiled statements on MySQL/MariaDB. Reads shape rows in JS; writes run in one transaction and read the
// written rows back by primary key (MariaDB returns inserted keys with RETURNING; MySQL needs them in the request
// or AUTO_INCREMENT).
import { AppError } from '../../errors/app-error.js'
import type { Driver, Executor, Row, Statement } from '../../sources/driver.js'
import type { CompiledCount, CompiledRead, CompiledRpc, CompiledStream, CompiledTotal, CompiledWrite } from '../compile/compiled.js'
import type { PlannedInsert, PlannedRead, PlannedUpdate } from '../plan/types.js'
import { commitHook, pageRows, type MutationOptions, type MutationResult, type ReadResult, type RpcResult, type Runner, type StreamedRead } from './runner.js'
import { shapeGroupRow, shapeRow } from './shape-mysql-rows.js'

export class MysqlRunner implements Runner {
  constructor(private readonly driver: Driver) {}

  private shape(plan: PlannedRead, rows: Row[]): Row[] {
    return plan.group ? rows.map((r) => shapeGroupRow(plan, r)) : rows.map((r) => shapeRow(plan, r))
  }

  private async rows(db: Executor, plan: PlannedRead, stmt: Statement): Promise<Row[]> {
    return this.shape(plan, (await db.query(stmt)).rows)
  }

  async read(c: CompiledRead): Promise<ReadResult> {
    const rows = await this.rows(this.driver, c.plan, c.page)
    const total = c.total ? await this.total(this.driver, c.total) : undefined
    return { body: JSON.stringify(rows), rows: rows.length, total }
  }

  async stream(c: CompiledStream, chunkSize: number): Promise<{ small: ReadResult } | { stream: StreamedRead }> {
    const plan = c.plan
    const cursor = await this.driver.openCursor(c.rows, { chunkSize })
    try {
      const total = c.total ? await this.total(cursor, { kind: 'count', stmt: c.total }) : undefined
      const first = this.shape(plan, await cursor.next())
      if (first.length < chunkSize) {
        await cursor.close()
        return { small: { body: JSON.stringify(first), rows: first.length, total: total ?? first.length } }
      }
      const shape = (rows: Row[]) => this.shape(plan, rows).map((r) => JSON.stringify(r))
      async function* chunks(): AsyncGenerator<string[]> {
        yield shape(first)
        for (;;) {
          const next = await cursor.next()
          if (!next.length) break
          yield shape(next)
        }
        await cursor.close()
      }
      return { stream: { total: total ?? 0, rows: pageRows(total ?? 0, plan.offset, plan.limit), chunks: chunks(), close: () => cursor.close() } }
    } catch (err) {
      await cursor.close()
      throw err
    }
  }

  count(c: CompiledCount): Promise<number> {
    return this.total(this.driver, c.total)
  }

  private async total(db: Executor, t: CompiledTotal<unknown>): Promise<number> {
    switch (t.kind) {
      case 'rows': return (await db.query(t.stmt)).rows.length
      // EXPLAIN's first row holds the optimizer's guess
      case 'estimate': return Number((await db.query(t.stmt)).rows[0]?.rows ?? 0)
      case 'count': return Number((await db.query(t.stmt)).rows[0]?.n ?? 0)
      default: throw new Error(`MySQL runner: a total cannot be "${t.kind}"`)
    }
  }

  write(c: CompiledWrite, opts?: MutationOptions): Promise<MutationResult> {
    switch (c.plan.kind) {
      case 'insert': return this.transaction(opts, (tx) => this.insert(tx, c, c.plan as PlannedInsert))
      case 'update': return this.transaction(opts, (tx) => this.update(tx, c, c.plan as PlannedUpdate))
      case 'delete': return this.transaction(opts, (tx) => this.delete(tx, c))
    }
  }

  private async insert(tx: Executor, c: CompiledWrite, plan: PlannedInsert): Promise<MutationResult> {
    const existing = c.collisions ? (await tx.query(c.collisions)).rows : []
    const res = await tx.query(c.write)
    // ON DUPLICATE KEY counts an updated row twice; the rows written is what callers mean
    const affected = plan.onConflict ? Math.min(res.affected, plan.rows.length) : res.affected
    if (!plan.returning || !c.readBack) return { body: '[]', affected }
    const keys = c.returnsKeys ? res.rows : insertedKeys(plan, res.insertId, affected)
    const rows = keys.length ? await this.rows(tx, plan.returning, c.readBack(keys, existing)) : []
    return { body: JSON.stringify(rows), affected: plan.onConflict?.action === 'ignore' ? rows.length : affected }
  }

  private async update(tx: Executor, c: CompiledWrite, plan: PlannedUpdate): Promise<MutationResult> {
    const keys = c.lockKeys ? (await tx.query(c.lockKeys)).rows : []
    const res = await tx.query(c.write)
    if (!plan.returning || !c.readBack) return { body: '[]', affected: res.affected }
    // a primary key changed by the update is read back under its new value
    const changed = new Map(plan.set.map(([col, v]) => [col.name, v]))
    const current = keys.map((k) => Object.fromEntries(Object.entries(k).map(([name, v]) => [name, changed.has(name) ? changed.get(name) : v])))
    const rows = current.length ? await this.rows(tx, plan.returning, c.readBack(current)) : []
    return { body: JSON.stringify(rows), affected: Math.max(res.affected, rows.length) }
  }

  private async delete(tx: Executor, c: CompiledWrite): Promise<MutationResult> {
    let body = '[]'
    const returning = c.plan.returning
    if (returning && c.lockKeys && c.readBack) {
      // read before deleting: afterwards the rows are gone
      const keys = (await tx.query(c.lockKeys)).rows
      body = keys.length ? JSON.stringify(await this.rows(tx, returning, c.readBack(keys))) : '[]'
    }
    const res = await tx.query(c.write)
    return { body, affected: res.affected }
  }

  /** every write runs in one transaction; `verify` sees the result before it commits and may roll it back */
  private transaction(opts: MutationOptions | undefined, fn: (tx: Executor) => Promise<MutationResult>): Promise<MutationResult> {
    let written: MutationResult | undefined
    return this.driver.transaction('read write', async (tx) => {
      const result = await fn(tx)
      opts?.verify?.(result)
      written = result
      return result
    }, commitHook(opts?.announce, () => written))
  }

  async rpc(c: CompiledRpc): Promise<RpcResult> {
    const plan = c.plan
    const isProcedure = plan.fn.returnType === 'procedure'
    // a routine's result has no plan to type it from, so the driver types it
    const run = (db: Executor) => db.query(c.call, { typed: true })
    const res = plan.readOnly ? await this.driver.transaction('read only', run) : await run(this.driver)
    if (!isProcedure) return { body: JSON.stringify(res.rows[0]?.v ?? null), rows: 1, returnsSet: false }
    // a procedure's result set cannot be limited in SQL; the cap still bounds what is sent
    const rows = plan.maxRows === undefined ? res.rows : res.rows.slice(0, plan.maxRows)
    return { body: JSON.stringify(rows), rows: rows.length, returnsSet: true }
  }
}

/** MySQL without RETURNING: keys from the request, or a consecutive AUTO_INCREMENT range */
function insertedKeys(plan: PlannedInsert, insertId: number | undefined, affected: number): Row[] {
  const pk = plan.table.primaryKey
  if (!pk.length) throw new AppError('unsupported_feature', `"${plan.table.name}" has no primary key, so written rows cannot be returned on MySQL`)
  if (plan.rows.every((r) => pk.every((k) => r[k] !== undefined && r[k] !== null))) return plan.rows.map((r) => Object.fromEntries(pk.map((k) => [k, r[k]])))
  if (pk.length === 1 && insertId && !plan.onConflict) return Array.from({ length: affected }, (_, i) => ({ [pk[0]]: insertId + i }))
  throw new AppError('unsupported_feature', 'returning written rows on MySQL needs their primary keys in the request (or an AUTO_INCREMENT key)')
}
