// Runs plans on MySQL/MariaDB. Reads shape rows in JS; writes run in one transaction and read the written rows
// back by primary key (MariaDB returns inserted keys with RETURNING; MySQL needs them in the request or AUTO_INCREMENT).
import { AppError } from '../../errors/app-error.js'
import type { Driver, Executor, Row } from '../../sources/driver.js'
import type { ColumnInfo, TableInfo } from '../../sources/schema.js'
import type { CountMode } from '../ast.js'
import type { DialectCapabilities } from '../dialect.js'
import { MysqlCompiler } from '../compile/mysql-compiler.js'
import type { PlannedDelete, PlannedFilter, PlannedInsert, PlannedRead, PlannedRpc, PlannedUpdate } from '../plan/types.js'
import { commitHook, pageRows, type MutationOptions, type MutationResult, type ReadResult, type RpcResult, type Runner, type StreamedRead } from './runner.js'
import { shapeGroupRow, shapeRow } from './shape-mysql-rows.js'

export class MysqlRunner implements Runner {
  constructor(private readonly driver: Driver, private readonly caps: DialectCapabilities) {}

  private shape(plan: PlannedRead, rows: Row[]): Row[] {
    return plan.group ? rows.map((r) => shapeGroupRow(plan, r)) : rows.map((r) => shapeRow(plan, r))
  }

  private async rows(db: Executor, plan: PlannedRead, extra: PlannedFilter[] = []): Promise<Row[]> {
    const stmt = extra.length ? new MysqlCompiler().compileReadWhere(plan, extra) : new MysqlCompiler().compileRead(plan)
    return this.shape(plan, (await db.query(stmt)).rows)
  }

  async read(plan: PlannedRead, count?: CountMode): Promise<ReadResult> {
    const rows = await this.rows(this.driver, plan)
    const total = count ? await this.count(plan, count) : undefined
    return { body: JSON.stringify(rows), rows: rows.length, total }
  }

  async readLarge(plan: PlannedRead, chunkSize: number): Promise<{ small: ReadResult } | { stream: StreamedRead }> {
    const cursor = await this.driver.openCursor(new MysqlCompiler().compileRead(plan), { chunkSize })
    try {
      const total = plan.group ? undefined : await this.countOn(cursor, plan)
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

  private async countOn(db: Executor, plan: PlannedRead): Promise<number> {
    const res = await db.query(new MysqlCompiler().compileCount(plan))
    return Number(res.rows[0]?.n ?? 0)
  }

  async count(plan: PlannedRead, mode: CountMode): Promise<number> {
    if (plan.group) return (await this.rows(this.driver, { ...plan, limit: undefined, offset: undefined })).length
    if (mode === 'planned') {
      const res = await this.driver.query(new MysqlCompiler().compileEstimate(plan))
      return Number(res.rows[0]?.rows ?? 0)
    }
    return this.countOn(this.driver, plan)
  }

  async insert(plan: PlannedInsert, opts?: MutationOptions): Promise<MutationResult> {
    const table = plan.table
    return this.transaction(opts, async (tx) => {
      const wantKeys = plan.returning !== null && this.caps.insertReturning && table.primaryKey.length > 0
      // Ignoring duplicates must report only the rows inserted (as ON CONFLICT DO NOTHING does), yet neither
      // path can tell them apart afterwards: MariaDB's RETURNING also answers the existing row a duplicate ran
      // into, and on MySQL the keys come from the request. So the rows the request can collide with are read
      // first and left out of the answer.
      const ignoring = plan.returning !== null && plan.onConflict?.action === 'ignore'
      const existing = ignoring ? await this.collidingKeys(tx, plan) : []
      const res = await tx.query(new MysqlCompiler().compileInsert(plan, wantKeys ? table.primaryKey : null))
      // ON DUPLICATE KEY counts an updated row twice; the rows written is what callers mean
      const affected = plan.onConflict ? Math.min(res.affected, plan.rows.length) : res.affected
      if (!plan.returning) return { body: '[]', affected }
      const keys = wantKeys ? res.rows : this.insertedKeys(plan, res.insertId, affected)
      const filters = [keyFilter(table, keys)]
      if (existing.length) filters.push({ ...keyFilter(table, existing), negated: true })
      const rows = keys.length ? await this.rows(tx, plan.returning, filters) : []
      return { body: JSON.stringify(rows), affected: ignoring ? rows.length : affected }
    })
  }

  /**
   * Primary keys of the existing rows that share a primary-key or unique value with a row of the insert
   * (MySQL's ON DUPLICATE KEY fires on any unique key). Read in the transaction's snapshot, without locks:
   * locking the gaps of missing keys would make concurrent upserts deadlock, at the price that a row
   * committed by another transaction between this read and the insert may be reported as inserted.
   */
  private async collidingKeys(tx: Executor, plan: PlannedInsert): Promise<Row[]> {
    const table = plan.table
    if (!table.primaryKey.length) return []
    const written = new Set(plan.columns.map((c) => c.name))
    const matches: PlannedFilter[] = []
    for (const key of [table.primaryKey, ...table.uniques]) {
      if (!key.length || !key.every((c) => written.has(c))) continue
      // NULLs never collide in a unique index
      const values = plan.rows.filter((r) => key.every((c) => r[c] !== undefined && r[c] !== null))
      if (values.length) matches.push(tupleFilter(key.map((c) => table.columnMap.get(c)!), values))
    }
    if (!matches.length) return []
    return (await tx.query(new MysqlCompiler().compileSelectKeys(table, [{ kind: 'or', negated: false, items: matches }], false))).rows
  }

  /** MySQL without RETURNING: keys from the request, or a consecutive AUTO_INCREMENT range */
  private insertedKeys(plan: PlannedInsert, insertId: number | undefined, affected: number): Row[] {
    const pk = plan.table.primaryKey
    if (!pk.length) throw new AppError('unsupported_feature', `"${plan.table.name}" has no primary key, so written rows cannot be returned on MySQL`)
    if (plan.rows.every((r) => pk.every((k) => r[k] !== undefined && r[k] !== null))) return plan.rows.map((r) => Object.fromEntries(pk.map((k) => [k, r[k]])))
    if (pk.length === 1 && insertId && !plan.onConflict) return Array.from({ length: affected }, (_, i) => ({ [pk[0]]: insertId + i }))
    throw new AppError('unsupported_feature', 'returning written rows on MySQL needs their primary keys in the request (or an AUTO_INCREMENT key)')
  }

  async update(plan: PlannedUpdate, opts?: MutationOptions): Promise<MutationResult> {
    return this.transaction(opts, async (tx) => {
      const keys = plan.returning ? await this.lockKeys(tx, plan.table, plan.where) : []
      const res = await tx.query(new MysqlCompiler().compileUpdate(plan.table, plan.set, plan.where))
      if (!plan.returning) return { body: '[]', affected: res.affected }
      // a primary key changed by the update is read back under its new value
      const changed = new Map(plan.set.map(([c, v]) => [c.name, v]))
      const current = keys.map((k) => Object.fromEntries(Object.entries(k).map(([name, v]) => [name, changed.has(name) ? changed.get(name) : v])))
      const rows = current.length ? await this.rows(tx, plan.returning, [keyFilter(plan.table, current)]) : []
      return { body: JSON.stringify(rows), affected: Math.max(res.affected, rows.length) }
    })
  }

  async delete(plan: PlannedDelete, opts?: MutationOptions): Promise<MutationResult> {
    return this.transaction(opts, async (tx) => {
      let body = '[]'
      if (plan.returning) {
        // read before deleting: afterwards the rows are gone
        const keys = await this.lockKeys(tx, plan.table, plan.where)
        body = keys.length ? JSON.stringify(await this.rows(tx, plan.returning, [keyFilter(plan.table, keys)])) : '[]'
      }
      const res = await tx.query(new MysqlCompiler().compileDelete(plan.table, plan.where))
      return { body, affected: res.affected }
    })
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

  private async lockKeys(tx: Executor, table: TableInfo, where: PlannedFilter[]): Promise<Row[]> {
    if (!table.primaryKey.length) throw new AppError('unsupported_feature', `"${table.name}" has no primary key, so written rows cannot be returned on MySQL`)
    return (await tx.query(new MysqlCompiler().compileSelectKeys(table, where, true))).rows
  }

  async rpc(plan: PlannedRpc): Promise<RpcResult> {
    const fn = plan.fn
    const args = plan.args.map(([, v]) => v)
    const isProcedure = fn.returnType === 'procedure'
    const stmt = new MysqlCompiler().compileCall(isProcedure ? 'procedure' : 'function', fn.schema, fn.name, args)
    // a routine's result has no plan to type it from, so the driver types it
    const run = (db: Executor) => db.query(stmt, { typed: true })
    const res = plan.readOnly ? await this.driver.transaction('read only', run) : await run(this.driver)
    if (!isProcedure) return { body: JSON.stringify(res.rows[0]?.v ?? null), rows: 1, returnsSet: false }
    // a procedure's result set cannot be limited in SQL; the cap still bounds what is sent
    const rows = plan.maxRows === undefined ? res.rows : res.rows.slice(0, plan.maxRows)
    return { body: JSON.stringify(rows), rows: rows.length, returnsSet: true }
  }
}

/** `pk IN (…)` (or an OR of key tuples) selecting exactly the given rows */
function keyFilter(table: TableInfo, keys: Row[]): PlannedFilter {
  return tupleFilter(table.primaryKey.map((k) => table.columnMap.get(k)!), keys)
}

/** rows whose `columns` equal those of one of `tuples`: `c IN (…)` for one column, else an OR of ANDs */
function tupleFilter(columns: ColumnInfo[], tuples: Row[]): PlannedFilter {
  if (columns.length === 1) return { kind: 'cond', column: columns[0], json: [], op: 'in', value: { kind: 'list', values: tuples.map((k) => k[columns[0].name]) }, negated: false }
  return {
    kind: 'or',
    negated: false,
    items: tuples.map((k) => ({
      kind: 'and' as const,
      negated: false,
      items: columns.map((c) => ({ kind: 'cond' as const, column: c, json: [], op: 'eq' as const, value: { kind: 'scalar' as const, value: k[c.name] }, negated: false })),
    })),
  }
}
