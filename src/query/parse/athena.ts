// Athena gateway bodies (fetch/update/insert/delete, GET /data) → the shared AST. Syntax and shape only.
import { AppError } from '../../errors/app-error.js'
import type { DeleteQuery, Filter, GroupSpec, InsertQuery, OrderTerm, ReadQuery, RelationRef, RowsJson, SelectItem, UpdateQuery } from '../ast.js'
import { parseField, parseFilter, parseLogic, parseSelect, splitTop, stripSpaces } from './grammar.js'
import { MAX_CONDITIONS, MAX_IN_LIST, countConditions, inListTooLong, tooManyConditions } from '../input-limits.js'
import { deepFreeze } from '../freeze.js'
import { memberText } from './json-member.js'

export interface AthenaCondition {
  eq_column?: string
  eq_value?: unknown
  column?: string
  operator?: string
  value?: unknown
}

export interface AthenaSort {
  field?: string
  direction?: string
}

export interface AthenaFetchBody {
  table_name?: string
  view_name?: string
  columns?: string | string[]
  conditions?: AthenaCondition[]
  limit?: number
  offset?: number
  current_page?: number
  page_size?: number
  strip_nulls?: boolean
  group_by?: string
  time_granularity?: 'day' | 'hour' | 'minute'
  aggregation_column?: string
  aggregation_strategy?: 'cumulative_sum'
  aggregation_dedup?: boolean
  sortBy?: AthenaSort
  sort_by?: AthenaSort
  count?: string
  update_body?: Record<string, unknown>
  /** on an update: no rows back (the SDK's `head`), as `Prefer: return=minimal` */
  head?: boolean
}

export interface AthenaInsertBody {
  table_name?: string
  view_name?: string
  insert_body?: Record<string, unknown> | Record<string, unknown>[]
  update_body?: Record<string, unknown>
  on_conflict?: string | string[]
  columns?: string | string[]
  default_to_null?: boolean
  strip_nulls?: boolean
  /** no rows back (the SDK's `head`), as `Prefer: return=minimal` */
  head?: boolean
}

export interface AthenaDeleteBody {
  table_name?: string
  view_name?: string
  resource_id?: string | number
  conditions?: AthenaCondition[]
  columns?: string | string[]
  /** no rows back (the SDK's `head`), as `Prefer: return=minimal` */
  head?: boolean
}

// Athena operator names, and the PostgREST names they stand for
const OPERATOR_ALIASES: Record<string, string> = {
  eq: 'eq', neq: 'neq', gt: 'gt', gte: 'gte', lt: 'lt', lte: 'lte', like: 'like', ilike: 'ilike', is: 'is', in: 'in',
  contains: 'cs', containedBy: 'cd', containedby: 'cd', cs: 'cs', cd: 'cd', ov: 'ov', overlaps: 'ov', match: 'match', imatch: 'imatch',
  isdistinct: 'isdistinct', fts: 'fts', plfts: 'plfts', phfts: 'phfts', wfts: 'wfts',
}

export function relationOf(body: { table_name?: string; view_name?: string }): RelationRef {
  const name = body.table_name ?? body.view_name
  if (typeof name !== 'string' || name.trim() === '') throw new AppError('invalid_request', 'table_name (or view_name) is required')
  const dot = name.indexOf('.')
  // "schema.table" is accepted; the planner checks the schema is exposed
  return dot > 0 ? { schema: name.slice(0, dot), name: name.slice(dot + 1) } : { name }
}

export function parseColumns(columns: string | string[] | undefined): SelectItem[] {
  if (columns === undefined || columns === null) return [{ kind: 'star' }]
  if (Array.isArray(columns)) {
    if (columns.some((c) => typeof c !== 'string')) throw new AppError('invalid_select', 'columns must be a string or an array of strings')
    return columns.length ? withoutAggregates(parseSelect(columns.join(','))) : [{ kind: 'star' }]
  }
  if (typeof columns !== 'string') throw new AppError('invalid_select', 'columns must be a string or an array of strings')
  return withoutAggregates(parseSelect(columns))
}

/** Athena bodies group with group_by / aggregation_column; PostgREST's count()/sum() items are /rest/v1's */
function withoutAggregates(items: SelectItem[]): SelectItem[] {
  const found = (list: SelectItem[]): boolean => list.some((s) => s.kind === 'aggregate' || (s.kind === 'embed' && found(s.select)))
  if (found(items)) {
    throw new AppError('aggregates_not_supported', 'aggregate functions are not supported in columns', { hint: 'use group_by with aggregation_column, or /rest/v1 with select=…,count()' })
  }
  return items
}

export function parseConditions(conditions: AthenaCondition[] | undefined): Filter[] {
  if (conditions === undefined || conditions === null) return []
  if (!Array.isArray(conditions)) throw new AppError('invalid_filter', 'conditions must be an array')
  if (conditions.length > MAX_CONDITIONS) throw tooManyConditions(conditions.length)
  const filters = conditions.map((c, i) => parseCondition(c, i))
  // or/and/not conditions hold trees of their own
  if (filters.some((f) => f.kind !== 'cond')) {
    const count = countConditions(filters)
    if (count > MAX_CONDITIONS) throw tooManyConditions(count)
  }
  return filters
}

function parseCondition(c: AthenaCondition, index: number): Filter {
  if (c === null || typeof c !== 'object') throw new AppError('invalid_filter', `conditions[${index}] must be an object`)
  if (c.eq_column !== undefined) {
    if (typeof c.eq_column !== 'string') throw new AppError('invalid_filter', `conditions[${index}].eq_column must be a string`)
    return { kind: 'cond', field: parseField(c.eq_column), op: 'eq', negated: false, value: { kind: 'scalar', value: c.eq_value ?? null } }
  }
  const operator = c.operator
  if (typeof operator !== 'string') throw new AppError('invalid_filter', `conditions[${index}] needs eq_column/eq_value or operator/column/value`)
  if (operator === 'or' || operator === 'and') {
    if (typeof c.value !== 'string') throw new AppError('invalid_filter', `conditions[${index}]: "${operator}" takes a string such as "(a.eq.1,b.eq.2)"`)
    const text = stripSpaces(c.value)
    return parseLogic(operator, text.startsWith('(') ? text : `(${text})`)
  }
  if (operator === 'not') {
    if (typeof c.value !== 'string') throw new AppError('invalid_filter', `conditions[${index}]: "not" takes a string such as "status.eq.paid"`)
    const inner = parseLogic('and', `(${c.value})`)
    if (inner.items.length === 1) {
      const only = inner.items[0]
      return { ...only, negated: !only.negated }
    }
    return { ...inner, negated: true }
  }
  const op = OPERATOR_ALIASES[operator]
  if (!op) throw new AppError('invalid_filter', `unknown operator "${operator}" in conditions[${index}]`, { hint: `operators: ${Object.keys(OPERATOR_ALIASES).join(', ')}, or, and, not` })
  if (typeof c.column !== 'string') throw new AppError('invalid_filter', `conditions[${index}].column must be a string`)
  return conditionFromValue(c.column, op, c.value)
}

/** builds a condition from a typed JSON value; strings in PostgREST syntax (`(a,b)`, `{a,b}`) are accepted too */
function conditionFromValue(column: string, op: string, value: unknown): Filter {
  const field = parseField(column)
  if (op === 'in') {
    const values = Array.isArray(value) ? value : typeof value === 'string' ? splitTop(value.replace(/^\((.*)\)$/s, '$1')).map((v) => v.replace(/^"(.*)"$/s, '$1')) : [value]
    if (values.length > MAX_IN_LIST) throw inListTooLong(column, values.length)
    return { kind: 'cond', field, op: 'in', negated: false, value: { kind: 'list', values } }
  }
  if (op === 'is') {
    const v = value === null ? 'null' : String(value).toLowerCase()
    if (!['null', 'true', 'false', 'unknown'].includes(v)) throw new AppError('invalid_filter', `"is" takes null, true, false or unknown, got ${JSON.stringify(value)}`)
    return { kind: 'cond', field, op: 'is', negated: false, value: { kind: 'is', value: v as 'null' } }
  }
  if (typeof value === 'string' && ['fts', 'plfts', 'phfts', 'wfts'].includes(op)) return parseFilter(column, `${op}.${value}`)
  return { kind: 'cond', field, op: op as 'eq', negated: false, value: { kind: 'scalar', value: value ?? null } }
}

function parseSort(body: AthenaFetchBody): OrderTerm[] {
  const sort = body.sortBy ?? body.sort_by
  if (!sort || sort.field === undefined) return []
  if (typeof sort.field !== 'string' || !sort.field) throw new AppError('invalid_order', 'sort field must be a column name')
  const dir = (sort.direction ?? 'asc').toLowerCase()
  if (!['asc', 'desc', 'ascending', 'descending'].includes(dir)) throw new AppError('invalid_order', `sort direction must be asc, desc, ascending or descending, got "${sort.direction}"`)
  return [{ field: parseField(sort.field, 'invalid_order'), direction: dir.startsWith('desc') ? 'desc' : 'asc' }]
}

function parseGroup(body: AthenaFetchBody): GroupSpec | undefined {
  if (body.group_by === undefined) {
    if (body.aggregation_column || body.aggregation_strategy || body.time_granularity) {
      throw new AppError('invalid_request', 'time_granularity, aggregation_column and aggregation_strategy need group_by')
    }
    return undefined
  }
  return {
    column: parseField(body.group_by, 'invalid_request').column,
    granularity: body.time_granularity,
    aggregateColumn: body.aggregation_column,
    cumulative: body.aggregation_strategy === 'cumulative_sum',
    dedup: body.aggregation_dedup === true,
  }
}

/** current_page/page_size win over limit/offset; pages count from 1 */
export function pageWindow(body: AthenaFetchBody): { limit?: number; offset?: number; pageSize?: number } {
  if (body.page_size !== undefined) {
    const page = body.current_page ?? 1
    if (!Number.isSafeInteger(body.page_size) || body.page_size < 1) throw new AppError('invalid_request', 'page_size must be a positive integer')
    if (!Number.isSafeInteger(page) || page < 1) throw new AppError('invalid_request', 'current_page must be an integer from 1')
    return { limit: body.page_size, offset: (page - 1) * body.page_size, pageSize: body.page_size }
  }
  return { limit: body.limit, offset: body.offset }
}

/** the read of /gateway/fetch; paging by page_size counts every row (for total_pages). The result is frozen. */
export function parseAthenaFetch(body: AthenaFetchBody, stripNullsHeader?: boolean): ReadQuery {
  const { limit, offset, pageSize } = pageWindow(body)
  const ast: ReadQuery = {
    kind: 'read',
    relation: relationOf(body),
    select: parseColumns(body.columns),
    where: parseConditions(body.conditions),
    order: parseSort(body),
    limit,
    offset,
    stripNulls: body.strip_nulls ?? stripNullsHeader ?? false,
    group: parseGroup(body),
  }
  if (pageSize !== undefined) ast.count = 'exact'
  return deepFreeze(ast)
}

/**
 * What a write sends back: the `columns` asked (every column when none), or nothing with `head: true` in the
 * body or `Prefer: return=minimal` — the statement then runs without RETURNING, and `data` is `[]`.
 */
function writeReturning(body: { columns?: string | string[]; head?: boolean }, minimal?: boolean): SelectItem[] | null {
  if (body.head !== undefined && typeof body.head !== 'boolean') throw new AppError('invalid_request', 'head must be true or false')
  return minimal || body.head === true ? null : parseColumns(body.columns)
}

export function parseAthenaUpdate(body: AthenaFetchBody, stripNullsHeader?: boolean, minimal?: boolean): UpdateQuery {
  return deepFreeze<UpdateQuery>({
    kind: 'update',
    relation: relationOf(body),
    set: body.update_body as Record<string, unknown>,
    where: parseConditions(body.conditions),
    returning: writeReturning(body, minimal),
    stripNulls: body.strip_nulls ?? stripNullsHeader ?? false,
  })
}

/**
 * @param bodyText the JSON text `body` was parsed from, when the caller has it: an array `insert_body` is then
 * read by PostgreSQL from that text (InsertQuery.rowsJson) rather than serialised again
 */
export function parseAthenaInsert(body: AthenaInsertBody, stripNullsHeader?: boolean, bodyText?: string | null, minimal?: boolean): InsertQuery {
  const raw = body.insert_body
  if (raw === undefined || raw === null || typeof raw !== 'object') throw new AppError('invalid_request', 'insert_body must be an object or an array of objects')
  const rows = Array.isArray(raw) ? raw : [raw]
  // frozen one level only, so deepFreeze leaves the row objects (the client's values) alone; see parsePostgrestInsert
  Object.freeze(rows)
  const target = body.on_conflict === undefined ? undefined : Array.isArray(body.on_conflict) ? body.on_conflict : body.on_conflict.split(',').map((s) => s.trim()).filter(Boolean)
  const upsert = body.update_body !== undefined || target !== undefined
  return deepFreeze<InsertQuery>({
    kind: 'insert',
    relation: relationOf(body),
    rows,
    rowsJson: bodyText && Array.isArray(raw) ? insertBodyJson(bodyText) : undefined,
    missing: body.default_to_null === false ? 'default' : 'null',
    onConflict: upsert ? { columns: target, action: 'merge', set: body.update_body } : undefined,
    returning: writeReturning(body, minimal),
    stripNulls: body.strip_nulls ?? stripNullsHeader ?? false,
  })
}

/** the insert_body array's own text when it can be cut out of the body, else the body and the member to read */
function insertBodyJson(bodyText: string): RowsJson {
  const text = memberText(bodyText, 'insert_body')
  return text === undefined ? { text: bodyText, member: 'insert_body' } : { text }
}

/** `resource_id` (and conditions on a `resource_id` column) mean the table's primary key: the planner resolves them */
export function parseAthenaDelete(body: AthenaDeleteBody | undefined, minimal?: boolean): DeleteQuery {
  if (!body || typeof body !== 'object') throw new AppError('invalid_request', 'the body must be a JSON object with table_name and resource_id or conditions')
  const ast: DeleteQuery = {
    kind: 'delete',
    relation: relationOf(body),
    where: parseConditions(body.conditions),
    returning: writeReturning(body, minimal),
  }
  if (body.resource_id !== undefined) ast.resourceId = body.resource_id
  return deepFreeze(ast)
}
