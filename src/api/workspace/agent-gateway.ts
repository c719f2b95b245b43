// /api/v1/agent-gateway: messages to a tenant's agents, one (route) or every agent of a project (route-project).
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { actorOf } from './access.js'
import type { WorkspaceDeps } from './deps.js'
import { routeOptions } from './schemas.js'

const Message = Type.Object({}, { additionalProperties: true, description: 'MCP: {"tool", "arguments"}; A2A: {"text"} and/or {"data"}, or {"parts": [...]}' })
const RouteBody = Type.Object({
  agent_id: Type.String({ minLength: 1, maxLength: 100 }),
  message: Message,
  project_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
})
const RouteProjectBody = Type.Object({
  project_id: Type.String({ minLength: 1, maxLength: 100 }),
  message: Message,
})

export function agentGatewayRoutes(app: FastifyInstance, { agentGateway }: WorkspaceDeps): void {
  app.post('/api/v1/agent-gateway/route', routeOptions('agent_gateway.route', 'agent-gateway', 'Route To Agent', { body: RouteBody }), async (req) =>
    agentGateway.route(actorOf(req), req.body as { agent_id: string; message: Record<string, unknown>; project_id?: string | null }))
  app.post('/api/v1/agent-gateway/route-project', routeOptions('agent_gateway.route_project', 'agent-gateway', 'Route To Project Agents', { body: RouteProjectBody }), async (req) =>
    agentGateway.routeProject(actorOf(req), req.body as { project_id: string; message: Record<string, unknown> }))
}
