// GET|POST /rest/v1/rpc/{function}: PostgREST function calls (GET read-only, arguments in the query string;
// POST arguments in the body); rows of set-returning functions take filters, order and ranges.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { callFunction } from '../../data/call-function.js'
import type { RpcQuery } from '../../query/ast.js'
import { parsePostgrestQuery, queryPairs } from '../../query/parse/postgrest.js'
import type { Services } from '../../services.js'
import { parsePrefer } from './prefer.js'
import { contentRange, requestWindow } from './range.js'
import { acceptedOutput, sendRows, sendValue } from './respond.js'
import { RestHeaders, applyPreferences } from './shared.js'

const FnParams = Type.Object({ function: Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z_][A-Za-z0-9_$]*$' }) })

async function call(services: Services, req: FastifyRequest, reply: FastifyReply, bodyArgs: Record<string, unknown> | undefined) {
  const { function: name } = req.params as { function: string }
  req.logContext.table = name
  const output = acceptedOutput(req)
  const prefs = parsePrefer(req)
  const pairs = queryPairs(req.url)
  // on GET, query parameters that name an argument are arguments; the others filter the rows
  const argNames = bodyArgs ? new Set<string>() : new Set((await req.source.schema()).findFunctions(name).flatMap((f) => f.args.map((a) => a.name)))
  const q = parsePostgrestQuery(pairs, argNames)
  // rest.maxRows is not part of the caller's window: the planner applies it to set-returning results only
  const window = requestWindow(req, q)
  const ast: RpcQuery = {
    kind: 'rpc', fn: { name }, args: bodyArgs ?? Object.fromEntries(pairs.filter(([k]) => argNames.has(k))),
    select: q.select, where: q.where, order: q.order, limit: window.limit, offset: window.offset || undefined,
    maxRows: services.config.rest.maxRows, count: prefs.count, stripNulls: output.stripNulls, readOnly: req.method === 'GET',
  }
  const result = await callFunction(services, req.source, req.principal, ast)
  // a count is only given for set results on PostgreSQL: Preference-Applied must not claim one otherwise
  if (prefs.count && result.total === undefined) prefs.applied = prefs.applied.filter((p) => !p.startsWith('count='))
  applyPreferences(reply, prefs)
  if (!result.returnsSet) return sendValue(reply, output, name, result.body)
  reply.header('content-range', contentRange(window.offset, result.rows, prefs.count ? result.total : undefined))
  return sendRows(reply, output, result.body, result.rows, services.config.rest.envelope === 'data', name)
}

export function rpcRoutes(app: FastifyInstance, services: Services): void {
  app.get('/rpc/:function', {
    exposeHeadRoute: false,
    config: { operation: 'rest.rpc', access: 'client' },
    schema: { summary: 'Call a database function read-only; query parameters are its arguments', tags: ['rest'], params: FnParams, headers: RestHeaders },
  }, (req, reply) => call(services, req, reply, undefined))

  app.post('/rpc/:function', {
    config: { operation: 'rest.rpc', access: 'client' },
    schema: { summary: 'Call a database function with named arguments in the body', tags: ['rest'], params: FnParams, headers: RestHeaders, body: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
  }, (req, reply) => call(services, req, reply, (req.body as Record<string, unknown> | undefined) ?? {}))
}
