// GET /metrics: Prometheus text exposition of this process's registry, plus figures gathered at scrape time
// (mirror probes, the request log's last 24 hours). Its pool gauges name every client, so it is protected as the
// client list is (security.protect.metrics; a scraper sends a key as a bearer token).
import type { FastifyPluginAsync } from 'fastify'
import type { Catalog } from '../../catalog/catalog.js'
import type { Config } from '../../config/schema.js'
import { ScrapeFigures } from '../../monitoring/scrape-figures.js'
import type { Metrics } from '../../observability/metrics.js'

export interface MetricsDeps {
  metrics: Metrics
  catalog: Catalog
  config: Pick<Config, 'cluster'>
}

export const metricsRoute: FastifyPluginAsync<{ services: MetricsDeps }> = async (app, { services }) => {
  const figures = new ScrapeFigures(services.catalog, services.config.cluster)
  app.get('/metrics', {
    config: { operation: 'system.metrics', access: { protect: 'metrics' } },
    schema: { summary: 'Prometheus metrics endpoint', tags: ['system'] },
  }, async (_req, reply) => {
    services.metrics.setScrapeFigures(await figures.get())
    const body = await services.metrics.registry.metrics()
    return reply.type(services.metrics.registry.contentType).send(body)
  })
}
