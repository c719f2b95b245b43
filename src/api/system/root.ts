// GET / (status, and the route listing for callers who may read the registry), GET /ping, and the registry of
// every operation: GET /router/registry (by path), GET /registry and GET /registry/{api_registry_id} (by operation).
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import { mayReadProtected } from '../../http/access-control.js'
import { rightsOf, type RegisteredOperation, type RouteCatalog } from '../../http/route-catalog.js'
import { AppError } from '../../errors/app-error.js'
import type { Config } from '../../config/schema.js'
import type { Catalog } from '../../catalog/catalog.js'
import type { AccessDeps } from '../../http/access-control.js'

const RouteItem = Type.Object({ path: Type.String(), methods: Type.Array(Type.String()), summary: Type.String() })

export interface RootDeps extends AccessDeps {
  catalog: Catalog
  version: string
  config: { security: Pick<Config['security'], 'protect'> }
}

const RegistryEntry = Type.Object({
  api_registry_id: Type.String({ description: 'stable and URL-safe: the method and the path' }),
  method: Type.String(),
  path: Type.String(),
  operation: Type.Union([Type.String(), Type.Null()], { description: 'the dotted id of logs, metrics and audit rows' }),
  access: Type.String({ description: 'public, admin, client, client-in-body, or protect:<setting> (client+protect:<setting> about a client)' }),
  rights: Type.Array(Type.String(), { description: 'the rights an API key or session may need (which ones depends on the request); the admin key needs none' }),
  summary: Type.String(),
})

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
          operations: Type.Array(Type.Omit(RegistryEntry, ['path']), { description: 'each method of the path, as GET /registry lists it' }),
        })),
      },
    },
  }, async () => {
    const byPath = new Map<string, RegisteredOperation[]>()
    for (const o of routes.operations()) byPath.set(o.path, [...(byPath.get(o.path) ?? []), o])
    return routes.list().map((r) => ({
      path: r.path,
      methods: r.methods,
      summary: r.summary,
      operation: r.operation ?? null,
      access: accessLabel(r.access),
      operations: (byPath.get(r.path) ?? []).map((o) => {
        const { path: _path, ...entry } = entryOf(o)
        return entry
      }),
    }))
  })

  /** a protect setting at `key` means the metadata needs schema.read */
  const isProtected = (setting: string) => services.config.security.protect[setting as keyof Config['security']['protect']] !== 'public'
  const entryOf = (o: RegisteredOperation) => ({
    api_registry_id: o.id,
    method: o.method,
    path: o.path,
    operation: o.operation,
    access: accessLabel(o.access),
    rights: rightsOf(o.operation, o.access, isProtected, o.operations),
    summary: o.summary,
  })

  app.get('/registry', {
    config: { operation: 'system.registry', access: { protect: 'registry' } },
    schema: {
      summary: 'List API registry entries: every operation of every family',
      tags: ['system'],
      response: { 200: Type.Array(RegistryEntry) },
    },
  }, async () => routes.operations().map(entryOf))

  app.get('/registry/:api_registry_id', {
    config: { operation: 'system.registry_entry', access: { protect: 'registry' } },
    schema: {
      summary: 'Lookup an API registry entry by ID',
      tags: ['system'],
      params: Type.Object({ api_registry_id: Type.String({ minLength: 1, maxLength: 300 }) }),
      response: { 200: Type.Array(RegistryEntry, { description: 'the entry, wrapped in an array (as the gateway spec has it)' }) },
    },
  }, async (req) => {
    const { api_registry_id: id } = req.params as { api_registry_id: string }
    const found = routes.operation(id)
    if (!found) {
      throw new AppError('registry_entry_not_found', `no operation with registry id "${id.slice(0, 100)}"`, {
        hint: 'GET /registry lists every operation and its api_registry_id, e.g. post-gateway-fetch',
      })
    }
    return [entryOf(found)]
  })
}

/** `client`, `admin`, … or `protect:<setting>`; a protected client route is `client+protect:<setting>` */
function accessLabel(access: unknown): string {
  if (typeof access !== 'object' || !access) return String(access ?? 'admin')
  const { protect, client } = access as { protect: string; client?: boolean }
  return `${client ? 'client+' : ''}protect:${protect}`
}
