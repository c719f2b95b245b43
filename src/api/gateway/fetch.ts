// POST /gateway/fetch, POST /gateway/data, GET /data and POST /gateway/update: structured reads (and updates).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { filterShape } from '../../query/filter-shape.js'
import { Timings } from '../../observability/timings.js'
import type { AthenaFetchBody } from '../../query/parse/athena.js'
import { isWrite, parseCall, runCall, tableOf, type CallKind } from './calls.js'
import type { GatewayDeps } from './deps.js'
import { cacheBypassed, prefers, publishEventHeader, stripNullsHeader } from './headers.js'
import { sendCallReply } from './respond.js'
import { FetchBody, GatewayHeaders } from './schemas.js'
import { targetOf } from './target.js'
import { contextOf } from '../../http/request-context.js'

/** a structured call of the route's kind, answered in the gateway envelope (large fetches stream) */
export async function answerCall(services: GatewayDeps, req: FastifyRequest, reply: FastifyReply, kind: CallKind, body: unknown) {
  const timings = new Timings()
  const started = performance.now()
  // the body's text only when `body` is the body parsed from it (a GET alias builds its own)
  const bodyText = body === req.body ? req.bodyText : null
  const returnMinimal = prefers(req, 'return=minimal')
  const parsed = parseCall({ kind, body, stripNulls: stripNullsHeader(req), publishEvent: publishEventHeader(req), bodyText, returnMinimal })
  if (returnMinimal && isWrite(parsed)) reply.header('preference-applied', 'return=minimal')
  timings.add('parse', performance.now() - started)
  req.logContext.table = tableOf(parsed)
  if (parsed.ast.kind === 'read') req.logContext.filterColumns = filterShape(parsed.ast.where)
  const out = await runCall(services, contextOf(req), targetOf(req), parsed, { timings, bypassCache: cacheBypassed(req), allowStream: true })
  if (parsed.kind === 'fetch') reply.header('server-timing', timings.header())
  if (out.kind === 'page' && out.cached !== undefined) req.logContext.cached = out.cached
  return sendCallReply(reply, out)
}

const DataQuery = Type.Object({
  view: Type.String({ minLength: 1 }),
  eq_column: Type.Optional(Type.String({ minLength: 1 })),
  eq_value: Type.Optional(Type.String()),
  columns: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 0 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  current_page: Type.Optional(Type.Integer({ minimum: 1 })),
  page_size: Type.Optional(Type.Integer({ minimum: 1 })),
  total_pages: Type.Optional(Type.Integer()),
  strip_nulls: Type.Optional(Type.Boolean()),
  sort_by: Type.Optional(Type.String({ minLength: 1 })),
  sort_direction: Type.Optional(Type.Union(['asc', 'desc', 'ascending', 'descending'].map((d) => Type.Literal(d)))),
  group_by: Type.Optional(Type.String({ minLength: 1 })),
  time_granularity: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('hour'), Type.Literal('minute')])),
  aggregation_column: Type.Optional(Type.String({ minLength: 1 })),
  aggregation_strategy: Type.Optional(Type.Literal('cumulative_sum')),
  aggregation_dedup: Type.Optional(Type.Boolean()),
}, { additionalProperties: false })

type DataQueryT = {
  view: string; eq_column?: string; eq_value?: string; columns?: string; sort_by?: string; sort_direction?: 'asc' | 'desc' | 'ascending' | 'descending'
} & Omit<AthenaFetchBody, 'columns' | 'sort_by'>

export function fetchRoutes(app: FastifyInstance, services: GatewayDeps): void {
  for (const url of ['/gateway/fetch', '/gateway/data']) {
    app.post(url, {
      config: { operation: 'gateway.fetch', access: 'client', forwardsUpstream: true },
      schema: {
        summary: url === '/gateway/fetch' ? 'Fetch data with conditions' : 'Legacy alias for /gateway/fetch',
        tags: ['gateway'],
        headers: GatewayHeaders,
        body: FetchBody,
      },
    }, (req, reply) => answerCall(services, req, reply, 'fetch', req.body))
  }

  app.get('/data', {
    config: { operation: 'gateway.fetch', access: 'client', forwardsUpstream: true },
    schema: { summary: 'Fetch data via GET', tags: ['gateway'], headers: GatewayHeaders, querystring: DataQuery },
  }, (req, reply) => {
    const { view, eq_column, eq_value, sort_by, sort_direction, columns, ...rest } = req.query as DataQueryT
    const body: AthenaFetchBody = {
      ...rest,
      view_name: view,
      columns,
      conditions: eq_column !== undefined ? [{ eq_column, eq_value: eq_value ?? '' }] : [],
      sortBy: sort_by ? { field: sort_by, direction: sort_direction } : undefined,
    }
    return answerCall(services, req, reply, 'fetch', body)
  })

  app.post('/gateway/update', {
    config: { operation: 'gateway.update', access: 'client', forwardsUpstream: true },
    schema: {
      summary: 'Update the rows matching conditions (with update_body) or fetch them (same payload as /gateway/fetch)',
      tags: ['gateway'],
      headers: GatewayHeaders,
      body: FetchBody,
    },
  }, (req, reply) => answerCall(services, req, reply, 'update', req.body))
}
