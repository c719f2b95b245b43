// /admin/public-routes*: publish, list, change and withdraw public routes (admin key only), in the gateway envelope.
import { Type, type TSchema } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { PublicRouteInput, PublicRoutes } from '../../public-routes/public-routes.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { plural } from '../gateway/respond.js'
import { Condition } from '../gateway/schemas.js'

export interface PublicRouteAdminDeps {
  publicRoutes: PublicRoutes
}

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const envelope = <T extends TSchema>(data: T) => Type.Object({ status: Type.Literal('success'), message: Type.String(), data })

const Fields = {
  route_key: Type.String({ minLength: 1, maxLength: 63, description: 'the {route_key} of /public/{route_key}/{op}: lowercase letters, digits, - and _' }),
  client_name: Type.String({ minLength: 1, maxLength: 200, description: 'the client (data source) the route reads' }),
  operation: Type.Union([Type.Literal('fetch'), Type.Literal('storage_read')], { description: 'what is published: fetch (rows and their count) or storage_read (get and list objects of one bucket under a prefix)' }),
  table_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'fetch: the table' })),
  columns: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 200 })], { description: 'fetch: the columns callers may read, filter and order by' })),
  conditions: Type.Optional(Type.Array(Condition, { maxItems: 100, description: 'fetch: Athena conditions ANDed to every call' })),
  bucket: Type.Optional(Type.String({ minLength: 1, maxLength: 63, description: 'storage_read: a bucket of client_name' })),
  s3_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'storage_read: the storage connection of the bucket (default "default")' })),
  prefix: Type.Optional(Type.String({ maxLength: 960, description: 'storage_read: the key prefix every call stays under (default "": the whole bucket)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'most rows (fetch) or keys per list page (storage_read) one call returns (default 100)' })),
  rate_limit: Type.Optional(Nullable(Type.Integer({ minimum: 1, description: 'calls per rate-limit window per address; null: rateLimits.publicPerIp' }))),
  description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  enabled: Type.Optional(Type.Boolean()),
}
const CreateBody = Type.Object(Fields, { additionalProperties: false })
const UpdateBody = Type.Object({
  ...Fields,
  route_key: Type.Optional(Fields.route_key),
  client_name: Type.Optional(Fields.client_name),
  operation: Type.Optional(Fields.operation),
}, { additionalProperties: false, minProperties: 1 })

const RouteRecord = Type.Object({
  route_key: Type.String(),
  client_name: Type.String(),
  operation: Type.String(),
  table_name: Nullable(Type.String()),
  columns: Nullable(Type.Array(Type.String())),
  conditions: Type.Array(Type.Unknown()),
  bucket: Nullable(Type.String()),
  s3_id: Nullable(Type.String()),
  prefix: Nullable(Type.String()),
  limit: Type.Integer(),
  rate_limit: Nullable(Type.Integer()),
  description: Nullable(Type.String()),
  enabled: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
})
const KeyParams = Type.Object({ route_key: Type.String({ minLength: 1, maxLength: 100 }) })
type Key = { route_key: string }

export function publicRouteAdminRoutes(app: FastifyInstance, services: PublicRouteAdminDeps): void {
  const admin = (operation: string) => ({ operation, access: 'admin' as const })
  const tags = ['admin']
  const { publicRoutes } = services

  app.get('/admin/public-routes', {
    config: admin('admin.public_routes.list'),
    schema: { summary: 'List public routes', tags, response: { 200: envelope(Type.Object({ routes: Type.Array(RouteRecord) })) } },
  }, async () => {
    const routes = await publicRoutes.list()
    return gatewaySuccess(`Listed ${plural(routes.length, 'public route')}`, { routes })
  })

  app.post('/admin/public-routes', {
    config: admin('admin.public_routes.create'),
    schema: { summary: 'Publish an operation under a route key, callable without a key at /public/{route_key}/{op}', tags, body: CreateBody, response: { 201: envelope(Type.Object({ route: RouteRecord })) } },
  }, async (req, reply) => {
    const route = await publicRoutes.create(req.body as PublicRouteInput)
    return reply.status(201).send(gatewaySuccess(`Published /public/${route.route_key}`, { route }))
  })

  app.get('/admin/public-routes/:route_key', {
    config: admin('admin.public_routes.get'),
    schema: { summary: 'One public route', tags, params: KeyParams, response: { 200: envelope(Type.Object({ route: RouteRecord })) } },
  }, async (req) => {
    const route = await publicRoutes.get((req.params as Key).route_key)
    return gatewaySuccess(`Public route ${route.route_key}`, { route })
  })

  app.patch('/admin/public-routes/:route_key', {
    config: admin('admin.public_routes.update'),
    schema: { summary: 'Change a public route (checked again as on creation)', tags, params: KeyParams, body: UpdateBody, response: { 200: envelope(Type.Object({ route: RouteRecord })) } },
  }, async (req) => {
    const route = await publicRoutes.update((req.params as Key).route_key, req.body as PublicRouteInput)
    return gatewaySuccess(`Updated public route ${route.route_key}`, { route })
  })

  app.delete('/admin/public-routes/:route_key', {
    config: admin('admin.public_routes.delete'),
    schema: { summary: 'Withdraw a public route', tags, params: KeyParams, response: { 200: envelope(Type.Object({ route_key: Type.String() })) } },
  }, async (req) => {
    const { route_key } = req.params as Key
    await publicRoutes.remove(route_key)
    return gatewaySuccess(`Withdrew public route ${route_key}`, { route_key })
  })
}
