// GET /health (catalog and sources) and GET /health/cluster (probes of configured mirror URLs).
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import { maskUrl } from '../../auth/secret-box.js'
import type { Catalog } from '../../catalog/catalog.js'
import type { Config } from '../../config/schema.js'
import type { WarehouseEngine } from '../../warehouse/engine.js'

interface MirrorHealth {
  url: string
  status: 'online' | 'offline'
  latency_ms: number | null
  download_bytes_per_sec: number | null
  cargo_toml_version: string | null
  message: string | null
}

async function probeMirror(url: string, timeoutMs: number): Promise<MirrorHealth> {
  const started = performance.now()
  try {
    const res = await fetch(new URL('/', url), { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } })
    const body = await res.arrayBuffer()
    const elapsed = performance.now() - started
    let version: string | null = null
    try {
      const doc = JSON.parse(Buffer.from(body).toString('utf8'))
      version = doc.cargo_toml_version ?? doc.version ?? null
    } catch {
      /* a mirror that answers non-JSON is still reachable */
    }
    return {
      url,
      status: res.ok ? 'online' : 'offline',
      latency_ms: Math.round(elapsed * 100) / 100,
      download_bytes_per_sec: elapsed > 0 ? Math.round(body.byteLength / (elapsed / 1000)) : null,
      cargo_toml_version: version,
      message: res.ok ? null : `HTTP ${res.status}`,
    }
  } catch (err) {
    const e = err as Error
    const reason = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : ((e.cause as Error)?.message ?? e.message)
    return { url, status: 'offline', latency_ms: null, download_bytes_per_sec: null, cargo_toml_version: null, message: reason }
  }
}

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
    const { mirrors, probeTimeoutMs } = services.config.cluster
    // a public route: a mirror configured with credentials in its URL must not show them
    const results = (await Promise.all(mirrors.map((m) => probeMirror(m, probeTimeoutMs)))).map((r) => ({ ...r, url: maskUrl(r.url) }))
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
