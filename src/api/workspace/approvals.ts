// /api/v1/approvals: project↔tenant and project↔dataset requests, reviewed by the Org admins of the other side,
// and the expiry an external scheduler may trigger (the admin key, or `internal_token` when one is configured).
import { timingSafeEqual, createHash } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import { adminKeyMatcher } from '../../http/access-control.js'
import { presentedKey } from '../../http/credentials.js'
import { actorOf } from './access.js'
import type { WorkspaceDeps } from './deps.js'
import { idParam, routeOptions } from './schemas.js'

const Id = Type.String({ minLength: 1, maxLength: 100 })
const approvalParams = idParam('approval_id')
type ApprovalReq = FastifyRequest<{ Params: { approval_id: string } }>

export function approvalRoutes(app: FastifyInstance, { approvals, adminKey, approvalsInternalToken, rateLimits }: WorkspaceDeps): void {
  app.post('/api/v1/approvals/project-tenant', routeOptions('approvals.project_tenant', 'approvals', 'Create Project Tenant Approval', { body: Type.Object({ project_id: Id, tenant_id: Id }) }), async (req, reply) => {
    reply.status(201)
    return approvals.requestTenant(actorOf(req), req.body as { project_id: string; tenant_id: string })
  })
  app.post('/api/v1/approvals/project-dataset', routeOptions('approvals.project_dataset', 'approvals', 'Create Project Dataset Approval', { body: Type.Object({ project_id: Id, dataset_id: Id }) }), async (req, reply) => {
    reply.status(201)
    return approvals.requestDataset(actorOf(req), req.body as { project_id: string; dataset_id: string })
  })
  app.get('/api/v1/approvals/pending', routeOptions('approvals.pending', 'approvals', 'List Pending Approvals'), async (req) => approvals.pending(actorOf(req)))

  // the external scheduler's call: no session, so the route checks its own credential before anything else
  const isAdminKey = adminKeyMatcher(adminKey)
  const tokenDigest = approvalsInternalToken ? sha256(approvalsInternalToken) : null
  app.post('/api/v1/approvals/expire', {
    config: { operation: 'workspace.approvals.expire', access: 'public' },
    schema: { tags: ['approvals'], summary: 'Expire Approvals', querystring: Type.Object({ internal_token: Type.Optional(Type.String({ maxLength: 500 })) }) },
  }, async (req) => {
    const key = presentedKey(req)
    const token = (req.query as { internal_token?: string }).internal_token
    // a presented credential counts against its address, so the token cannot be guessed faster than the limit
    if (key || token !== undefined) await rateLimits.checkAddress(req.ip)
    const byToken = token !== undefined && tokenDigest !== null && timingSafeEqual(sha256(token), tokenDigest)
    if (!(key && isAdminKey(key)) && !byToken) {
      throw new AppError('authentication_required', token === undefined ? 'send the admin key, or ?internal_token=<workspace.approvalsInternalToken>' : 'the internal token does not match', {
        hint: 'workspace.approvalsInternalToken (ATRIUM_WORKSPACE_APPROVALS_INTERNAL_TOKEN) sets the token',
      })
    }
    return approvals.expire()
  })

  app.get('/api/v1/approvals/:approval_id', routeOptions('approvals.get', 'approvals', 'Get Approval Details', { params: approvalParams }), async (req: ApprovalReq) =>
    approvals.details(actorOf(req), req.params.approval_id))
  app.post('/api/v1/approvals/:approval_id/approve', routeOptions('approvals.approve', 'approvals', 'Approve Request', { params: approvalParams }), async (req: ApprovalReq) =>
    approvals.approve(actorOf(req), req.params.approval_id))
  const RejectBody = Type.Object({ rejection_reason: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])) })
  app.post('/api/v1/approvals/:approval_id/reject', routeOptions('approvals.reject', 'approvals', 'Reject Request', { params: approvalParams, body: RejectBody }), async (req: ApprovalReq) =>
    approvals.reject(actorOf(req), req.params.approval_id, (req.body as { rejection_reason?: string | null } | undefined)?.rejection_reason ?? null))
}

const sha256 = (text: string) => createHash('sha256').update(text).digest()
