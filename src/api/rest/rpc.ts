// GET|POST /rest/v1/rpc/{function}: PostgREST function calls (GET read-only, arguments in the query string;
// POST arguments in the body); rows of set-returning functions take filters, order and ranges.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { callFunction, functionArgumentNames } from '../../data/call-function.js'
import { parsePostgrestRpc } from '../../query/parse/postgrest-request.js'
import type { RestDeps } from './deps.js'
import { contentRange } from './range.js'
import { sendRows, sendValue } from './respond.js'
import { RestHeaders, applyPreferences } from './shared.js'
import { contextOf } from '../../http/request-context.js'

const FnParams = Type.Object({ function: Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z_][A-Za-z0-9_$]*$' }) })
const NO_NAMES: ReadonlySet<string> = new Set()

async function call(services: RestDeps, req: FastifyRequest, reply: FastifyReply, method: 'GET' | 'POST') {
  const { function: name } = req.params as { function: string }
  req.logContext.table = name
  // on GET, query parameters that name an argument are arguments; the others filter the rows
  const argumentNames = method === 'GET' ? await functionArgumentNames(req.source, name) : NO_NAMES
  const { ast, prefs, window, output } = parsePostgrestRpc(
    { method, target: name, url: req.url, headers: req.headers, body: req.body, argumentNames },
    { maxRows: services.config.rest.maxRows, aggregates: services.config.rest.aggregatesEnabled },
  )
  const result = await callFunction(services, contextOf(req), ast)
  // a count is only given for set results on PostgreSQL: Preference-Applied must not claim one otherwise
  applyPreferences(reply, prefs.count && result.total === undefined ? prefs.applied.filter((p) => !p.startsWith('count=')) : prefs.applied)
  if (!result.returnsSet) return sendValue(reply, output, name, result.body)
  reply.header('content-range', contentRange(window.offset, result.rows, prefs.count ? result.total : undefined))
  return sendRows(reply, output, result.body, result.rows, services.config.rest.envelope === 'data', name)
}

export function rpcRoutes(app: FastifyInstance, services: RestDeps): void {
  app.get('/rpc/:function', {
    exposeHeadRoute: false,
    config: { operation: 'rest.rpc', access: 'client' },
    schema: { summary: 'Call a database function read-only; query parameters are its arguments', tags: ['rest'], params: FnParams, headers: RestHeaders },
  }, (req, reply) => call(services, req, reply, 'GET'))

  app.post('/rpc/:function', {
    config: { operation: 'rest.rpc', access: 'client' },
    schema: { summary: 'Call a database function with named arguments in the body', tags: ['rest'], params: FnParams, headers: RestHeaders, body: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
  }, (req, reply) => call(services, req, reply, 'POST'))
}
