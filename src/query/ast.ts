// The one typed AST every surface parses into (Athena JSON bodies, PostgREST query strings, RPC calls).
// Parsers only check syntax; names are resolved against the schema cache later, by the planner.

/** a column, optionally followed by a JSON path: `attrs->color` or `attrs->>color` */
export interface FieldRef {
  column: string
  json: JsonStep[]
}

export interface JsonStep {
  key: string
  /** `->>` (text) rather than `->` (json) */
  asText: boolean
}

export interface ColumnItem {
  kind: 'column'
  field: FieldRef
  alias?: string
  /** `::type` cast, a type name checked against an allow-list at plan time */
  cast?: string
}

export interface StarItem {
  kind: 'star'
}

export interface EmbedItem {
  kind: 'embed'
  /** table name, FK column or FK constraint name as written */
  name: string
  alias?: string
  /** `!hint`: FK column or constraint name that picks among several relationships */
  hint?: string
  /** `!inner`: drop parent rows that have no match */
  inner: boolean
  select: SelectItem[]
  where: Filter[]
  order: OrderTerm[]
  limit?: number
  offset?: number
  /** `authors()`: no columns; the embed filters the parent rows but is not part of them */
  empty?: boolean
  /** `authors=is.null` keeps the parent rows with no match (anti-join), `authors=not.is.null` those with one */
  nullFilter?: 'null' | 'not-null'
}

export const AGGREGATES = ['count', 'sum', 'avg', 'min', 'max'] as const
export type AggregateFn = (typeof AGGREGATES)[number]

/**
 * PostgREST aggregate: `count()`, `total.sum()`, `n:total::int.avg()::text`. The other column items of the
 * same select list become the GROUP BY.
 */
export interface AggregateItem {
  kind: 'aggregate'
  fn: AggregateFn
  /** the aggregated column; absent for `count()` (every row) */
  field?: FieldRef
  alias?: string
  /** cast of the result: `total.sum()::text` */
  cast?: string
  /** cast of the column before aggregating: `total::int.sum()` */
  inputCast?: string
}

export type SelectItem = ColumnItem | StarItem | EmbedItem | AggregateItem

export const OPERATORS = [
  'eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'in', 'is', 'isdistinct',
  'cs', 'cd', 'ov', 'sl', 'sr', 'nxl', 'nxr', 'adj', 'fts', 'plfts', 'phfts', 'wfts',
] as const
export type Operator = (typeof OPERATORS)[number]

export type FilterValue =
  /** one value as sent: query-string text, or a JSON scalar from an Athena body */
  | { kind: 'scalar'; value: unknown }
  /** `in.(a,b)` or an Athena array */
  | { kind: 'list'; values: unknown[] }
  /** `is.null|true|false|unknown` */
  | { kind: 'is'; value: 'null' | 'true' | 'false' | 'unknown' }
  /** full-text search with an optional text search configuration */
  | { kind: 'fts'; query: string; config?: string }

export interface Condition {
  kind: 'cond'
  field: FieldRef
  op: Operator
  value: FilterValue
  negated: boolean
  /** `eq(any).{a,b}` / `like(all).{…}` */
  quantifier?: 'any' | 'all'
  /** dotted embed path for filters written `embed.column=…` (the planner moves them into the embed) */
  embedPath?: string[]
}

export interface LogicalFilter {
  kind: 'and' | 'or'
  items: Filter[]
  negated: boolean
  embedPath?: string[]
}

export type Filter = Condition | LogicalFilter

export interface OrderTerm {
  field: FieldRef
  direction: 'asc' | 'desc'
  nulls?: 'first' | 'last'
  /** order by a column of a to-one embed: `order=customers(name).desc` */
  relation?: string
}

export type CountMode = 'exact' | 'planned' | 'estimated'

/** Athena grouping: one row per bucket of `column` (optionally truncated to a time granularity) */
export interface GroupSpec {
  column: string
  granularity?: 'day' | 'hour' | 'minute'
  aggregateColumn?: string
  cumulative: boolean
  dedup: boolean
}

export interface RelationRef {
  schema?: string
  name: string
  /** the schema came from a PostgREST profile header (Accept-Profile / Content-Profile), not from the name */
  fromProfile?: boolean
}

export interface ReadQuery {
  kind: 'read'
  relation: RelationRef
  select: SelectItem[]
  where: Filter[]
  order: OrderTerm[]
  limit?: number
  offset?: number
  count?: CountMode
  /** drop null-valued keys from every returned object */
  stripNulls?: boolean
  group?: GroupSpec
}

/** JSON text holding an insert's rows (InsertQuery.rowsJson) */
export interface RowsJson {
  text: string
  member?: string
}

export interface InsertQuery {
  kind: 'insert'
  relation: RelationRef
  rows: Record<string, unknown>[]
  /**
   * the rows' JSON text exactly as the client sent it, when the request body was JSON: a dialect that reads
   * JSON (PostgreSQL) passes it as the statement's parameter instead of serialising `rows` again, which is most
   * of a bulk insert's cost in Atrium's process. `text` is the array itself, or (with `member`) an object whose
   * member of that name is the array (the gateway's `insert_body`). The planner still checks `rows`.
   */
  rowsJson?: RowsJson
  /** `columns=` / explicit list; otherwise the union of the rows' keys */
  columns?: string[]
  /** keys missing from a row: NULL (PostgREST default) or the column default */
  missing: 'null' | 'default'
  onConflict?: {
    /** conflict target; the primary key when absent */
    columns?: string[]
    action: 'merge' | 'ignore'
    /** explicit values to set on conflict (Athena `update_body`); otherwise the inserted values */
    set?: Record<string, unknown>
  }
  /** what to send back; null = nothing */
  returning: SelectItem[] | null
  /**
   * report the first written row's primary key (PostgREST's Location for return=headers-only): the planner
   * returns the key columns when nothing else is asked for, and the write result carries the key
   */
  location?: boolean
  stripNulls?: boolean
}

export interface UpdateQuery {
  kind: 'update'
  relation: RelationRef
  set: Record<string, unknown>
  where: Filter[]
  returning: SelectItem[] | null
  stripNulls?: boolean
}

export interface DeleteQuery {
  kind: 'delete'
  relation: RelationRef
  where: Filter[]
  returning: SelectItem[] | null
  stripNulls?: boolean
  /**
   * Athena `resource_id`: the row whose primary key (or `id` column) has this value. A condition on a column
   * named `resource_id` means the key too, unless the table has such a column. Resolved by the planner
   * (`resolveResourceId`) into an ordinary condition.
   */
  resourceId?: unknown
}

export interface RpcQuery {
  kind: 'rpc'
  fn: RelationRef
  args: Record<string, unknown>
  /** select / filters / order / range applied to a set-returning function's rows */
  select: SelectItem[]
  where: Filter[]
  order: OrderTerm[]
  limit?: number
  offset?: number
  /**
   * the server's cap on rows (PostgREST max-rows): applied to set-returning results only; unlike `limit`,
   * which a caller sets and which a scalar result refuses, it never touches a single value
   */
  maxRows?: number
  count?: CountMode
  stripNulls?: boolean
  /** GET calls must not write: the function runs in a read-only transaction */
  readOnly: boolean
}

export type MutationQuery = InsertQuery | UpdateQuery | DeleteQuery
export type QueryAst = ReadQuery | MutationQuery | RpcQuery

export const field = (column: string, json: JsonStep[] = []): FieldRef => ({ column, json })
export const STAR: StarItem = Object.freeze({ kind: 'star' })
