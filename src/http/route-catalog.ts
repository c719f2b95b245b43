// Collects every route as Fastify registers it: the source for GET /, /router/registry, /registry and the
// OpenAPI check. Each operation (one method of one path) keeps its own id, access and summary, and the rights it
// may need come from the rights table (auth/operation-rights.ts) through ROUTE_OPERATIONS below.
import type { RouteOptions } from 'fastify'
import { operationRights, type Operation } from '../auth/operation-rights.js'
import type { Access } from './fastify-types.js'

export interface RouteEntry {
  path: string
  methods: string[]
  summary: string
  operation?: string
  access?: unknown
  /** the route forwards X-Athena-Client: custom_supabase to a PostgREST upstream */
  forwardsUpstream?: boolean
}

/** one method of one path, as /registry lists it */
export interface RegisteredOperation {
  /** stable and URL-safe: the method and the path, e.g. `post-gateway-fetch` */
  id: string
  method: string
  path: string
  /** the dotted operation id of logs, metrics and audit rows (`gateway.fetch`) */
  operation: string | null
  access: Access | undefined
  /** the route's own declaration of the rights-table operations it may perform (config.operations) */
  operations?: readonly Operation[]
  summary: string
}

/**
 * The operations of the rights table each data route may perform, by the route's operation id: which of them a
 * request needs depends on the request (an upsert also needs the update right; raw SQL, its class). Routes
 * whose id is an operation of the table (management.*) need no entry. A test checks every client route is known.
 */
export const ROUTE_OPERATIONS: Readonly<Record<string, readonly Operation[]>> = {
  'gateway.fetch': ['rows.read'],
  'gateway.insert': ['rows.insert', 'rows.upsert'],
  'gateway.update': ['rows.update', 'rows.read'],
  'gateway.delete': ['rows.delete'],
  'gateway.rpc': ['functions.call'],
  'gateway.query': ['sql.read', 'sql.write', 'sql.ddl'],
  'gateway.sql': ['sql.read', 'sql.write', 'sql.ddl'],
  'query.sql': ['sql.read', 'sql.write', 'sql.ddl'],
  'query.count': ['rows.count'],
  'rest.select': ['rows.read'],
  'rest.head': ['rows.read'],
  'rest.insert': ['rows.insert', 'rows.upsert'],
  'rest.update': ['rows.update'],
  'rest.delete': ['rows.delete'],
  'rest.rpc': ['functions.call'],
  'management.capabilities': ['management.read'],
  // a deferred request is seen only by its sender, who needed one of these to submit it; a requeue checks it again
  'gateway.deferred.list': ['rows.read', 'rows.count', 'rows.insert', 'rows.upsert', 'rows.update', 'rows.delete'],
  'gateway.deferred.get': ['rows.read', 'rows.count', 'rows.insert', 'rows.upsert', 'rows.update', 'rows.delete'],
  'gateway.deferred.requeue': ['rows.read', 'rows.count', 'rows.insert', 'rows.upsert', 'rows.update', 'rows.delete'],
  // a pipeline reads its source (a table, or a read query) and writes its sink; a template is a pipeline to run
  'pipelines.run': ['rows.read', 'sql.read', 'rows.insert', 'rows.upsert'],
  'pipelines.simulate': ['rows.read', 'sql.read'],
  'pipelines.templates': ['rows.read'],
  'pipelines.runs.get': ['rows.read', 'sql.read', 'rows.insert', 'rows.upsert'],
  'pipelines.runs.cancel': ['rows.read', 'sql.read', 'rows.insert', 'rows.upsert'],
  // per message: the data actions' rights, and rows.read to subscribe
  'realtime.gateway': ['rows.read', 'rows.insert', 'rows.upsert', 'rows.update', 'rows.delete', 'sql.read', 'sql.write', 'sql.ddl'],
  // per tool call, the rights of the route it calls: the client list and schemas, reads, and raw SQL by its class
  'mcp.call': ['schema.read', 'rows.read', 'sql.read', 'sql.write', 'sql.ddl'],
}

/** the rights a caller with a key or session may need for an operation; [] when the access alone decides */
export function rightsOf(operation: string | null, access: Access | undefined, protectedMetadata: (setting: string) => boolean, declared?: readonly Operation[]): string[] {
  if (access === 'admin' || access === undefined) return []
  // a public route has rights only when what it carries is checked later (the WebSocket gateway's messages)
  if (access === 'public' && !(operation && operation in ROUTE_OPERATIONS)) return []
  const operations: Operation[] = operation ? [...(ROUTE_OPERATIONS[operation] ?? declared ?? (operation in operationRights ? [operation as Operation] : []))] : []
  if (typeof access === 'object' && protectedMetadata(access.protect)) operations.push('schema.read')
  return [...new Set(operations.map((o) => operationRights[o].right))]
}

const operationId = (method: string, path: string) => `${method}-${path}`.toLowerCase().replace(/[^a-z0-9_]+/g, '-').replace(/^-+|-+$/g, '')

export class RouteCatalog {
  private readonly byPath = new Map<string, RouteEntry>()
  private readonly byId = new Map<string, RegisteredOperation>()

  add(route: RouteOptions): void {
    const schema = route.schema as { summary?: string; hide?: boolean } | undefined
    if (schema?.hide) return
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD' || route.method === 'HEAD')
    const path = route.url.replace(/:(\w+)/g, '{$1}')
    const entry = this.byPath.get(path) ?? { path, methods: [], summary: schema?.summary ?? '', operation: route.config?.operation, access: route.config?.access, forwardsUpstream: route.config?.forwardsUpstream === true }
    for (const m of methods) if (!entry.methods.includes(m)) entry.methods.push(m)
    if (!entry.summary && schema?.summary) entry.summary = schema.summary
    this.byPath.set(path, entry)
    for (const method of methods) {
      const id = operationId(method, path)
      if (this.byId.has(id)) continue
      this.byId.set(id, { id, method, path, operation: route.config?.operation ?? null, access: route.config?.access, operations: route.config?.operations, summary: schema?.summary ?? '' })
    }
  }

  list(): RouteEntry[] {
    return [...this.byPath.values()].sort((a, b) => a.path.localeCompare(b.path))
  }

  /** every operation, by path then method */
  operations(): RegisteredOperation[] {
    return [...this.byId.values()].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method))
  }

  operation(id: string): RegisteredOperation | undefined {
    return this.byId.get(id)
  }
}
