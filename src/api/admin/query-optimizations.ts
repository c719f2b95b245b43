// /admin/clients/{client_name}/query-optimizations*: the client's slowest query shapes, the index suggestions
// EXPLAIN confirms, and applying one (the index is created through the management layer, audited).
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { contextOf } from '../../http/request-context.js'
import { analyzeQueries, applySuggestion, findSuggestion, type QueryOptimizationDeps } from '../../monitoring/query-optimizations.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { plural } from '../gateway/respond.js'

const Params = Type.Object({ client_name: Type.String({ minLength: 1, maxLength: 256 }) })
const SuggestionParams = Type.Object({ client_name: Type.String({ minLength: 1, maxLength: 256 }), id: Type.String({ minLength: 1, maxLength: 100 }) })

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()])
const Shape = Type.Object({
  schema: Type.Union([Type.String(), Type.Null()]),
  table: Type.String(),
  columns: Type.Array(Type.String(), { description: 'the columns the queries filter on, equality conditions first' }),
  calls: Type.Number(),
  mean_ms: Type.Number(),
  total_ms: Type.Number(),
  query: Type.String({ description: 'the normalized statement, or the route when the shape comes from the request log' }),
})
const Suggestion = Type.Object({
  id: Type.String({ description: 'stable for the same client, table and columns' }),
  schema_name: Type.String(),
  table_name: Type.String(),
  columns: Type.Array(Type.String()),
  index_name: Type.String(),
  statement: Type.String({ description: 'what apply runs' }),
  reason: Type.String(),
  shape: Shape,
  explain: Type.Object({ full_scan: Type.Boolean(), plan: Type.String(), estimated_rows: Nullable(Type.Number()), estimated_cost: Nullable(Type.Number()) }),
})
const Envelope = <T extends ReturnType<typeof Type.Object>>(data: T) => Type.Object({ status: Type.Literal('success'), message: Type.String(), data })

const ReportReply = Envelope(Type.Object({
  client_name: Type.String(),
  shapes_from: Type.Union([Type.Literal('pg_stat_statements'), Type.Literal('performance_schema'), Type.Literal('request_log')]),
  slow_queries: Type.Array(Shape),
  suggestions: Type.Array(Suggestion),
}))
const ApplyReply = Envelope(Type.Object({
  suggestion: Suggestion,
  index: Type.Object({ operation: Type.String(), schema_name: Type.String(), table_name: Type.String(), index_name: Type.String(), statements: Type.Array(Type.String()), audit_log_id: Type.Union([Type.Integer(), Type.Null()]) }),
}))

export function queryOptimizationRoutes(app: FastifyInstance, services: QueryOptimizationDeps): void {
  app.get('/admin/clients/:client_name/query-optimizations', {
    config: { operation: 'admin.query_optimizations.list', access: 'admin' },
    schema: { summary: 'The slowest query shapes of a client and index suggestions checked by EXPLAIN', tags: ['admin'], params: Params, response: { 200: ReportReply } },
  }, async (req) => {
    const report = await analyzeQueries(services, (req.params as { client_name: string }).client_name)
    return gatewaySuccess(`${plural(report.slow_queries.length, 'query shape')} of ${report.client_name} (from ${report.shapes_from}), ${plural(report.suggestions.length, 'index suggestion')}`, report)
  })

  app.get('/admin/clients/:client_name/query-optimizations/:id', {
    config: { operation: 'admin.query_optimizations.get', access: 'admin' },
    schema: { summary: 'One current index suggestion of a client', tags: ['admin'], params: SuggestionParams, response: { 200: Envelope(Type.Object({ suggestion: Suggestion })) } },
  }, async (req) => {
    const { client_name, id } = req.params as { client_name: string; id: string }
    const suggestion = await findSuggestion(services, client_name, id)
    return gatewaySuccess(`Index suggestion ${suggestion.id} on ${suggestion.table_name}`, { suggestion })
  })

  app.post('/admin/clients/:client_name/query-optimizations/:id/apply', {
    config: { operation: 'admin.query_optimizations.apply', access: 'admin' },
    schema: {
      summary: 'Create the suggested index (CONCURRENTLY on PostgreSQL), audited in database_audit_log',
      tags: ['admin'],
      params: SuggestionParams,
      response: { 201: ApplyReply },
    },
  }, async (req, reply) => {
    const { client_name, id } = req.params as { client_name: string; id: string }
    const applied = await applySuggestion(services, contextOf(req), client_name, id)
    reply.status(201)
    return gatewaySuccess(`Index ${applied.index.index_name} created on ${applied.index.schema_name}.${applied.index.table_name}`, applied)
  })
}
