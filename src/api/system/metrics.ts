// GET /metrics: Prometheus text exposition of this process's registry. Its pool gauges name every client,
// so it is protected as the client list is (security.protect.metrics; a scraper sends a key as a bearer token).
import type { FastifyPluginAsync } from 'fastify'
import type { Metrics } from '../../observability/metrics.js'

export interface MetricsDeps {
  metrics: Metrics
}

export const metricsRoute: FastifyPluginAsync<{ services: MetricsDeps }> = async (app, { services }) => {
  app.get('/metrics', {
    config: { operation: 'system.metrics', access: { protect: 'metrics' } },
    schema: { summary: 'Prometheus metrics endpoint', tags: ['system'] },
  }, async (_req, reply) => {
    const body = await services.metrics.registry.metrics()
    return reply.type(services.metrics.registry.contentType).send(body)
  })
}
