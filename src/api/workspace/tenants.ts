// /api/v1/tenants: the platform administrator (the admin key) creates, lists, renames and deletes tenants;
// a user sees its own tenant, and its Org admins may rename it.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import { requireRole } from '../../tenancy/roles.js'
import type { Window as ListWindow } from '../../tenancy/paging.js'
import { actorOf, requirePlatformAdmin } from './access.js'
import type { WorkspaceDeps } from './deps.js'
import { idParam, Name, routeOptions, Window } from './schemas.js'

const params = idParam('tenant_id')
const UpdateBody = Type.Object({ name: Type.Optional(Type.Union([Name, Type.Null()])) })
type Req = FastifyRequest<{ Params: { tenant_id: string } }>

export function tenantRoutes(app: FastifyInstance, { tenancy }: WorkspaceDeps): void {
  app.post('/api/v1/tenants', routeOptions('tenants.create', 'tenants', 'Create Tenant', { body: Type.Object({ name: Name }) }), async (req, reply) => {
    requirePlatformAdmin(req)
    reply.status(201)
    return tenancy.createTenant((req.body as { name: string }).name)
  })

  app.get('/api/v1/tenants', routeOptions('tenants.list', 'tenants', 'List Tenants', { querystring: Window }), async (req) => {
    const caller = req.workspace!
    return { tenants: await tenancy.listTenants(caller.kind === 'user' ? caller.tenantId : null, req.query as ListWindow) }
  })

  app.get('/api/v1/tenants/:tenant_id', routeOptions('tenants.get', 'tenants', 'Get Tenant', { params }), async (req: Req) => {
    ownTenant(req, req.params.tenant_id)
    return tenancy.getTenant(req.params.tenant_id)
  })

  const update = async (req: Req) => {
    const id = req.params.tenant_id
    ownTenant(req, id)
    if (req.workspace!.kind === 'user') requireRole(actorOf(req), 'tenant.update')
    const { name } = req.body as { name?: string | null }
    return name == null ? tenancy.getTenant(id) : tenancy.renameTenant(id, name)
  }
  app.put('/api/v1/tenants/:tenant_id', routeOptions('tenants.update', 'tenants', 'Update Tenant', { params, body: UpdateBody }), update)
  app.patch('/api/v1/tenants/:tenant_id', routeOptions('tenants.update', 'tenants', 'Update Tenant', { params, body: UpdateBody }), update)

  app.delete('/api/v1/tenants/:tenant_id', routeOptions('tenants.delete', 'tenants', 'Delete Tenant', { params }), async (req: Req, reply) => {
    requirePlatformAdmin(req)
    await tenancy.archiveTenant(req.params.tenant_id)
    reply.status(204)
  })
}

/** a user names only its own tenant; another tenant's id is a 404 like an unknown one */
function ownTenant(req: FastifyRequest, id: string): void {
  const caller = req.workspace!
  if (caller.kind === 'user' && caller.tenantId !== id.toLowerCase()) throw new AppError('tenant_not_found', `no tenant ${id}`)
}
