// Database function calls: POST /gateway/rpc (Athena body) and GET|POST /rpc/{function_name} (PostgREST style).
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { callFunction } from '../../data/call-function.js'
import { AppError } from '../../errors/app-error.js'
import type { RpcQuery } from '../../query/ast.js'
import { parseColumns, parseConditions, type AthenaFetchBody } from '../../query/parse/athena.js'
import { parseField } from '../../query/parse/grammar.js'
import { parsePostgrestQuery, queryPairs } from '../../query/parse/postgrest.js'
import type { Services } from '../../services.js'
import type { Source } from '../../sources/source.js'
import { stripNullsHeader } from './headers.js'
import { sendEnvelope } from './respond.js'
import { GatewayHeaders, RpcBody } from './schemas.js'

interface RpcBodyT extends Pick<AthenaFetchBody, 'columns' | 'conditions' | 'limit' | 'offset' | 'sortBy' | 'sort_by' | 'strip_nulls'> {
  function_name?: string
  function?: string
  schema?: string
  args?: Record<string, unknown>
  params?: Record<string, unknown>
}

/** argument names of every overload, so GET /rpc can tell arguments from filters */
async function argumentNames(source: Source, name: string): Promise<Set<string>> {
  const fns = (await source.schema()).findFunctions(name)
  return new Set(fns.flatMap((f) => f.args.map((a) => a.name)))
}

async function rpcFromQueryString(req: FastifyRequest, name: string, bodyArgs: Record<string, unknown> | undefined, readOnly: boolean): Promise<RpcQuery> {
  const pairs = queryPairs(req.url)
  const argNames = bodyArgs ? new Set<string>() : await argumentNames(req.source, name)
  const args = bodyArgs ?? Object.fromEntries(pairs.filter(([k]) => argNames.has(k)))
  const q = parsePostgrestQuery(pairs, argNames)
  return {
    kind: 'rpc', fn: { name }, args, select: q.select, where: q.where, order: q.order, limit: q.limit, offset: q.offset,
    stripNulls: stripNullsHeader(req), readOnly,
  }
}

function rpcFromBody(req: FastifyRequest, body: RpcBodyT): RpcQuery {
  const name = body.function_name ?? body.function
  if (!name) throw new AppError('invalid_request', 'function_name is required')
  const sort = body.sortBy ?? body.sort_by
  return {
    kind: 'rpc',
    fn: { name, schema: body.schema },
    args: body.args ?? body.params ?? {},
    select: parseColumns(body.columns),
    where: parseConditions(body.conditions),
    order: sort?.field ? [{ field: parseField(sort.field, 'invalid_order'), direction: String(sort.direction ?? 'asc').startsWith('desc') ? 'desc' : 'asc' }] : [],
    limit: body.limit,
    offset: body.offset,
    stripNulls: body.strip_nulls ?? stripNullsHeader(req),
    readOnly: false,
  }
}

const FnParams = Type.Object({ function_name: Type.String({ minLength: 1, pattern: '^[A-Za-z_][A-Za-z0-9_$]*$' }) })

export function rpcRoutes(app: FastifyInstance, services: Services): void {
  const reply = async (req: FastifyRequest, ast: RpcQuery) => {
    req.logContext.table = ast.fn.name
    return callFunction(services, req.source, req.principal, ast)
  }

  app.post('/gateway/rpc', {
    config: { operation: 'gateway.rpc', access: 'client' },
    schema: { summary: 'Call a database function with named args; filters/order/limit apply to set-returning results', tags: ['gateway'], headers: GatewayHeaders, body: RpcBody },
  }, async (req, res) => {
    const ast = rpcFromBody(req, req.body as RpcBodyT)
    const out = await reply(req, ast)
    return sendEnvelope(res, `Called ${ast.fn.name}`, out.body)
  })

  app.get('/rpc/:function_name', {
    config: { operation: 'gateway.rpc', access: 'client' },
    schema: { summary: 'Call a database function read-only; query parameters are its arguments, other parameters filter its rows', tags: ['gateway'], headers: GatewayHeaders, params: FnParams },
  }, async (req, res) => {
    const { function_name } = req.params as { function_name: string }
    const out = await reply(req, await rpcFromQueryString(req, function_name, undefined, true))
    return sendEnvelope(res, `Called ${function_name}`, out.body)
  })

  app.post('/rpc/:function_name', {
    config: { operation: 'gateway.rpc', access: 'client' },
    schema: {
      summary: 'Call a database function; the JSON body holds its named arguments',
      tags: ['gateway'],
      headers: GatewayHeaders,
      params: FnParams,
      body: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    },
  }, async (req, res) => {
    const { function_name } = req.params as { function_name: string }
    const args = (req.body as Record<string, unknown> | undefined) ?? {}
    const out = await reply(req, await rpcFromQueryString(req, function_name, args, false))
    return sendEnvelope(res, `Called ${function_name}`, out.body)
  })
}
