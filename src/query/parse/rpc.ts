// Function calls → RpcQuery: the one split of query-string parameters into arguments and row filters
// (GET /rpc on both surfaces), and the Athena body form of POST /gateway/rpc. Syntax only.
import { AppError } from '../../errors/app-error.js'
import type { RpcQuery } from '../ast.js'
import { deepFreeze } from '../freeze.js'
import { parseColumns, parseConditions, type AthenaFetchBody } from './athena.js'
import { parseField } from './grammar.js'
import { parsePostgrestQuery, queryPairs, type PostgrestQuery, type QueryPairs } from './postgrest.js'

const NO_NAMES: ReadonlySet<string> = new Set()

/**
 * Query parameters that name an argument of the function are its arguments; the others filter, order and
 * page its rows. With a body, the body holds every argument and each parameter shapes the rows.
 *   splitRpcArguments([['tier','gold'],['id','gt.1']], undefined, new Set(['tier']))
 *     → { args: { tier: 'gold' }, query: { where: [id gt 1], … } }
 * `argumentNames`: the argument names of every overload of the function (the planner's `argumentNamesOf`).
 */
export function splitRpcArguments(pairs: QueryPairs, body: Record<string, unknown> | undefined, argumentNames: ReadonlySet<string>): { args: Record<string, unknown>; query: PostgrestQuery } {
  const names = body ? NO_NAMES : argumentNames
  return { args: body ?? Object.fromEntries(pairs.filter(([k]) => names.has(k))), query: parsePostgrestQuery(pairs, names) }
}

export interface RpcQueryStringCall {
  name: string
  /** the request URL; only its query string is read */
  url: string
  /** POST: the JSON body of named arguments; GET: undefined (the arguments are in the query string) */
  body: Record<string, unknown> | undefined
  argumentNames: ReadonlySet<string>
  stripNulls?: boolean
  readOnly: boolean
}

/** GET|POST /rpc/{function} on the gateway: arguments from the query string (or body), limit/offset as parameters */
export function parseRpcQueryString(call: RpcQueryStringCall): RpcQuery {
  const { args, query } = splitRpcArguments(queryPairs(call.url), call.body, call.argumentNames)
  return deepFreeze<RpcQuery>({
    kind: 'rpc', fn: { name: call.name }, args, select: query.select, where: query.where, order: query.order, limit: query.limit, offset: query.offset,
    stripNulls: call.stripNulls, readOnly: call.readOnly,
  })
}

export interface AthenaRpcBody extends Pick<AthenaFetchBody, 'columns' | 'conditions' | 'limit' | 'offset' | 'sortBy' | 'sort_by' | 'strip_nulls'> {
  function_name?: string
  function?: string
  schema?: string
  args?: Record<string, unknown>
  params?: Record<string, unknown>
}

/** POST /gateway/rpc: `{ function_name, args, columns, conditions, sort_by, limit, offset }` */
export function parseAthenaRpc(body: AthenaRpcBody, stripNullsHeader?: boolean): RpcQuery {
  const name = body.function_name ?? body.function
  if (!name) throw new AppError('invalid_request', 'function_name is required')
  const sort = body.sortBy ?? body.sort_by
  return deepFreeze<RpcQuery>({
    kind: 'rpc',
    fn: { name, schema: body.schema },
    args: body.args ?? body.params ?? {},
    select: parseColumns(body.columns),
    where: parseConditions(body.conditions),
    order: sort?.field ? [{ field: parseField(sort.field, 'invalid_order'), direction: String(sort.direction ?? 'asc').startsWith('desc') ? 'desc' : 'asc' }] : [],
    limit: body.limit,
    offset: body.offset,
    stripNulls: body.strip_nulls ?? stripNullsHeader,
    readOnly: false,
  })
}
