// Public routes: an administrator publishes one operation under a route key, and anyone may call it without a key,
// rate-limited per address. Two kinds: a fetch (with its count) on one table with fixed columns and conditions,
// run through the normal query pipeline as the published read narrowed by what the caller sent (narrow-query.ts),
// as an anonymous principal whose only grant is the publication itself; and a storage read of one bucket under a
// fixed prefix (storage-read.ts).
import type { Logger } from 'pino'
import { ANONYMOUS } from '../auth/principal.js'
import type { RateLimits } from '../auth/rate-limits.js'
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import type { DataDeps } from '../data/data-deps.js'
import { countRows, readRows } from '../data/read-rows.js'
import { AppError } from '../errors/app-error.js'
import { plan } from '../query/pipeline.js'
import type { AthenaCondition } from '../query/parse/athena.js'
import type { QueryPairs } from '../query/parse/postgrest.js'
import type { ByteRange, GetResult } from '../objects/object-store.js'
import { DEFAULT_S3_ID } from '../storage/storage-catalogs.js'
import type { RequestContext } from '../request-context.js'
import type { SourceRegistry } from '../sources/registry.js'
import { narrowRead, publishedRead, type PublicCall } from './narrow-query.js'
import { PublicRouteStore, type FetchRoute, type PublicRoute, type PublicRouteFields, type PublishedOperation, type StorageReadRoute } from './public-route-store.js'
import { checkStorageRead, getPublishedObject, listPublishedObjects, STORAGE_CALLS, type StorageListPage, type StorageReadDeps } from './storage-read.js'

export type { PublicRoute } from './public-route-store.js'

/** the calls each published operation answers, by the `{op}` of /public/{route_key}/{op} */
const CALLS: Record<PublishedOperation, readonly string[]> = { fetch: ['fetch', 'count'] satisfies PublicCall[], storage_read: STORAGE_CALLS }

const CHANNEL = 'atrium_public_routes'
/** routes are read from memory; other processes' changes arrive by NOTIFY, and at worst after this long */
const CACHE_MS = 5_000
const DEFAULT_LIMIT = 100
const ROUTE_KEY = /^[a-z0-9][a-z0-9_-]{0,62}$/

export interface PublicRoutesDeps extends Omit<DataDeps, 'config'> {
  config: Pick<Config, 'gateway' | 'rateLimits'>
  catalog: Catalog
  registry: SourceRegistry
  rateLimits: RateLimits
  logger: Logger
  /** what a published storage read reads through */
  storage: StorageReadDeps
}

export interface PublicRouteInput {
  route_key?: string
  client_name?: string
  operation?: string
  table_name?: string | null
  columns?: string | string[] | null
  conditions?: AthenaCondition[]
  bucket?: string | null
  s3_id?: string | null
  prefix?: string | null
  limit?: number
  rate_limit?: number | null
  description?: string | null
  enabled?: boolean
}

/** the answer of a call: rows (JSON text) or a count; an object (to stream, or destroy) or a page of keys */
export type PublicAnswer = { call: 'fetch'; rows: number; body: string } | { call: 'count'; count: number; table: string }
  | { call: 'get'; object: GetResult } | { call: 'list'; page: StorageListPage }

export class PublicRoutes {
  private readonly store: PublicRouteStore
  private readonly cache = new Map<string, { route: PublicRoute | null; at: number }>()

  constructor(private readonly deps: PublicRoutesDeps) {
    this.store = new PublicRouteStore(deps.catalog)
  }

  async start(): Promise<void> {
    await this.deps.catalog.listen(CHANNEL, (key) => this.cache.delete(key))
    this.deps.catalog.onListenerReconnect(() => this.cache.clear())
  }

  list(): Promise<PublicRoute[]> {
    return this.store.list()
  }

  async get(key: string): Promise<PublicRoute> {
    return (await this.store.get(key)) ?? notFound(key)
  }

  async create(input: PublicRouteInput): Promise<PublicRoute> {
    const fields = await this.checked({ enabled: true, description: null, rate_limit: null, conditions: [], limit: DEFAULT_LIMIT, ...input })
    const created = await this.store.insert(fields)
    if (!created) throw new AppError('public_route_exists', `a public route "${fields.route_key}" already exists`, { hint: 'PATCH /admin/public-routes/{route_key} changes it' })
    await this.changed(fields.route_key)
    return created
  }

  async update(key: string, changes: PublicRouteInput): Promise<PublicRoute> {
    const current = await this.get(key)
    if (changes.route_key !== undefined && changes.route_key !== key) throw new AppError('invalid_request', 'route_key cannot be changed; publish a new route and delete this one')
    if (changes.operation !== undefined && changes.operation !== current.operation) throw new AppError('invalid_request', 'operation cannot be changed; publish a new route and delete this one')
    const fields = await this.checked({ ...current, ...changes })
    const updated = (await this.store.update(fields)) ?? notFound(key)
    await this.changed(key)
    return updated
  }

  async remove(key: string): Promise<void> {
    if (!(await this.store.remove(key))) notFound(key)
    await this.changed(key)
  }

  /**
   * One call of a published route from `ip`: unknown or disabled routes are 404 (counted against the address
   * all the same), other operations 405, then the route's per-address limit, then the narrowed read.
   */
  async call(ctx: Omit<RequestContext, 'principal' | 'source'>, req: { ip: string; method: string; key: string; call: string; pairs: QueryPairs; range?: ByteRange }): Promise<PublicAnswer> {
    const { ip, key, call, pairs } = req
    const route = await this.cached(key)
    if (!route?.enabled) {
      await this.deps.rateLimits.checkPublic(ip, '?', this.deps.config.rateLimits.publicPerIp)
      notFound(key)
    }
    await this.deps.rateLimits.checkPublic(ip, route.route_key, route.rate_limit ?? this.deps.config.rateLimits.publicPerIp)
    const calls = CALLS[route.operation]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new AppError('public_operation_not_allowed', `public routes only read: ${req.method} is not allowed`, { hint: `call ${calls.map((c) => `GET /public/${key}/${c}`).join(' or ')}` })
    }
    if (!calls.includes(call as PublicCall)) {
      throw new AppError('public_operation_not_allowed', `public route "${key}" publishes a ${route.operation}; "${call}" is not one of its operations`, {
        hint: `call ${calls.map((c) => `GET /public/${key}/${c}`).join(' or ')}`,
      })
    }
    if (route.operation === 'storage_read') {
      const published = route as StorageReadRoute
      if (call === 'get') return { call: 'get', object: await getPublishedObject(this.deps.storage, published, pairs, req.range) }
      return { call: 'list', page: await listPublishedObjects(this.deps.storage, published, pairs) }
    }
    const fetch = route as FetchRoute
    const ast = narrowRead(fetch, call as PublicCall, pairs)
    const context: RequestContext = { ...ctx, principal: ANONYMOUS, source: this.deps.registry.resolve(route.client_name) }
    if (call === 'count') return { call: 'count', count: await countRows(context, { ...ast, limit: undefined, offset: undefined, order: [] }), table: fetch.table_name }
    const outcome = await readRows(this.deps, context, ast)
    if (outcome.kind !== 'page') throw new Error('a public read is always one page')
    return { call: 'fetch', rows: outcome.result.rows, body: outcome.result.body }
  }

  private async cached(key: string): Promise<PublicRoute | null> {
    if (!ROUTE_KEY.test(key)) return null
    const hit = this.cache.get(key)
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.route
    const route = await this.store.get(key)
    // a bounded cache: a flood of unknown keys must not grow memory
    if (this.cache.size >= 1_000) this.cache.clear()
    this.cache.set(key, { route, at: Date.now() })
    return route
  }

  private async changed(key: string): Promise<void> {
    this.cache.delete(key)
    await this.deps.catalog.notify(CHANNEL, key).catch(() => {})
  }

  /** what will be published, checked: the key's shape, the client, and the table, columns and conditions planned on it */
  private async checked(r: PublicRouteInput): Promise<PublicRouteFields> {
    if (typeof r.route_key !== 'string' || !ROUTE_KEY.test(r.route_key)) {
      throw new AppError('invalid_request', 'route_key must be 1–63 lowercase letters, digits, "-" or "_", starting with a letter or digit')
    }
    if (r.operation !== 'fetch' && r.operation !== 'storage_read') {
      throw new AppError('invalid_request', `operation "${String(r.operation)}" cannot be published`, { hint: 'publishable operations: fetch (its rows and their count), storage_read (get and list objects of one bucket under a prefix)' })
    }
    if (r.operation === 'storage_read') return this.checkedStorageRead(r, r.route_key)
    if (r.bucket != null || r.s3_id != null || r.prefix != null) throw new AppError('invalid_request', 'bucket, s3_id and prefix belong to a storage_read route, not a fetch')
    if (typeof r.table_name !== 'string' || !r.table_name.trim()) throw new AppError('invalid_request', 'table_name is required')
    const columns = (typeof r.columns === 'string' ? r.columns.split(',') : r.columns ?? []).map((c) => c.trim()).filter(Boolean)
    if (!columns.length) throw new AppError('invalid_request', 'columns must name at least one column: a public route publishes an explicit column list, never *')
    const fields: PublicRouteFields = {
      route_key: r.route_key,
      client_name: String(r.client_name ?? ''),
      operation: r.operation,
      table_name: r.table_name.trim(),
      columns: [...new Set(columns)],
      conditions: r.conditions ?? [],
      bucket: null,
      s3_id: null,
      prefix: null,
      limit: r.limit ?? DEFAULT_LIMIT,
      rate_limit: r.rate_limit ?? null,
      description: r.description ?? null,
      enabled: r.enabled ?? true,
    }
    const source = this.deps.registry.resolve(fields.client_name)
    fields.client_name = source.name
    // the planner names an unknown table, column or malformed condition now, not on the first public call
    await plan(source, publishedRead(fields as FetchRoute))
    return fields
  }

  /** a storage read: the client's bucket on the connection (default: Atrium's own store) and a valid prefix */
  private async checkedStorageRead(r: PublicRouteInput, routeKey: string): Promise<PublicRouteFields> {
    if (r.table_name != null || r.columns != null || (r.conditions?.length ?? 0) > 0) {
      throw new AppError('invalid_request', 'table_name, columns and conditions belong to a fetch route, not a storage_read')
    }
    if (typeof r.bucket !== 'string' || !r.bucket) throw new AppError('invalid_request', 'bucket is required for a storage_read route')
    const client = this.deps.registry.resolve(String(r.client_name ?? '')).name
    const checked = await checkStorageRead(this.deps.storage, { client, bucket: r.bucket, s3Id: r.s3_id ?? DEFAULT_S3_ID, prefix: r.prefix ?? '' })
    return {
      route_key: routeKey,
      client_name: client,
      operation: 'storage_read',
      table_name: null,
      columns: null,
      conditions: [],
      bucket: checked.bucket,
      s3_id: checked.s3Id,
      prefix: checked.prefix,
      limit: r.limit ?? DEFAULT_LIMIT,
      rate_limit: r.rate_limit ?? null,
      description: r.description ?? null,
      enabled: r.enabled ?? true,
    }
  }
}

function notFound(key: string): never {
  throw new AppError('public_route_not_found', `no public route "${key}"`)
}
