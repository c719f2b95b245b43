// Plans inserts, upserts, updates and deletes: target relation, written columns, conflict target, RETURNING shape.
// Passes: resolveTable → (deletes) resolveResourceId → writable check → columns/filters → returning (and location).
import { AppError } from '../../errors/app-error.js'
import type { ColumnInfo, TableInfo } from '../../sources/schema.js'
import type { DeleteQuery, InsertQuery, SelectItem, UpdateQuery } from '../ast.js'
import { planFilters, planReadOn, resolveColumn, resolveTable } from './plan-read.js'
import type { PlanContext } from './types.js'
import { resolveResourceId } from './resolve-resource-id.js'
import type { PlannedDelete, PlannedInsert, PlannedRead, PlannedUpdate } from './types.js'

function writableTable(ctx: PlanContext, ast: { relation: InsertQuery['relation'] }): TableInfo {
  return checkWritable(resolveTable(ctx, ast.relation))
}

function checkWritable(table: TableInfo): TableInfo {
  if (!table.insertable) {
    throw new AppError('read_only_relation', `"${table.name}" is a ${table.kind.replace('_', ' ')} that cannot be written to`)
  }
  return table
}

/**
 * What an insert returns: the rows asked for, or (for a Location) only the primary key of the written rows.
 *   location on orders (key id), nothing else asked → returning [id], location ['id']
 */
export function planLocation(table: TableInfo, ast: InsertQuery): { returning: SelectItem[] | null; location?: string[] } {
  if (!ast.location || !table.primaryKey.length) return { returning: ast.returning }
  const key = table.primaryKey
  return { returning: ast.returning ?? key.map((c) => ({ kind: 'column' as const, field: { column: c, json: [] } })), location: key }
}

function planReturning(ctx: PlanContext, table: TableInfo, returning: SelectItem[] | null, stripNulls?: boolean): PlannedRead | null {
  if (!returning) return null
  return planReadOn(ctx, table, { select: returning, where: [], order: [], stripNulls })
}

function assignments(ctx: PlanContext, table: TableInfo, values: Record<string, unknown>, what: string): Array<[ColumnInfo, unknown]> {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) throw new AppError('invalid_request', `${what} must be a JSON object of column: value`)
  return Object.entries(values).map(([name, value]) => [resolveColumn(ctx, table, name), value])
}

/**
 * The union of the rows' keys, in first-seen order, after checking that every row is an object. Bulk bodies
 * are mostly rows with the first row's keys in its order, so each row is compared with those and only a row
 * that differs adds to a set: no per-row arrays (`flatMap(Object.keys)` into a Set cost about thirty times as
 * much on 1,000 rows). `for…in` also sees inherited enumerable keys; rows come from JSON.parse or the CSV
 * reader, plain objects.
 */
function rowKeys(rows: readonly Record<string, unknown>[]): string[] {
  const first: string[] = []
  let union: Set<string> | undefined
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new AppError('invalid_request', `row ${i} of the insert is not a JSON object`)
    if (i === 0) {
      for (const key in row) first.push(key)
      continue
    }
    let n = 0
    let same = true
    for (const key in row) {
      if (key !== first[n++]) { same = false; break }
    }
    if (same && n === first.length) continue
    union ??= new Set(first)
    for (const key in row) union.add(key)
  }
  return union ? [...union] : first
}

export function planInsert(ctx: PlanContext, ast: InsertQuery): PlannedInsert {
  const table = writableTable(ctx, ast)
  const keys = rowKeys(ast.rows) // checks every row even when columns= names the columns
  const names = ast.columns ?? keys
  const columns = names.map((n) => resolveColumn(ctx, table, n))
  let onConflict: PlannedInsert['onConflict']
  if (ast.onConflict) {
    const targetNames = ast.onConflict.columns?.length ? ast.onConflict.columns : table.primaryKey
    if (!targetNames.length) {
      throw new AppError('invalid_request', `"${table.name}" has no primary key; name the conflict columns with on_conflict`)
    }
    const target = targetNames.map((n) => resolveColumn(ctx, table, n))
    const isUniqueTarget = [table.primaryKey, ...table.uniques].some((k) => k.length === target.length && k.every((c) => target.some((t) => t.name === c)))
    if (!isUniqueTarget && table.kind === 'table') {
      throw new AppError('invalid_request', `on_conflict (${targetNames.join(', ')}) is not a primary key or unique constraint of "${table.name}"`)
    }
    onConflict = {
      columns: target,
      action: ast.onConflict.action,
      set: ast.onConflict.set ? assignments(ctx, table, ast.onConflict.set, 'update_body') : undefined,
    }
  }
  const { returning, location } = planLocation(table, ast)
  const planned: PlannedInsert = { kind: 'insert', table, columns, rows: ast.rows, missing: ast.missing, onConflict, returning: planReturning(ctx, table, returning, ast.stripNulls) }
  if (ast.rowsJson) planned.rowsJson = ast.rowsJson
  if (location) planned.location = location
  return planned
}

function requireFilter(where: unknown[], verb: string, table: TableInfo): void {
  if (where.length === 0) {
    throw new AppError('missing_filter', `${verb} on "${table.name}" needs at least one filter`, {
      hint: `Atrium never ${verb === 'update' ? 'updates' : 'deletes'} every row of a table; add a condition such as id=eq.1`,
    })
  }
}

export function planUpdate(ctx: PlanContext, ast: UpdateQuery): PlannedUpdate {
  const table = writableTable(ctx, ast)
  const set = assignments(ctx, table, ast.set, 'the update body')
  if (set.length === 0) throw new AppError('invalid_request', 'the update body names no columns to change')
  const where = planFilters(ctx, table, ast.where)
  requireFilter(where, 'update', table)
  return { kind: 'update', table, set, where, returning: planReturning(ctx, table, ast.returning, ast.stripNulls) }
}

export function planDelete(ctx: PlanContext, given: DeleteQuery): PlannedDelete {
  const table = resolveTable(ctx, given.relation)
  // before the writable check, as when routes resolved it: a table resource_id cannot address is named first
  const ast = resolveResourceId(given, table)
  checkWritable(table)
  const where = planFilters(ctx, table, ast.where)
  requireFilter(where, 'delete', table)
  return { kind: 'delete', table, where, returning: planReturning(ctx, table, ast.returning, ast.stripNulls) }
}
