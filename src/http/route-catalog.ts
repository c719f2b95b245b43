// Collects every route as Fastify registers it: the source for GET /, /router/registry and the OpenAPI check.
import type { RouteOptions } from 'fastify'

export interface RouteEntry {
  path: string
  methods: string[]
  summary: string
  operation?: string
  access?: unknown
  /** the route forwards X-Athena-Client: custom_supabase to a PostgREST upstream */
  forwardsUpstream?: boolean
}

export class RouteCatalog {
  private readonly byPath = new Map<string, RouteEntry>()

  add(route: RouteOptions): void {
    const schema = route.schema as { summary?: string; hide?: boolean } | undefined
    if (schema?.hide) return
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD' || route.method === 'HEAD')
    const path = route.url.replace(/:(\w+)/g, '{$1}')
    const entry = this.byPath.get(path) ?? { path, methods: [], summary: schema?.summary ?? '', operation: route.config?.operation, access: route.config?.access, forwardsUpstream: route.config?.forwardsUpstream === true }
    for (const m of methods) if (!entry.methods.includes(m)) entry.methods.push(m)
    if (!entry.summary && schema?.summary) entry.summary = schema.summary
    this.byPath.set(path, entry)
  }

  list(): RouteEntry[] {
    return [...this.byPath.values()].sort((a, b) => a.path.localeCompare(b.path))
  }
}
