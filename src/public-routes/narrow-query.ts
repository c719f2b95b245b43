// A public call's query string → the published read, narrowed: the caller may pick a subset of the published
// columns, AND filters on them, order by them and page within the published limit; nothing else it sends
// reaches the query. Pure: no I/O, no Fastify.
//   narrowRead(route, [['select', 'id'], ['tier', 'eq.gold'], ['limit', '500']])
//     → { relation: route's table, select: [id], where: [...route's conditions, tier = gold], limit: route.limit }
import { AppError } from '../errors/app-error.js'
import type { Filter, OrderTerm, ReadQuery, SelectItem } from '../query/ast.js'
import { deepFreeze } from '../query/freeze.js'
import { parseConditions } from '../query/parse/athena.js'
import { parsePostgrestQuery, type QueryPairs } from '../query/parse/postgrest.js'
import type { FetchRoute } from './public-route-store.js'

/** what a call may send besides filters on published columns */
const READ_KEYS = new Set(['select', 'order', 'limit', 'offset'])
const LOGIC_KEYS = new Set(['and', 'or', 'not.and', 'not.or'])

export type PublicCall = 'fetch' | 'count'

const refuse = (message: string, hint?: string) => new AppError('public_parameter_not_allowed', message, hint ? { hint } : {})

/** the published read: its columns and its conditions, at most `limit` rows */
export function publishedRead(route: Pick<FetchRoute, 'table_name' | 'columns' | 'conditions' | 'limit'>): ReadQuery {
  return {
    kind: 'read',
    relation: { name: route.table_name },
    select: route.columns.map((column): SelectItem => ({ kind: 'column', field: { column, json: [] } })),
    where: parseConditions(route.conditions),
    order: [],
    limit: route.limit,
  }
}

export function narrowRead(route: FetchRoute, call: PublicCall, pairs: QueryPairs): ReadQuery {
  const published = new Set(route.columns)
  const hint = `this route publishes the columns ${route.columns.join(', ')}`
  for (const [key] of pairs) {
    if (published.has(key) || LOGIC_KEYS.has(key)) continue
    if (READ_KEYS.has(key) && call === 'fetch') continue
    throw refuse(`"${key}" is not a parameter of this public route`, call === 'count'
      ? `a count takes filters on the published columns only; ${hint}`
      : `send select, order, limit, offset, and, or, or filters on the published columns; ${hint}`)
  }
  const q = parsePostgrestQuery(pairs)
  const base = publishedRead(route)
  const columnOf = (what: string, column: string) => {
    if (!published.has(column)) throw refuse(`${what} "${column}" is not published by this route`, hint)
  }
  const select = q.select.length === 1 && q.select[0]!.kind === 'star' ? base.select : q.select.map((item) => {
    if (item.kind !== 'column' || item.field.json.length || item.cast) throw refuse('select takes published column names only (no *, embeds, JSON paths or casts)', hint)
    columnOf('column', item.field.column)
    return item
  })
  const checkFilter = (f: Filter): void => {
    if (f.embedPath?.length) throw refuse('filters on embedded resources are not allowed on a public route', hint)
    if (f.kind !== 'cond') return f.items.forEach(checkFilter)
    if (f.field.json.length) throw refuse('filters take published column names only (no JSON paths)', hint)
    columnOf('filter column', f.field.column)
  }
  q.where.forEach(checkFilter)
  q.order.forEach((o: OrderTerm) => {
    if (o.relation || o.field.json.length) throw refuse('order takes published column names only', hint)
    columnOf('order column', o.field.column)
  })
  // the published conditions come first and stay: the caller's filters are ANDed to them, so they only narrow
  return deepFreeze<ReadQuery>({
    ...base,
    select,
    where: [...base.where, ...q.where],
    order: q.order,
    // a larger limit is cut to the published one, as PostgREST's max-rows cuts a page
    limit: Math.min(q.limit ?? route.limit, route.limit),
    offset: q.offset,
  })
}
