// /api/v1/projects/{project_id}/agents: which agents a project may route to (docs/agents.md).
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Window as ListWindow } from '../../tenancy/paging.js'
import { actorOf } from './access.js'
import { withGatewayUrl } from './agents.js'
import type { WorkspaceDeps } from './deps.js'
import { routeOptions, Window } from './schemas.js'

const AssignBody = Type.Object({
  agent_id: Type.String({ minLength: 1, maxLength: 100 }),
  role: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
})
const projectParams = Type.Object({ project_id: Type.String({ minLength: 1, maxLength: 100 }) })
const assignmentParams = Type.Object({ project_id: Type.String({ minLength: 1, maxLength: 100 }), agent_id: Type.String({ minLength: 1, maxLength: 100 }) })
type ProjectReq = FastifyRequest<{ Params: { project_id: string } }>
type AssignmentReq = FastifyRequest<{ Params: { project_id: string; agent_id: string } }>

export function projectAgentRoutes(app: FastifyInstance, { agents }: WorkspaceDeps): void {
  app.post('/api/v1/projects/:project_id/agents', routeOptions('project_agents.assign', 'project-agents', 'Assign Agent To Project', { params: projectParams, body: AssignBody }), async (req: ProjectReq, reply) => {
    const body = req.body as { agent_id: string; role?: string | null }
    reply.status(201)
    return agents.assign(actorOf(req), req.params.project_id, body.agent_id, body.role ?? null)
  })
  app.get('/api/v1/projects/:project_id/agents', routeOptions('project_agents.list', 'project-agents', 'List Project Agents', { params: projectParams, querystring: Window }), async (req: ProjectReq) => ({
    agents: (await agents.listProjectAgents(actorOf(req), req.params.project_id, req.query as ListWindow)).map((a) => withGatewayUrl(req, a)),
  }))
  app.delete('/api/v1/projects/:project_id/agents/:agent_id', routeOptions('project_agents.remove', 'project-agents', 'Remove Agent From Project', { params: assignmentParams }), async (req: AssignmentReq, reply) => {
    await agents.unassign(actorOf(req), req.params.project_id, req.params.agent_id)
    reply.status(204)
  })
}
