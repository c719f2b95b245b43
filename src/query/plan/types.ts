// The planned query: every name resolved against the schema cache, ready for a dialect compiler.
import type { ColumnInfo, DbSchema, ForeignKey, FunctionInfo, TableInfo } from '../../sources/schema.js'
import type { DialectCapabilities } from '../dialect.js'
import type { AggregateFn, CountMode, FilterValue, JsonStep, Operator, RowsJson } from '../ast.js'

export interface Relationship {
  /** many-to-one (this row points at one row), one-to-many, or many-to-many through a junction table */
  cardinality: 'many-to-one' | 'one-to-many' | 'many-to-many'
  /** the key the relationship follows; for many-to-many, the junction's key to the embedded table */
  fk: ForeignKey
  /** pairs of [column on the parent side, column on the embedded side]; empty for many-to-many */
  pairs: Array<[string, string]>
  target: TableInfo
  /** many-to-many: the junction table, joined to the parent and to the embedded table by its two keys */
  through?: Junction
}

export interface Junction {
  table: TableInfo
  /** [parent column, junction column] */
  parentPairs: Array<[string, string]>
  /** [junction column, embedded column] */
  targetPairs: Array<[string, string]>
}

export interface PlannedColumn {
  kind: 'column'
  column: ColumnInfo
  json: JsonStep[]
  cast?: string
  /** the key in the output object */
  output: string
}

export interface PlannedStar {
  kind: 'star'
  table: TableInfo
}

export interface PlannedEmbed {
  kind: 'embed'
  output: string
  relationship: Relationship
  inner: boolean
  child: PlannedRead
  /** `authors()`: used for filtering only, absent from the output */
  empty: boolean
  /** `authors=is.null` (parent rows with no match: an anti-join) or `authors=not.is.null` (rows with one) */
  nullFilter?: 'null' | 'not-null'
}

/** an aggregate over the rows of each group; the plan's column items are the groups (GROUP BY) */
export interface PlannedAggregate {
  kind: 'aggregate'
  fn: AggregateFn
  /** absent for `count()` */
  column?: ColumnInfo
  json: JsonStep[]
  inputCast?: string
  cast?: string
  output: string
}

export type PlannedSelect = PlannedColumn | PlannedStar | PlannedEmbed | PlannedAggregate

export interface PlannedCondition {
  kind: 'cond'
  column: ColumnInfo
  json: JsonStep[]
  op: Operator
  value: FilterValue
  negated: boolean
  quantifier?: 'any' | 'all'
}

export interface PlannedLogic {
  kind: 'and' | 'or'
  negated: boolean
  items: PlannedFilter[]
}

export type PlannedFilter = PlannedCondition | PlannedLogic

export interface PlannedOrder {
  column: ColumnInfo
  json: JsonStep[]
  direction: 'asc' | 'desc'
  nulls?: 'first' | 'last'
  /** ordering by a column of a to-one embed */
  embed?: PlannedEmbed
}

export interface PlannedGroup {
  column: ColumnInfo
  granularity?: 'day' | 'hour' | 'minute'
  aggregate?: ColumnInfo
  cumulative: boolean
  dedup: boolean
}

export interface PlannedRead {
  kind: 'read'
  table: TableInfo
  select: PlannedSelect[]
  where: PlannedFilter[]
  order: PlannedOrder[]
  limit?: number
  offset?: number
  count?: CountMode
  stripNulls: boolean
  group?: PlannedGroup
}

export interface PlannedInsert {
  kind: 'insert'
  table: TableInfo
  columns: ColumnInfo[]
  rows: Record<string, unknown>[]
  /** the rows as the client's JSON text (InsertQuery.rowsJson), when there is one */
  rowsJson?: RowsJson
  missing: 'null' | 'default'
  onConflict?: { columns: ColumnInfo[]; action: 'merge' | 'ignore'; set?: Array<[ColumnInfo, unknown]> }
  /** the read that shapes the returned rows, over the written rows */
  returning: PlannedRead | null
  /** the primary key columns whose values in the first written row the write reports (InsertQuery.location) */
  location?: string[]
}

export interface PlannedUpdate {
  kind: 'update'
  table: TableInfo
  set: Array<[ColumnInfo, unknown]>
  where: PlannedFilter[]
  returning: PlannedRead | null
}

export interface PlannedDelete {
  kind: 'delete'
  table: TableInfo
  where: PlannedFilter[]
  returning: PlannedRead | null
}

export interface PlannedRpc {
  kind: 'rpc'
  fn: FunctionInfo
  args: Array<[FunctionInfo['args'][number], unknown]>
  /** when the function returns rows: the read applied to them (table is a synthetic relation) */
  read: PlannedRead | null
  /** the cap on rows of a set result that has no read (SETOF scalars, MySQL procedures); in `read.limit` otherwise */
  maxRows?: number
  readOnly: boolean
}

export type PlannedMutation = PlannedInsert | PlannedUpdate | PlannedDelete
export type Plan = PlannedRead | PlannedMutation | PlannedRpc

/** what every planner step plans against: the source's schema, its dialect's capabilities, its name */
export interface PlanContext {
  schema: DbSchema
  caps: DialectCapabilities
  /** client name, for messages */
  source: string
}
