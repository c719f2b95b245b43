// Planner step: Athena's `resource_id` (a delete's shortcut for "the row with this key") → an ordinary condition on
// the table's primary key, or on `id` for a PostgREST upstream, whose schema Atrium does not know. Returns a new query.
import { AppError } from '../../errors/app-error.js'
import type { Condition, DeleteQuery, Filter } from '../ast.js'
import type { TableInfo } from '../../sources/schema.js'

const RESOURCE_ID = 'resource_id'

/** `resource_id` addresses a row by its single-column primary key (or an `id` column) */
export function resourceKey(table: TableInfo): string {
  if (table.primaryKey.length === 1) return table.primaryKey[0]
  if (table.columnMap.has('id')) return 'id'
  throw new AppError('invalid_request', `resource_id needs a single-column primary key, and "${table.name}" has none; use conditions instead`)
}

const namesResourceId = (f: Filter): f is Condition => f.kind === 'cond' && f.field.column === RESOURCE_ID

/**
 * The delete with `resourceId` and top-level conditions on `resource_id` turned into conditions on `key`.
 * `renameConditions` is false when the table has a real `resource_id` column: conditions then mean that column.
 */
function withResourceKey(ast: DeleteQuery, key: () => string, renameConditions: boolean): DeleteQuery {
  const renames = renameConditions && ast.where.some(namesResourceId)
  if (ast.resourceId === undefined && !renames) return ast
  const column = key()
  const where: Filter[] = renames
    ? ast.where.map((f) => (namesResourceId(f) ? { ...f, field: { ...f.field, column } } : f))
    : [...ast.where]
  if (ast.resourceId !== undefined) {
    where.push({ kind: 'cond', field: { column, json: [] }, op: 'eq', negated: false, value: { kind: 'scalar', value: ast.resourceId } })
  }
  const { resourceId: _, ...rest } = ast
  return { ...rest, where }
}

/**
 * Resolves `resource_id` against the table's schema:
 *   { where: [], resourceId: 7 } on orders (primary key id)                      → { where: [id eq 7] }
 *   { where: [resource_id eq 7] } on orders (no resource_id column)             → { where: [id eq 7] }
 *   { where: [resource_id eq 7] } on a table that has a resource_id column      → unchanged
 * A table with neither a single-column key nor an `id` column refuses resource_id with a 400.
 */
export function resolveResourceId(ast: DeleteQuery, table: TableInfo): DeleteQuery {
  return withResourceKey(ast, () => resourceKey(table), !table.columnMap.has(RESOURCE_ID))
}

/** A PostgREST upstream has no schema cache here: resource_id means an `id` column. */
export function resolveUpstreamResourceId(ast: DeleteQuery): DeleteQuery {
  return withResourceKey(ast, () => 'id', true)
}
