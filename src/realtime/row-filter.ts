// A subscription's row filter: PostgREST filter syntax (`id=eq.3`, `status=in.(paid,sent)`, `or=(…)`) parsed by
// the /rest/v1 parser, then evaluated in memory against the rows of a change event. Only operators whose meaning
// on a JSON row is plain are accepted; anything else is refused when subscribing, never silently ignored.
import { AppError } from '../errors/app-error.js'
import type { Condition, Filter } from '../query/ast.js'
import { parsePostgrestQuery, queryPairs } from '../query/parse/postgrest.js'

export type RowPredicate = (row: Record<string, unknown>) => boolean

const SUPPORTED = new Set(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'is', 'like', 'ilike'])

/**
 * `text` is a query-string fragment of filters (`a=eq.1&b=gt.2`, every one must match); `columns` are the table's.
 * An empty or missing filter matches every row.
 */
export function parseRowFilter(text: string | undefined, columns: ReadonlySet<string>): RowPredicate {
  if (text === undefined || text.trim() === '') return () => true
  const query = parsePostgrestQuery(queryPairs(`?${text}`))
  const extra = query.order.length || query.limit !== undefined || query.offset !== undefined || query.select.some((s) => s.kind !== 'star')
  if (extra) throw new AppError('invalid_filter', 'a subscription filter holds filters only (no select, order, limit or offset)', { hint: 'e.g. "id=eq.3" or "status=in.(paid,sent)"' })
  for (const f of query.where) check(f, columns)
  const tests = query.where.map(compile)
  return (row) => tests.every((t) => t(row))
}

function check(f: Filter, columns: ReadonlySet<string>): void {
  if (f.embedPath?.length) throw new AppError('invalid_filter', 'subscription filters cannot refer to embedded resources')
  if (f.kind !== 'cond') {
    for (const item of f.items) check(item, columns)
    return
  }
  if (!SUPPORTED.has(f.op)) {
    throw new AppError('invalid_filter', `operator "${f.op}" cannot be used in a subscription filter`, { hint: `supported: ${[...SUPPORTED].join(', ')}` })
  }
  if (f.quantifier || f.field.json.length) throw new AppError('invalid_filter', 'subscription filters take plain columns and single values (no JSON paths, no any/all)')
  if (!columns.has(f.field.column)) {
    throw new AppError('unknown_column', `column "${f.field.column}" does not exist on this table`, { hint: `columns: ${[...columns].join(', ')}` })
  }
}

function compile(f: Filter): RowPredicate {
  if (f.kind !== 'cond') {
    const items = f.items.map(compile)
    const test: RowPredicate = f.kind === 'and' ? (row) => items.every((t) => t(row)) : (row) => items.some((t) => t(row))
    return f.negated ? (row) => !test(row) : test
  }
  const test = condition(f)
  return f.negated ? (row) => !test(row) : test
}

/** one condition; a NULL compares as SQL's does (nothing but `is.null` matches it) */
function condition(c: Condition): RowPredicate {
  const column = c.field.column
  const v = c.value
  if (v.kind === 'is') {
    return (row) => {
      const value = row[column]
      if (v.value === 'null' || v.value === 'unknown') return value === null || value === undefined
      return value === (v.value === 'true') || value === (v.value === 'true' ? 1 : 0)
    }
  }
  if (v.kind === 'list') {
    const wanted = v.values.map(String)
    return (row) => row[column] != null && wanted.some((w) => compare(row[column], w) === 0)
  }
  const text = String(v.kind === 'scalar' ? v.value : '')
  switch (c.op) {
    case 'like':
    case 'ilike': {
      const pattern = likePattern(text, c.op === 'ilike')
      return (row) => row[column] != null && pattern.test(String(row[column]))
    }
    case 'eq': return ordered(column, text, (n) => n === 0)
    case 'neq': return ordered(column, text, (n) => n !== 0)
    case 'gt': return ordered(column, text, (n) => n > 0)
    case 'gte': return ordered(column, text, (n) => n >= 0)
    case 'lt': return ordered(column, text, (n) => n < 0)
    default: return ordered(column, text, (n) => n <= 0)
  }
}

function ordered(column: string, text: string, accept: (n: number) => boolean): RowPredicate {
  return (row) => {
    const value = row[column]
    if (value === null || value === undefined) return false
    const n = compare(value, text)
    return !Number.isNaN(n) && accept(n)
  }
}

/**
 * The row's value against the filter's text: numerically when both are numbers (a bigint or numeric may arrive
 * as a JSON string), as booleans for booleans, else as text (ISO dates and times order correctly as text).
 * NaN when they cannot be compared.
 */
function compare(value: unknown, text: string): number {
  if (typeof value === 'boolean') {
    const b = text.toLowerCase()
    if (b !== 'true' && b !== 'false') return Number.NaN
    return Number(value) - Number(b === 'true')
  }
  const asNumber = typeof value === 'number' || (typeof value === 'string' && NUMERIC.test(value))
  if (asNumber && NUMERIC.test(text.trim())) return Math.sign(Number(value) - Number(text))
  const s = typeof value === 'object' ? JSON.stringify(value) : String(value)
  return s === text ? 0 : s < text ? -1 : 1
}

const NUMERIC = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/

/** PostgREST's `*` (and SQL's `%`) is any run of characters, `_` any one */
function likePattern(text: string, caseless: boolean): RegExp {
  let source = ''
  for (const ch of text) {
    if (ch === '*' || ch === '%') source += '.*'
    else if (ch === '_') source += '.'
    else source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, caseless ? 'is' : 's')
}
