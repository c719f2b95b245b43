// Plans a read: resolves the relation, select list, embeds, filters and order against the schema cache.
// Passes run in order: resolveTable → planSelect (with embeds) → planFilters → planOrder → checkRange.
import { AppError } from '../../errors/app-error.js'
import type { ColumnInfo, TableInfo } from '../../sources/schema.js'
import type { AggregateItem, EmbedItem, Filter, FieldRef, OrderTerm, ReadQuery, RelationRef, SelectItem } from '../ast.js'
import { displayName } from '../dialect.js'
import { resolveRelationship } from './resolve-relationship.js'
import { didYouMean } from './suggest.js'
import type { PlanContext, PlannedAggregate, PlannedEmbed, PlannedFilter, PlannedGroup, PlannedOrder, PlannedRead, PlannedSelect } from './types.js'

// Types a select may cast to; casts are written into SQL, so only known names are accepted.
const CASTABLE = new Set([
  'text', 'varchar', 'char', 'int', 'int2', 'int4', 'int8', 'integer', 'smallint', 'bigint', 'numeric', 'decimal', 'real',
  'float4', 'float8', 'double precision', 'boolean', 'bool', 'json', 'jsonb', 'date', 'time', 'timestamp', 'timestamptz',
  'uuid', 'interval', 'text[]', 'int[]', 'integer[]', 'bigint[]', 'jsonb[]',
])

/**
 * supabase-js names `public` in its profile headers whatever the database; a MySQL client has one database,
 * which is what such a profile means there. A schema written in a table name keeps its meaning.
 */
function profileRelation(ctx: PlanContext, ref: RelationRef): RelationRef {
  return ref.fromProfile && ref.schema === 'public' && !ctx.caps.namedSchemas ? { name: ref.name } : ref
}

export function resolveTable(ctx: PlanContext, given: RelationRef): TableInfo {
  const ref = given.fromProfile ? profileRelation(ctx, given) : given
  if (ref.schema && !ctx.schema.schemas.includes(ref.schema)) {
    throw new AppError('unknown_table', `schema "${ref.schema}" is not exposed on client "${ctx.source}"`, { hint: `exposed schemas: ${ctx.schema.schemas.join(', ')}` })
  }
  const table = ctx.schema.findTable(ref.name, ref.schema)
  if (!table) {
    throw new AppError('unknown_table', `table or view "${ref.name}" does not exist on client "${ctx.source}"`, {
      hint: didYouMean(ref.name, ctx.schema.tableNames(ref.schema)) ?? 'GET /schema/tables lists what this client exposes',
      data: { table: ref.name },
    })
  }
  return table
}

export function resolveColumn(ctx: PlanContext, table: TableInfo, name: string): ColumnInfo {
  const column = table.columnMap.get(name)
  if (!column) {
    throw new AppError('unknown_column', `column "${name}" does not exist on "${table.name}"`, {
      hint: didYouMean(name, table.columnMap.keys()) ?? `columns of ${table.name}: ${table.columns.map((c) => c.name).join(', ')}`,
      data: { table: table.name, column: name },
    })
  }
  return column
}

function checkJsonPath(ctx: PlanContext, column: ColumnInfo, ref: FieldRef): void {
  if (ref.json.length === 0) return
  if (column.category !== 'json') throw new AppError('invalid_filter', `"${column.name}" is not a JSON column, so "${column.name}->…" cannot be used`)
  if (!ctx.caps.jsonPaths) throw new AppError('unsupported_feature', `JSON paths are not supported on ${displayName(ctx.caps)} sources`)
}

export function planRead(ctx: PlanContext, ast: ReadQuery): PlannedRead {
  const table = resolveTable(ctx, ast.relation)
  return planReadOn(ctx, table, ast)
}

/** plans a read over an already resolved relation (also used for RETURNING and function results) */
export function planReadOn(ctx: PlanContext, table: TableInfo, ast: Omit<ReadQuery, 'kind' | 'relation'>): PlannedRead {
  const select = planSelect(ctx, table, ast.select)
  const where = planFilters(ctx, table, ast.where)
  const order = planOrder(ctx, table, ast.order, select)
  if (select.some((s) => s.kind === 'aggregate')) checkGroupedOrder(select, order)
  checkRange(ast.limit, ast.offset)
  return {
    kind: 'read',
    table,
    select,
    where,
    order,
    limit: ast.limit,
    offset: ast.offset,
    count: ast.count,
    stripNulls: ast.stripNulls ?? false,
    group: ast.group ? planGroup(ctx, table, ast.group) : undefined,
  }
}

function checkCast(ctx: PlanContext, cast: string | undefined): string | undefined {
  if (cast === undefined) return undefined
  if (!ctx.caps.casts) throw new AppError('unsupported_feature', `casts ("::${cast}") are not supported on ${displayName(ctx.caps)} sources`)
  if (!CASTABLE.has(cast.toLowerCase())) throw new AppError('invalid_select', `cannot cast to "${cast}"`, { hint: `castable types: ${[...CASTABLE].join(', ')}` })
  return cast.toLowerCase()
}

export function planSelect(ctx: PlanContext, table: TableInfo, items: SelectItem[]): PlannedSelect[] {
  const out: PlannedSelect[] = []
  for (const item of items) {
    if (item.kind === 'star') out.push({ kind: 'star', table })
    else if (item.kind === 'column') {
      const column = resolveColumn(ctx, table, item.field.column)
      checkJsonPath(ctx, column, item.field)
      const output = item.alias ?? (item.field.json.length ? item.field.json[item.field.json.length - 1].key : column.name)
      out.push({ kind: 'column', column, json: item.field.json, cast: checkCast(ctx, item.cast), output })
    } else if (item.kind === 'aggregate') out.push(planAggregate(ctx, table, item))
    else out.push(planEmbed(ctx, table, item))
  }
  if (out.some((s) => s.kind === 'aggregate')) checkGrouping(out)
  return out
}

const NUMERIC_CASTS = /^(int|int2|int4|int8|integer|smallint|bigint|numeric|decimal|real|float4|float8|double precision|interval)$/

/** `count()`, `total.sum()`: sum and avg need numbers (a cast before aggregating can make them so) */
function planAggregate(ctx: PlanContext, table: TableInfo, item: AggregateItem): PlannedAggregate {
  const planned: PlannedAggregate = { kind: 'aggregate', fn: item.fn, json: [], output: item.alias ?? item.fn }
  if (item.field) {
    const column = resolveColumn(ctx, table, item.field.column)
    checkJsonPath(ctx, column, item.field)
    planned.column = column
    planned.json = item.field.json
    planned.inputCast = checkCast(ctx, item.inputCast)
    const numeric = planned.inputCast ? NUMERIC_CASTS.test(planned.inputCast) : column.category === 'number' && !item.field.json.length
    if ((item.fn === 'sum' || item.fn === 'avg') && !numeric) {
      throw new AppError('invalid_select', `${item.fn}() needs a numeric column; "${column.name}" is ${column.type}`, { hint: `cast it first: ${column.name}::numeric.${item.fn}()` })
    }
  }
  planned.cast = checkCast(ctx, item.cast)
  return planned
}

/** with aggregates, the other items are the groups: plain columns only, so every output is one value per group */
function checkGrouping(select: PlannedSelect[]): void {
  const other = select.find((s) => s.kind === 'star' || s.kind === 'embed')
  if (other) {
    throw new AppError('invalid_select', `aggregates group by the other selected columns, so ${other.kind === 'star' ? '"*"' : `the embed "${other.output}"`} cannot be selected beside them`, {
      hint: 'name the columns to group by, e.g. select=status,total.sum()',
    })
  }
}

/** aggregated rows are groups: they can be ordered by the group columns only (else the database refuses it, in its own words) */
function checkGroupedOrder(select: PlannedSelect[], order: PlannedOrder[]): void {
  const groups = new Set(select.flatMap((s) => (s.kind === 'column' ? [s.column] : [])))
  const loose = order.find((o) => !groups.has(o.column))
  if (loose) {
    throw new AppError('invalid_order', `cannot order by "${loose.column.name}": aggregated rows are groups, ordered by their group columns only`, {
      hint: groups.size ? `order by one of: ${[...groups].map((c) => c.name).join(', ')}` : 'add the column to select to group by it',
    })
  }
}

function planEmbed(ctx: PlanContext, table: TableInfo, item: EmbedItem): PlannedEmbed {
  const relationship = resolveRelationship(ctx, table, item)
  // a many-to-many embed is a list too: its rows are the targets joined through the junction
  const toMany = relationship.cardinality !== 'many-to-one'
  if (!toMany && (item.order.length || item.limit !== undefined || item.offset !== undefined)) {
    throw new AppError('invalid_request', `"${item.name}" embeds one row; order, limit and offset apply only to embedded lists`)
  }
  if (toMany && (item.order.length || item.limit !== undefined || item.offset) && !ctx.caps.embedOrderLimit) {
    throw new AppError('unsupported_feature', `ordering or limiting embedded lists is not supported on ${displayName(ctx.caps)} sources`)
  }
  // aggregates in an embed run per parent row; beside other columns they group by them (PostgREST)
  const grouped = item.select.some((s) => s.kind === 'aggregate') && item.select.some((s) => s.kind === 'column')
  if (grouped && !ctx.caps.embedAggregateGroups) {
    throw new AppError('unsupported_feature', `aggregates beside other columns inside the embed "${item.alias ?? item.name}" (one entry per group) are not supported on ${displayName(ctx.caps)} sources`, {
      hint: `aggregate without group columns, e.g. ${item.name}(count()), or group on the top-level resource`,
    })
  }
  const child = planReadOn(ctx, relationship.target, {
    select: item.select,
    where: item.where,
    order: item.order,
    limit: item.limit,
    offset: item.offset,
  })
  const planned: PlannedEmbed = { kind: 'embed', output: item.alias ?? item.name, relationship, inner: item.inner, child, empty: item.empty ?? false }
  if (item.nullFilter) planned.nullFilter = item.nullFilter
  return planned
}

export function planFilters(ctx: PlanContext, table: TableInfo, filters: Filter[]): PlannedFilter[] {
  return filters.map((f) => planFilter(ctx, table, f))
}

function planFilter(ctx: PlanContext, table: TableInfo, filter: Filter): PlannedFilter {
  if (filter.embedPath?.length) {
    throw new AppError('invalid_filter', `the filter on "${filter.embedPath.join('.')}" names an embedded resource that is not in select`, {
      hint: `add ${filter.embedPath[0]}(...) to select`,
    })
  }
  if (filter.kind !== 'cond') return { kind: filter.kind, negated: filter.negated, items: filter.items.map((f) => planFilter(ctx, table, f)) }
  const column = resolveColumn(ctx, table, filter.field.column)
  checkJsonPath(ctx, column, filter.field)
  if (!ctx.caps.operators.has(filter.op)) {
    throw new AppError('unsupported_feature', `operator "${filter.op}" is not supported on ${displayName(ctx.caps)} sources`, {
      hint: `supported here: ${[...ctx.caps.operators].join(', ')}`,
      data: { operator: filter.op, dialect: ctx.caps.name },
    })
  }
  if (!ctx.caps.arrays && ['cs', 'cd', 'ov'].includes(filter.op) && column.category !== 'json') {
    throw new AppError('unsupported_feature', `"${filter.op}" needs a JSON column on ${displayName(ctx.caps)} sources; "${column.name}" is ${column.type}`)
  }
  return { kind: 'cond', column, json: filter.field.json, op: filter.op, value: filter.value, negated: filter.negated, quantifier: filter.quantifier }
}

function planOrder(ctx: PlanContext, table: TableInfo, terms: OrderTerm[], select: PlannedSelect[]): PlannedOrder[] {
  return terms.map((term) => {
    if (!term.relation) {
      const column = resolveColumn(ctx, table, term.field.column)
      if (term.field.json.length && !ctx.caps.jsonPaths) throw new AppError('unsupported_feature', `ordering by JSON paths is not supported on ${displayName(ctx.caps)} sources`)
      if (term.field.json.length && column.category !== 'json') throw new AppError('invalid_order', `"${column.name}" is not a JSON column`)
      return { column, json: term.field.json, direction: term.direction, nulls: term.nulls }
    }
    const embed = select.find((s): s is PlannedEmbed => s.kind === 'embed' && (s.output === term.relation || s.relationship.target.name === term.relation))
    if (!embed) throw new AppError('invalid_order', `order by "${term.relation}(…)" needs "${term.relation}" in select`)
    if (embed.relationship.cardinality !== 'many-to-one') throw new AppError('invalid_order', `"${term.relation}" embeds a list; only one-row embeds can be ordered by`)
    if (!ctx.caps.embedOrder) throw new AppError('unsupported_feature', `ordering by embedded columns is not supported on ${displayName(ctx.caps)} sources`)
    const column = resolveColumn(ctx, embed.relationship.target, term.field.column)
    return { column, json: term.field.json, direction: term.direction, nulls: term.nulls, embed }
  })
}

export function checkRange(limit: number | undefined, offset: number | undefined): void {
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) throw new AppError('invalid_request', `limit must be a non-negative integer, got ${limit}`)
  if (offset !== undefined && (!Number.isSafeInteger(offset) || offset < 0)) throw new AppError('invalid_request', `offset must be a non-negative integer, got ${offset}`)
}

function planGroup(ctx: PlanContext, table: TableInfo, group: NonNullable<ReadQuery['group']>): PlannedGroup {
  const column = resolveColumn(ctx, table, group.column)
  if (group.granularity && column.category !== 'time') {
    throw new AppError('invalid_request', `time_granularity needs a date or timestamp group_by column; "${column.name}" is ${column.type}`)
  }
  const aggregate = group.aggregateColumn ? resolveColumn(ctx, table, group.aggregateColumn) : undefined
  if (aggregate && aggregate.category !== 'number') {
    throw new AppError('invalid_request', `aggregation_column must be numeric; "${aggregate.name}" is ${aggregate.type}`)
  }
  if (group.cumulative && !aggregate) throw new AppError('invalid_request', 'aggregation_strategy needs aggregation_column')
  return { column, granularity: group.granularity, aggregate, cumulative: group.cumulative, dedup: group.dedup }
}
