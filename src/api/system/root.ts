// GET / (status, and the route listing for callers who may read the registry), GET /ping and GET /router/registry.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import { mayReadProtected } from '../../http/access-control.js'
import type { RouteCatalog } from '../../http/route-catalog.js'
import type { Catalog } from '../../catalog/catalog.js'
import type { AccessDeps } from '../../http/access-control.js'

const RouteItem = Type.Object({ path: Type.String(), methods: Type.Array(Type.String()), summary: Type.String() })

export interface RootDeps extends AccessDeps {
  catalog: Catalog
  version: string
}

export const rootRoutes: FastifyPluginAsync<{ services: RootDeps; routes: RouteCatalog }> = async (app, { services, routes }) => {
  app.get('/', {
    config: { operation: 'system.root', access: 'public' },
    schema: {
      summary: 'API root and route listing',
      tags: ['system'],
      response: {
        200: Type.Object({
          message: Type.String(),
          version: Type.String(),
          athena_api: Type.String(),
          athena_deadpool: Type.String(),
          athena_scylladb: Type.String(),
          cargo_toml_version: Type.String(),
          // the route listing is what /router/registry shows, so security.protect.registry guards it too
          routes: Type.Optional(Type.Array(RouteItem, { description: 'present only for callers allowed to read /router/registry' })),
        }),
      },
    },
  }, async (req) => {
    const [catalogUp, listRoutes] = await Promise.all([services.catalog.ping().then(() => true, () => false), mayReadProtected(services, req, 'registry')])
    return {
      message: 'athena is online',
      version: services.version,
      athena_api: 'online',
      athena_deadpool: catalogUp ? 'online' : 'offline',
      // Atrium has no ScyllaDB backend; the field stays for clients that read it.
      athena_scylladb: 'offline',
      cargo_toml_version: services.version,
      routes: listRoutes ? routes.list().map(({ path, methods, summary }) => ({ path, methods, summary })) : undefined,
    }
  })

  app.get('/ping', {
    config: { operation: 'system.ping', access: 'public' },
    schema: { summary: 'Health check', tags: ['system'], response: { 200: Type.String() } },
  }, async (_req, reply) => reply.type('text/plain; charset=utf-8').send('pong'))

  app.get('/router/registry', {
    config: { operation: 'system.router_registry', access: { protect: 'registry' } },
    schema: {
      summary: 'List Athena router registry entries',
      tags: ['system'],
      response: {
        200: Type.Array(Type.Object({
          path: Type.String(),
          methods: Type.Array(Type.String()),
          summary: Type.String(),
          operation: Type.Union([Type.String(), Type.Null()]),
          access: Type.String(),
        })),
      },
    },
  }, async () => routes.list().map((r) => ({
    path: r.path,
    methods: r.methods,
    summary: r.summary,
    operation: r.operation ?? null,
    access: accessLabel(r.access),
  })))
}

/** `client`, `admin`, … or `protect:<setting>`; a protected client route is `client+protect:<setting>` */
function accessLabel(access: unknown): string {
  if (typeof access !== 'object' || !access) return String(access ?? 'admin')
  const { protect, client } = access as { protect: string; client?: boolean }
  return `${client ? 'client+' : ''}protect:${protect}`
}
