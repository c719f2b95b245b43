// Database function calls: POST /gateway/rpc (Athena body) and GET|POST /rpc/{function_name} (PostgREST style).
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { callFunction, functionArgumentNames } from '../../data/call-function.js'
import type { RpcQuery } from '../../query/ast.js'
import { parseAthenaRpc, parseRpcQueryString, type AthenaRpcBody } from '../../query/parse/rpc.js'
import type { GatewayDeps } from './deps.js'
import { stripNullsHeader } from './headers.js'
import { sendEnvelope } from './respond.js'
import { GatewayHeaders, RpcBody } from './schemas.js'
import { contextOf } from '../../http/request-context.js'

/** GET|POST /rpc/{function_name}: POST's body holds the arguments; on GET, parameters naming an argument are arguments */
async function rpcFromQueryString(req: FastifyRequest, name: string, body: Record<string, unknown> | undefined): Promise<RpcQuery> {
  const argumentNames = body ? new Set<string>() : await functionArgumentNames(req.source, name)
  return parseRpcQueryString({ name, url: req.url, body, argumentNames, stripNulls: stripNullsHeader(req), readOnly: body === undefined })
}

const FnParams = Type.Object({ function_name: Type.String({ minLength: 1, pattern: '^[A-Za-z_][A-Za-z0-9_$]*$' }) })

export function rpcRoutes(app: FastifyInstance, services: GatewayDeps): void {
  const reply = async (req: FastifyRequest, ast: RpcQuery) => {
    req.logContext.table = ast.fn.name
    return callFunction(services, contextOf(req), ast)
  }

  app.post('/gateway/rpc', {
    config: { operation: 'gateway.rpc', access: 'client' },
    schema: { summary: 'Call a database function with named args; filters/order/limit apply to set-returning results', tags: ['gateway'], headers: GatewayHeaders, body: RpcBody },
  }, async (req, res) => {
    const ast = parseAthenaRpc(req.body as AthenaRpcBody, stripNullsHeader(req))
    const out = await reply(req, ast)
    return sendEnvelope(res, `Called ${ast.fn.name}`, out.body)
  })

  app.get('/rpc/:function_name', {
    config: { operation: 'gateway.rpc', access: 'client' },
    schema: { summary: 'Call a database function read-only; query parameters are its arguments, other parameters filter its rows', tags: ['gateway'], headers: GatewayHeaders, params: FnParams },
  }, async (req, res) => {
    const { function_name } = req.params as { function_name: string }
    const out = await reply(req, await rpcFromQueryString(req, function_name, undefined))
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
    const out = await reply(req, await rpcFromQueryString(req, function_name, args))
    return sendEnvelope(res, `Called ${function_name}`, out.body)
  })
}
