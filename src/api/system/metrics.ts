// GET /metrics: Prometheus text exposition of this process's registry.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../../services.js'

export const metricsRoute: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  app.get('/metrics', {
    config: { operation: 'system.metrics', access: 'public' },
    schema: { summary: 'Prometheus metrics endpoint', tags: ['system'] },
  }, async (_req, reply) => {
    const body = await services.metrics.registry.metrics()
    return reply.type(services.metrics.registry.contentType).send(body)
  })
}
