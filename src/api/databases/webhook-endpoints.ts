// /api/v1/webhook_endpoints*: a team's webhook endpoints for the Databases API's events (create with the
// secret shown once, list, revoke, deliveries, test deliveries), delivered by the one webhooks engine.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import { TEAM_EVENT_TYPES, type TeamDelivery, type TeamEndpoint } from '../../webhooks/team-endpoints.js'
import { teamsOf } from './databases.js'
import type { DatabasesApiDeps } from './deps.js'
import { ok } from './envelope.js'

const CreateBody = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL the events are POSTed to' }),
  events: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 20, description: `any of ${TEAM_EVENT_TYPES.join(', ')}; empty = all` })),
  team_id: Type.Optional(Type.Integer({ minimum: 1 })),
}, { additionalProperties: false })
const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25 })),
  starting_after: Type.Optional(Type.Integer({ minimum: 1 })),
}, { additionalProperties: false })
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) })

const tags = ['webhook_endpoints']
/** how long a test delivery's answer waits for its first attempt's outcome */
const TEST_WAIT_MS = 10_000

const iso = (t: string | null) => t && new Date(t).toISOString()

function endpointView(e: TeamEndpoint) {
  return {
    object: 'webhook_endpoint',
    id: e.number,
    url: e.url,
    events: e.events,
    status: e.revoked_at ? 'revoked' : 'active',
    team_id: Number(e.owner.slice('team:'.length)),
    last_success_at: iso(e.last_success_at),
    last_failure_at: iso(e.last_failure_at),
    revoked_at: iso(e.revoked_at),
    created_at: iso(e.created_at),
  }
}

function deliveryView(d: TeamDelivery) {
  return {
    object: 'webhook_delivery',
    id: d.number,
    endpoint_id: d.endpoint_number,
    event_type: d.event_type,
    // a delivery being retried is still pending for the receiver
    status: d.status === 'succeeded' ? 'delivered' : d.status === 'failed' ? 'failed' : 'pending',
    response_code: d.response_status,
    error_message: d.last_error,
    attempt_count: d.attempts,
    created_at: iso(d.created_at),
  }
}

export function webhookEndpointRoutes(app: FastifyInstance, deps: DatabasesApiDeps): void {
  const { teamWebhooks } = deps

  app.get('/webhook_endpoints', {
    config: { operation: 'webhook_endpoints.list', scope: 'webhooks:read' },
    schema: { summary: "The teams' webhook endpoints, newest first (cursor: starting_after)", tags, querystring: ListQuery },
  }, async (req) => {
    const q = req.query as Static<typeof ListQuery>
    const page = await teamWebhooks.list(teamsOf(req).teamIds, q.limit ?? 25, q.starting_after)
    return { data: page.data.map(endpointView), has_more: page.hasMore, request_id: req.id }
  })

  app.post('/webhook_endpoints', {
    config: { operation: 'webhook_endpoints.create', scope: 'webhooks:write' },
    schema: { summary: 'Create a webhook endpoint; its signing secret is shown once', tags, body: CreateBody },
  }, async (req, reply) => {
    const body = req.body as Static<typeof CreateBody>
    const scope = teamsOf(req)
    const teamId = body.team_id ?? scope.primaryTeamId
    if (!scope.teamIds.includes(teamId)) throw new AppError('team_not_found', `no team ${teamId}`, { data: { field: 'team_id' } })
    const { endpoint, secret } = await teamWebhooks.create(teamId, body)
    return reply.code(201).send(ok(req, endpointView(endpoint), { message: 'Webhook endpoint created; store the secret now, it is not shown again', secret }))
  })

  app.delete('/webhook_endpoints/:id', {
    config: { operation: 'webhook_endpoints.revoke', scope: 'webhooks:write' },
    schema: { summary: 'Revoke a webhook endpoint: nothing more is delivered to it (the record is kept)', tags, params: IdParams },
  }, async (req) => {
    const endpoint = await teamWebhooks.revoke(teamsOf(req).teamIds, (req.params as { id: number }).id)
    return ok(req, { id: endpoint.number, status: 'revoked' }, { message: 'Webhook endpoint revoked' })
  })

  app.get('/webhook_endpoints/:id/deliveries', {
    config: { operation: 'webhook_endpoints.deliveries', scope: 'webhooks:read' },
    schema: { summary: "An endpoint's deliveries, newest first (cursor: starting_after)", tags, params: IdParams, querystring: ListQuery },
  }, async (req) => {
    const q = req.query as Static<typeof ListQuery>
    const page = await teamWebhooks.deliveries(teamsOf(req).teamIds, (req.params as { id: number }).id, q.limit ?? 25, q.starting_after)
    return { data: page.data.map(deliveryView), has_more: page.hasMore, request_id: req.id }
  })

  app.post('/webhook_endpoints/:id/test_deliveries', {
    config: { operation: 'webhook_endpoints.test', scope: 'webhooks:write' },
    schema: { summary: 'Send a signed webhook.test event to the endpoint; answers with its first outcome (or pending)', tags, params: IdParams },
  }, async (req) => {
    const teams = teamsOf(req).teamIds
    const id = (req.params as { id: number }).id
    const sent = await teamWebhooks.sendTest(teams, id)
    // the first attempt usually finishes at once; the answer waits for it, bounded
    const until = Date.now() + TEST_WAIT_MS
    let delivery = sent
    while (delivery.status === 'pending' && delivery.attempts === 0 && Date.now() < until && !req.deadlineSignal()?.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      delivery = await teamWebhooks.delivery(teams, id, sent.number)
    }
    return ok(req, deliveryView(delivery))
  })
}
