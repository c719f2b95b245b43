// GET /health (catalog and sources) and GET /health/cluster (probes of configured mirror URLs).
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import type { Catalog } from '../../catalog/catalog.js'
import type { Config } from '../../config/schema.js'
import { probeMirrors } from '../../monitoring/cluster-probe.js'
import type { WarehouseEngine } from '../../warehouse/engine.js'

export interface HealthDeps {
  catalog: Catalog
  config: Config
  version: string
  /** the Workspace's analytics engine (DuckDB), checked beside the catalog */
  warehouseEngine: Pick<WarehouseEngine, 'ping'>
}

/** one check: ok with its latency, or down with why */
async function check(probe: () => Promise<void>): Promise<{ status: 'ok'; latency_ms: number } | { status: 'down'; error: string }> {
  const started = performance.now()
  return probe().then(
    () => ({ status: 'ok' as const, latency_ms: Math.round((performance.now() - started) * 100) / 100 }),
    (err: Error) => ({ status: 'down' as const, error: err.message }),
  )
}

export const healthRoutes: FastifyPluginAsync<{ services: HealthDeps }> = async (app, { services }) => {
  app.get('/health', {
    config: { operation: 'system.health', access: 'public' },
    schema: { summary: 'Process, catalog and warehouse health', tags: ['system'] },
  }, async (_req, reply) => {
    const [catalog, warehouse] = await Promise.all([check(() => services.catalog.ping()), check(() => services.warehouseEngine.ping())])
    const checks = { catalog, warehouse }
    if (catalog.status === 'ok' && warehouse.status === 'ok') return { status: 'ok', checks }
    reply.status(503).header('retry-after', '5')
    // the catalog first: without it nothing works
    if (catalog.status === 'down') return { status: 'error', code: 'catalog_unavailable', message: 'the catalog database is unavailable', error: catalog.error, checks }
    return { status: 'error', code: 'warehouse_unavailable', message: 'the Workspace warehouse engine (DuckDB) is unavailable', error: (warehouse as { error: string }).error, checks }
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
