// /api/v1/agents: a tenant's MCP and A2A agents, their test handshake, tools and rate limits (docs/agents.md).
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Agent, AgentInput, AgentUpdate } from '../../agents/agents-service.js'
import type { Window as ListWindow } from '../../tenancy/paging.js'
import { actorOf } from './access.js'
import type { WorkspaceDeps } from './deps.js'
import { Description, idParam, Name, routeOptions, Window } from './schemas.js'

const Protocol = Type.Union([Type.Literal('MCP'), Type.Literal('A2A')])
const EndpointUrl = Type.String({ minLength: 1, maxLength: 2000 })
const Json = Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()])
const ProjectRole = Type.Union([Type.String({ maxLength: 200 }), Type.Null()])
// an Atrium extension: headers sent to the agent (e.g. Authorization); checked in agent-auth.ts, whose messages
// name the offending header, so the schema only asks for an object
const AuthHeaders = Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
  description: 'Atrium extension: header name → value sent on every connection to the agent (at most 8; values sealed at rest, never returned — answers list the names). null removes them',
})
const AgentBody = Type.Object({
  name: Name,
  description: Type.Optional(Description),
  protocol: Protocol,
  endpoint_url: EndpointUrl,
  capabilities: Type.Optional(Json),
  agent_metadata: Type.Optional(Json),
  project_id: Type.String({ minLength: 1, maxLength: 100 }),
  role: Type.Optional(ProjectRole),
  auth_headers: Type.Optional(AuthHeaders),
})
const AgentUpdateBody = Type.Object({
  name: Type.Optional(Type.Union([Name, Type.Null()])),
  description: Type.Optional(Description),
  protocol: Type.Optional(Type.Union([Protocol, Type.Null()])),
  endpoint_url: Type.Optional(Type.Union([EndpointUrl, Type.Null()])),
  capabilities: Type.Optional(Json),
  agent_metadata: Type.Optional(Json),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('inactive'), Type.Null()])),
  auth_headers: Type.Optional(AuthHeaders),
})
// the DataCovey body sends each rate as a number or a decimal string; 0 = unlimited
const Rate = Type.Union([Type.Integer({ minimum: 0, maximum: 1_000_000 }), Type.String({ pattern: '^[0-9]{1,7}(\\.0+)?$' })])
const RateLimitBody = Type.Object({
  max_requests_per_second: Rate,
  max_requests_per_minute: Rate,
  max_requests_per_hour: Rate,
  max_concurrency: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
})
const agentParams = idParam('agent_id')
type AgentReq = FastifyRequest<{ Params: { agent_id: string } }>

/** where clients send this agent's messages through Atrium (the agent gateway, on this server's own origin) */
export const withGatewayUrl = <T extends Agent>(req: FastifyRequest, agent: T) => ({ ...agent, gateway_url: `${req.protocol}://${req.host}/api/v1/agent-gateway/route` })

export function agentRoutes(app: FastifyInstance, { agents }: WorkspaceDeps): void {
  app.post('/api/v1/agents', routeOptions('agents.create', 'agents', 'Create Agent', { body: AgentBody }), async (req, reply) => {
    reply.status(201)
    return withGatewayUrl(req, await agents.createAgent(actorOf(req), req.body as AgentInput))
  })
  app.get('/api/v1/agents', routeOptions('agents.list', 'agents', 'List Agents', { querystring: Window }), async (req) => ({
    agents: (await agents.listAgents(actorOf(req), req.query as ListWindow)).map((a) => withGatewayUrl(req, a)),
  }))
  app.get('/api/v1/agents/:agent_id', routeOptions('agents.get', 'agents', 'Get Agent', { params: agentParams }), async (req: AgentReq) =>
    withGatewayUrl(req, await agents.getAgent(actorOf(req), req.params.agent_id)))
  const update = async (req: AgentReq) => withGatewayUrl(req, await agents.updateAgent(actorOf(req), req.params.agent_id, req.body as AgentUpdate))
  app.put('/api/v1/agents/:agent_id', routeOptions('agents.update', 'agents', 'Update Agent', { params: agentParams, body: AgentUpdateBody }), update)
  app.patch('/api/v1/agents/:agent_id', routeOptions('agents.update', 'agents', 'Update Agent', { params: agentParams, body: AgentUpdateBody }), update)
  app.delete('/api/v1/agents/:agent_id', routeOptions('agents.delete', 'agents', 'Delete Agent', { params: agentParams }), async (req: AgentReq, reply) => {
    await agents.archiveAgent(actorOf(req), req.params.agent_id)
    reply.status(204)
  })
  app.post('/api/v1/agents/:agent_id/test', routeOptions('agents.test', 'agents', 'Test Agent Connection', { params: agentParams }), async (req: AgentReq) =>
    agents.testAgent(actorOf(req), req.params.agent_id))
  app.get('/api/v1/agents/:agent_id/tools', routeOptions('agents.tools', 'agents', 'Get Agent Tools', { params: agentParams }), async (req: AgentReq) =>
    agents.tools(actorOf(req), req.params.agent_id))
  app.get('/api/v1/agents/:agent_id/rate-limit', routeOptions('agents.rate_limit.get', 'agents', 'Get Agent Rate Limit', { params: agentParams }), async (req: AgentReq) =>
    agents.getRateLimit(actorOf(req), req.params.agent_id))
  app.put('/api/v1/agents/:agent_id/rate-limit', routeOptions('agents.rate_limit.update', 'agents', 'Update Agent Rate Limit', { params: agentParams, body: RateLimitBody }), async (req: AgentReq) => {
    const body = req.body as { max_requests_per_second: number | string; max_requests_per_minute: number | string; max_requests_per_hour: number | string; max_concurrency?: number }
    return agents.setRateLimit(actorOf(req), req.params.agent_id, {
      perSecond: Number(body.max_requests_per_second),
      perMinute: Number(body.max_requests_per_minute),
      perHour: Number(body.max_requests_per_hour),
      concurrency: body.max_concurrency,
    })
  })
}
