// GET /health (catalog and sources) and GET /health/cluster (probes of configured mirror URLs).
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import type { Catalog } from '../../catalog/catalog.js'
import type { Config } from '../../config/schema.js'
import { probeMirrors } from '../../monitoring/cluster-probe.js'

export interface HealthDeps {
  catalog: Catalog
  config: Config
  version: string
}

export const healthRoutes: FastifyPluginAsync<{ services: HealthDeps }> = async (app, { services }) => {
  app.get('/health', {
    config: { operation: 'system.health', access: 'public' },
    schema: { summary: 'Process and catalog health', tags: ['system'] },
  }, async (_req, reply) => {
    const started = performance.now()
    const catalog = await services.catalog.ping().then(
      () => ({ status: 'ok' as const, latency_ms: Math.round((performance.now() - started) * 100) / 100 }),
      (err: Error) => ({ status: 'down' as const, error: err.message }),
    )
    if (catalog.status === 'ok') return { status: 'ok', checks: { catalog } }
    reply.status(503).header('retry-after', '5')
    return { status: 'error', code: 'catalog_unavailable', message: 'the catalog database is unavailable', error: catalog.error, checks: { catalog } }
  })

  app.get('/health/cluster', {
    config: { operation: 'system.health_cluster', access: 'public' },
    schema: {
      summary: 'Cluster mirror health and version checks',
      tags: ['system'],
      response: {
        200: Type.Object({
          message: Type.String(),
          version: Type.String(),
          athena_api: Type.String(),
          athena_deadpool: Type.String(),
          athena_scylladb: Type.String(),
          cargo_toml_version: Type.String(),
          mirrors: Type.Array(Type.Object({
            url: Type.String(),
            status: Type.String(),
            latency_ms: Type.Union([Type.Number(), Type.Null()]),
            download_bytes_per_sec: Type.Union([Type.Number(), Type.Null()]),
            cargo_toml_version: Type.Union([Type.String(), Type.Null()]),
            message: Type.Union([Type.String(), Type.Null()]),
          })),
        }),
      },
    },
  }, async () => {
    const { mirrors } = services.config.cluster
    const results = await probeMirrors(services.config.cluster)
    const catalogUp = await services.catalog.ping().then(() => true, () => false)
    const online = results.filter((r) => r.status === 'online').length
    return {
      message: mirrors.length ? `${online} of ${mirrors.length} mirrors online` : 'no mirrors configured',
      version: services.version,
      athena_api: 'online',
      athena_deadpool: catalogUp ? 'online' : 'offline',
      athena_scylladb: 'offline',
      cargo_toml_version: services.version,
      mirrors: results,
    }
  })
}
