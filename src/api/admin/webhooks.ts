// /admin/webhooks*: webhook endpoints, their deliveries, test sends and replays (admin key only), in the gateway envelope.
import { Type, type TSchema } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { EndpointChanges } from '../../webhooks/webhook-store.js'
import type { Webhooks } from '../../webhooks/webhooks-service.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { plural } from '../gateway/respond.js'

export interface WebhookRouteDeps {
  webhooks: Webhooks
}

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const Timestamp = Type.String({ format: 'date-time' })
const envelope = <T extends TSchema>(data: T) => Type.Object({ status: Type.Literal('success'), message: Type.String(), data })
const Names = (what: string) => Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100, description: `${what}; empty = all` })

const Filter = Type.Object({
  clients: Type.Optional(Names('clients (X-Athena-Client) whose row events are sent')),
  tables: Type.Optional(Names('tables whose row events are sent')),
  types: Type.Optional(Names('event types, e.g. row.inserted, job.failed')),
}, { additionalProperties: false })
const FilterRecord = Type.Object({ clients: Type.Array(Type.String()), tables: Type.Array(Type.String()), types: Type.Array(Type.String()) })

const Fields = {
  url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL the events are POSTed to' }),
  description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  events: Type.Optional(Filter),
  enabled: Type.Optional(Type.Boolean()),
}
const CreateBody = Type.Object(Fields, { additionalProperties: false })
const UpdateBody = Type.Object({ ...Fields, url: Type.Optional(Fields.url) }, { additionalProperties: false, minProperties: 1 })

const WebhookRecord = Type.Object({
  id: Type.String({ format: 'uuid' }),
  url: Type.String(),
  description: Nullable(Type.String()),
  events: FilterRecord,
  enabled: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
})
const DeliveryRecord = Type.Object({
  id: Type.String({ format: 'uuid', description: 'also the webhook-id header of every attempt' }),
  endpoint_id: Type.String({ format: 'uuid' }),
  event_id: Nullable(Type.Integer()),
  event_type: Type.String(),
  status: Type.Union(['pending', 'retrying', 'succeeded', 'failed'].map((s) => Type.Literal(s))),
  attempts: Type.Integer(),
  response_status: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  job_id: Nullable(Type.String({ format: 'uuid' })),
  created_at: Timestamp,
  updated_at: Timestamp,
  delivered_at: Nullable(Timestamp),
})
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) })
const DeliveryParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }), delivery_id: Type.String({ minLength: 1, maxLength: 100 }) })
const DeliveryQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'next_cursor of the previous page' })),
}, { additionalProperties: false })

type Id = { id: string }

export function webhookRoutes(app: FastifyInstance, services: WebhookRouteDeps): void {
  const admin = (operation: string) => ({ operation, access: 'admin' as const })
  const tags = ['admin']
  const { webhooks } = services

  app.get('/admin/webhooks', {
    config: admin('admin.webhooks.list'),
    schema: { summary: 'List webhook endpoints (never their secrets)', tags, response: { 200: envelope(Type.Object({ webhooks: Type.Array(WebhookRecord) })) } },
  }, async () => {
    const list = await webhooks.list()
    return gatewaySuccess(`Listed ${plural(list.length, 'webhook')}`, { webhooks: list })
  })

  app.post('/admin/webhooks', {
    config: admin('admin.webhooks.create'),
    schema: {
      summary: 'Create a webhook endpoint; its signing secret (whsec_…) is returned once, in this answer',
      tags, body: CreateBody, response: { 201: envelope(Type.Object({ webhook: WebhookRecord, secret: Type.String() })) },
    },
  }, async (req, reply) => {
    const created = await webhooks.create(req.body as { url: string })
    return reply.status(201).send(gatewaySuccess(`Created webhook ${created.webhook.id}; store its secret now, it is not shown again`, created))
  })

  app.get('/admin/webhooks/:id', {
    config: admin('admin.webhooks.get'),
    schema: { summary: 'One webhook endpoint', tags, params: IdParams, response: { 200: envelope(Type.Object({ webhook: WebhookRecord })) } },
  }, async (req) => {
    const webhook = await webhooks.get((req.params as Id).id)
    return gatewaySuccess(`Webhook ${webhook.id}`, { webhook })
  })

  app.patch('/admin/webhooks/:id', {
    config: admin('admin.webhooks.update'),
    schema: { summary: 'Update a webhook endpoint (url, description, event filter, enabled)', tags, params: IdParams, body: UpdateBody, response: { 200: envelope(Type.Object({ webhook: WebhookRecord })) } },
  }, async (req) => {
    const webhook = await webhooks.update((req.params as Id).id, req.body as EndpointChanges)
    return gatewaySuccess(`Updated webhook ${webhook.id}`, { webhook })
  })

  app.delete('/admin/webhooks/:id', {
    config: admin('admin.webhooks.delete'),
    schema: { summary: 'Delete a webhook endpoint and its delivery records', tags, params: IdParams, response: { 200: envelope(Type.Object({ id: Type.String() })) } },
  }, async (req) => {
    const { id } = req.params as Id
    await webhooks.remove(id)
    return gatewaySuccess(`Deleted webhook ${id}`, { id })
  })

  app.get('/admin/webhooks/:id/deliveries', {
    config: admin('admin.webhooks.deliveries'),
    schema: {
      summary: "A webhook's deliveries, newest first: status, attempts, last response code and error (paged by cursor)",
      tags, params: IdParams, querystring: DeliveryQuery, response: { 200: envelope(Type.Object({ deliveries: Type.Array(DeliveryRecord), next_cursor: Nullable(Type.String()) })) },
    },
  }, async (req) => {
    const page = await webhooks.deliveries((req.params as Id).id, req.query as { limit?: number; cursor?: string })
    const n = page.deliveries.length
    return gatewaySuccess(`Listed ${n} ${n === 1 ? 'delivery' : 'deliveries'}`, page)
  })

  app.post('/admin/webhooks/:id/test', {
    config: admin('admin.webhooks.test'),
    schema: { summary: 'Send a webhook.test event to this endpoint only', tags, params: IdParams, response: { 202: envelope(Type.Object({ delivery: DeliveryRecord })) } },
  }, async (req, reply) => {
    const delivery = await webhooks.sendTest((req.params as Id).id)
    return reply.status(202).send(gatewaySuccess(`Queued test delivery ${delivery.id}`, { delivery }))
  })

  app.post('/admin/webhooks/:id/deliveries/:delivery_id/replay', {
    config: admin('admin.webhooks.replay'),
    schema: { summary: 'Send a finished delivery again, with the same webhook-id and body', tags, params: DeliveryParams, response: { 202: envelope(Type.Object({ delivery: DeliveryRecord })) } },
  }, async (req, reply) => {
    const { id, delivery_id: deliveryId } = req.params as { id: string; delivery_id: string }
    const delivery = await webhooks.replay(id, deliveryId)
    return reply.status(202).send(gatewaySuccess(`Queued replay of delivery ${delivery.id}`, { delivery }))
  })
}
