// /api/v1/users: the tenant's users, the caller (me), invitations, role changes and soft deletes.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import type { Window as ListWindow } from '../../tenancy/paging.js'
import type { Role as RoleName } from '../../tenancy/roles.js'
import type { UserInput } from '../../tenancy/tenancy-service.js'
import { actorOf } from './access.js'
import type { WorkspaceDeps } from './deps.js'
import { Email, idParam, Name, Role, routeOptions, Window } from './schemas.js'

const UserBody = Type.Object({ email: Email, name: Name, role: Type.Optional(Role) })
const params = idParam('user_id')
type Req = FastifyRequest<{ Params: { user_id: string } }>

const input = (body: unknown): UserInput => {
  const b = body as { email: string; name: string; role?: RoleName }
  return { email: b.email, name: b.name, role: b.role ?? 'Dataset user' }
}

export function userRoutes(app: FastifyInstance, { tenancy }: WorkspaceDeps): void {
  app.get('/api/v1/users', routeOptions('users.list', 'users', 'Get Tenant Users', { querystring: Window }), async (req) => ({
    users: await tenancy.listUsers(actorOf(req), req.query as ListWindow),
  }))

  app.post('/api/v1/users', routeOptions('users.create', 'users', 'Create User', { body: UserBody }), async (req, reply) => {
    reply.status(201)
    return tenancy.createUser(actorOf(req), input(req.body))
  })

  app.get('/api/v1/users/me', routeOptions('users.me', 'users', 'Get Current User'), async (req) => {
    const caller = req.workspace!
    // the admin key is no user: inside a tenant it may read that tenant's users, not be one
    if (caller.kind !== 'user') throw new AppError('workspace_user_unknown', 'the admin key is not a Workspace user', { hint: 'sign in with a session token' })
    return tenancy.getUser(caller, caller.userId)
  })

  app.post('/api/v1/users/invite', routeOptions('users.invite', 'users', 'Invite New User', { body: UserBody }), async (req, reply) => {
    const invitation = await tenancy.invite(actorOf(req), input(req.body))
    reply.status(201)
    // the user's shape (id is the invitation's until the first sign-in), plus the token shown once
    return { ...invitation, identity_provider_id: null }
  })

  app.get('/api/v1/users/:user_id', routeOptions('users.get', 'users', 'Get User', { params }), async (req: Req) => tenancy.getUser(actorOf(req), req.params.user_id))

  const update = async (req: Req) => tenancy.updateUser(actorOf(req), req.params.user_id, input(req.body))
  app.put('/api/v1/users/:user_id', routeOptions('users.update', 'users', 'Update User', { params, body: UserBody }), update)
  app.patch('/api/v1/users/:user_id', routeOptions('users.update', 'users', 'Update User', { params, body: UserBody }), update)

  app.delete('/api/v1/users/:user_id', routeOptions('users.delete', 'users', 'Delete User Endpoint', { params }), async (req: Req) => {
    await tenancy.archiveUser(actorOf(req), req.params.user_id)
    return { message: 'User deleted successfully' }
  })

  const RoleBody = Type.Object({ role: Role })
  const setRole = async (req: Req) => tenancy.setRole(actorOf(req), req.params.user_id, (req.body as { role: RoleName }).role)
  app.put('/api/v1/users/:user_id/role', routeOptions('users.role', 'users', 'Update User Role Endpoint', { params, body: RoleBody }), setRole)
  app.patch('/api/v1/users/:user_id/role', routeOptions('users.role', 'users', 'Update User Role Endpoint', { params, body: RoleBody }), setRole)
}
