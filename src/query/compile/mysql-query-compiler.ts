// MySQL/MariaDB's compile stage: each plan to the statements MysqlRunner sequences. Writes that return rows take
// several (MySQL has no UPDATE … RETURNING): the keys of the rows touched, the write, and a read-back by those
// keys, compiled once the keys are known. The server flavour's capabilities decide what the write can answer.
import { AppError } from '../../errors/app-error.js'
import type { Row, Statement } from '../../sources/driver.js'
import type { ColumnInfo, TableInfo } from '../../sources/schema.js'
import type { CountMode } from '../ast.js'
import type { DialectCapabilities } from '../dialect.js'
import type { PlannedDelete, PlannedFilter, PlannedInsert, PlannedRead, PlannedRpc, PlannedUpdate } from '../plan/types.js'
import type { CompiledCount, CompiledRead, CompiledRpc, CompiledStream, CompiledTotal, CompiledWrite, QueryCompiler } from './compiled.js'
import { MysqlCompiler } from './mysql-compiler.js'

export class MysqlQueryCompiler implements QueryCompiler {
  constructor(private readonly caps: DialectCapabilities) {}

  read(plan: PlannedRead, count?: CountMode): CompiledRead {
    return { kind: 'read', plan, page: new MysqlCompiler().compileRead(plan), total: count ? this.total(plan, count) : undefined }
  }

  count(plan: PlannedRead, mode: CountMode): CompiledCount {
    return { kind: 'count', total: this.total(plan, mode) }
  }

  /** `estimated` counts exactly: MySQL's EXPLAIN guesses are too rough to stand in for small totals */
  private total(plan: PlannedRead, mode: CountMode): CompiledTotal<never> {
    // groups exist only once the database has formed them: the unpaged groups are read and counted
    if (plan.group) return { kind: 'rows', stmt: new MysqlCompiler().compileRead({ ...plan, limit: undefined, offset: undefined }) }
    if (mode === 'planned') return { kind: 'estimate', stmt: new MysqlCompiler().compileEstimate(plan) }
    return { kind: 'count', stmt: new MysqlCompiler().compileCount(plan) }
  }

  stream(plan: PlannedRead): CompiledStream {
    return { kind: 'stream', plan, rows: new MysqlCompiler().compileRead(plan), total: plan.group ? undefined : new MysqlCompiler().compileCount(plan) }
  }

  insert(plan: PlannedInsert): CompiledWrite {
    const table = plan.table
    const returnsKeys = plan.returning !== null && this.caps.insertReturning && table.primaryKey.length > 0
    // Ignoring duplicates must report only the rows inserted (as ON CONFLICT DO NOTHING does), yet neither
    // path can tell them apart afterwards: MariaDB's RETURNING also answers the existing row a duplicate ran
    // into, and on MySQL the keys come from the request. So the rows the request can collide with are read
    // first and left out of the answer.
    const ignoring = plan.returning !== null && plan.onConflict?.action === 'ignore'
    return {
      kind: 'write',
      plan,
      collisions: ignoring ? collidingKeys(plan) : undefined,
      write: new MysqlCompiler().compileInsert(plan, returnsKeys ? table.primaryKey : null),
      returnsKeys,
      readBack: readBack(table, plan.returning),
    }
  }

  update(plan: PlannedUpdate): CompiledWrite {
    return {
      kind: 'write',
      plan,
      lockKeys: plan.returning ? lockKeys(plan.table, plan.where) : undefined,
      write: new MysqlCompiler().compileUpdate(plan.table, plan.set, plan.where),
      readBack: readBack(plan.table, plan.returning),
    }
  }

  delete(plan: PlannedDelete): CompiledWrite {
    return {
      kind: 'write',
      plan,
      lockKeys: plan.returning ? lockKeys(plan.table, plan.where) : undefined,
      write: new MysqlCompiler().compileDelete(plan.table, plan.where),
      readBack: readBack(plan.table, plan.returning),
    }
  }

  rpc(plan: PlannedRpc): CompiledRpc {
    const fn = plan.fn
    const kind = fn.returnType === 'procedure' ? 'procedure' : 'function'
    return { kind: 'rpc', plan, call: new MysqlCompiler().compileCall(kind, fn.schema, fn.name, plan.args.map(([, v]) => v)) }
  }
}

/** the read-back of written rows by primary key, shaped by the write's `returning` read */
function readBack(table: TableInfo, returning: PlannedRead | null): CompiledWrite['readBack'] {
  if (!returning) return undefined
  return (keys, exclude) => {
    const filters = [keyFilter(table, keys)]
    if (exclude?.length) filters.push({ ...keyFilter(table, exclude), negated: true })
    return new MysqlCompiler().compileReadWhere(returning, filters)
  }
}

/** reads and locks the primary keys of the rows a write will touch */
function lockKeys(table: TableInfo, where: PlannedFilter[]): Statement {
  if (!table.primaryKey.length) throw new AppError('unsupported_feature', `"${table.name}" has no primary key, so written rows cannot be returned on MySQL`)
  return new MysqlCompiler().compileSelectKeys(table, where, true)
}

/**
 * Primary keys of the existing rows that share a primary-key or unique value with a row of the insert
 * (MySQL's ON DUPLICATE KEY fires on any unique key); undefined when no row can collide. Read in the
 * transaction's snapshot, without locks: locking the gaps of missing keys would make concurrent upserts
 * deadlock, at the price that a row committed by another transaction between this read and the insert may be
 * reported as inserted.
 */
function collidingKeys(plan: PlannedInsert): Statement | undefined {
  const table = plan.table
  if (!table.primaryKey.length) return undefined
  const written = new Set(plan.columns.map((c) => c.name))
  const matches: PlannedFilter[] = []
  for (const key of [table.primaryKey, ...table.uniques]) {
    if (!key.length || !key.every((c) => written.has(c))) continue
    // NULLs never collide in a unique index
    const values = plan.rows.filter((r) => key.every((c) => r[c] !== undefined && r[c] !== null))
    if (values.length) matches.push(tupleFilter(key.map((c) => table.columnMap.get(c)!), values))
  }
  if (!matches.length) return undefined
  return new MysqlCompiler().compileSelectKeys(table, [{ kind: 'or', negated: false, items: matches }], false)
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
