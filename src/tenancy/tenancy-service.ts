// Workspace tenants, their users and invitations (atrium.ws_tenants, ws_users, ws_invitations), and the
// one place a session token becomes a Workspace user. Framework-free; every read and write is scoped to the
// actor's tenant, so another tenant's id is not found (404), never forbidden.
import { createHash, randomBytes } from 'node:crypto'
import type { Catalog } from '../catalog/catalog.js'
import { AppError } from '../errors/app-error.js'
import type { UserPrincipal } from '../auth/principal.js'
import { isUuid, type Window } from './paging.js'
import { requireRole, type Role, type WorkspaceActor } from './roles.js'

export interface Tenant {
  id: string
  name: string
  created_at: Date
  archived_at: Date | null
}

export interface WorkspaceUser {
  id: string
  tenant_id: string
  email: string
  name: string
  role: Role
  identity_provider_id: string | null
  created_at: Date
}

export interface UserInput {
  email: string
  name: string
  role: Role
}

export interface TenancyDeps {
  catalog: Catalog
  /** how long an invitation may wait for its first sign-in */
  invitationTtlHours: number
}

const USER_COLUMNS = 'id, tenant_id, email, name, role, identity_provider_id, created_at'

export class Tenancy {
  constructor(private readonly deps: TenancyDeps) {}

  // ---- tenants (the platform administrator creates and deletes them) ----

  async createTenant(name: string): Promise<Tenant> {
    const [row] = await this.deps.catalog.rows<Tenant>('INSERT INTO atrium.ws_tenants (name) VALUES ($1) RETURNING *', [name])
    return row!
  }

  /** every live tenant for the platform administrator; a user sees only its own */
  async listTenants(onlyId: string | null, w: Window): Promise<Tenant[]> {
    return this.deps.catalog.rows<Tenant>(
      `SELECT * FROM atrium.ws_tenants WHERE archived_at IS NULL AND ($1::uuid IS NULL OR id = $1) ORDER BY created_at, id OFFSET $2 LIMIT $3`,
      [onlyId, w.skip, w.limit],
    )
  }

  /** a live tenant, or 404 */
  async getTenant(id: string): Promise<Tenant> {
    const [row] = isUuid(id) ? await this.deps.catalog.rows<Tenant>('SELECT * FROM atrium.ws_tenants WHERE id = $1 AND archived_at IS NULL', [id]) : []
    if (!row) throw new AppError('tenant_not_found', `no tenant ${id}`)
    return row
  }

  async renameTenant(id: string, name: string): Promise<Tenant> {
    const [row] = await this.deps.catalog.rows<Tenant>('UPDATE atrium.ws_tenants SET name = $2 WHERE id = $1 AND archived_at IS NULL RETURNING *', [id, name])
    if (!row) throw new AppError('tenant_not_found', `no tenant ${id}`)
    return row
  }

  async archiveTenant(id: string): Promise<void> {
    const [row] = isUuid(id) ? await this.deps.catalog.rows('UPDATE atrium.ws_tenants SET archived_at = now() WHERE id = $1 AND archived_at IS NULL RETURNING id', [id]) : []
    if (!row) throw new AppError('tenant_not_found', `no tenant ${id}`)
  }

  // ---- users ----

  async listUsers(actor: WorkspaceActor, w: Window): Promise<WorkspaceUser[]> {
    requireRole(actor, 'users.read')
    return this.deps.catalog.rows<WorkspaceUser>(
      `SELECT ${USER_COLUMNS} FROM atrium.ws_users WHERE tenant_id = $1 AND archived_at IS NULL ORDER BY created_at, id OFFSET $2 LIMIT $3`,
      [actor.tenantId, w.skip, w.limit],
    )
  }

  async getUser(actor: WorkspaceActor, id: string): Promise<WorkspaceUser> {
    requireRole(actor, 'users.read')
    return this.findUser(actor.tenantId, id)
  }

  async createUser(actor: WorkspaceActor, input: UserInput): Promise<WorkspaceUser> {
    requireRole(actor, 'users.write')
    const [row] = await this.deps.catalog.rows<WorkspaceUser>(
      `INSERT INTO atrium.ws_users (tenant_id, email, name, role) VALUES ($1, $2, $3, $4) RETURNING ${USER_COLUMNS}`,
      [actor.tenantId, input.email, input.name, input.role],
    ).catch(emailTaken(input.email))
    return row!
  }

  async updateUser(actor: WorkspaceActor, id: string, input: UserInput): Promise<WorkspaceUser> {
    requireRole(actor, 'users.write')
    await this.findUser(actor.tenantId, id)
    const [row] = await this.deps.catalog.rows<WorkspaceUser>(
      `UPDATE atrium.ws_users SET email = $3, name = $4, role = $5 WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL RETURNING ${USER_COLUMNS}`,
      [actor.tenantId, id, input.email, input.name, input.role],
    ).catch(emailTaken(input.email))
    if (!row) throw userNotFound(id)
    return row
  }

  async setRole(actor: WorkspaceActor, id: string, role: Role): Promise<WorkspaceUser> {
    requireRole(actor, 'users.write')
    const [row] = isUuid(id) ? await this.deps.catalog.rows<WorkspaceUser>(
      `UPDATE atrium.ws_users SET role = $3 WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL RETURNING ${USER_COLUMNS}`,
      [actor.tenantId, id, role],
    ) : []
    if (!row) throw userNotFound(id)
    return row
  }

  /** soft delete: the user leaves lists, and its session tokens are refused from now on */
  async archiveUser(actor: WorkspaceActor, id: string): Promise<void> {
    requireRole(actor, 'users.write')
    if (actor.kind === 'user' && actor.userId === id) {
      throw new AppError('invalid_request', 'you cannot delete yourself', { hint: 'another Org admin of the tenant can' })
    }
    const [row] = isUuid(id) ? await this.deps.catalog.rows(
      'UPDATE atrium.ws_users SET archived_at = now() WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL RETURNING id',
      [actor.tenantId, id],
    ) : []
    if (!row) throw userNotFound(id)
  }

  /**
   * An invitation: the invitee becomes a user of the tenant on the first sign-in with a token carrying the
   * invited e-mail, before it expires. The token is returned once (for the invitation link) and stored hashed.
   */
  async invite(actor: WorkspaceActor, input: UserInput): Promise<{ id: string; tenant_id: string; email: string; name: string; role: Role; created_at: Date; expires_at: Date; invitation_token: string }> {
    requireRole(actor, 'users.write')
    const [live] = await this.deps.catalog.rows('SELECT 1 FROM atrium.ws_users WHERE lower(email) = lower($1) AND archived_at IS NULL', [input.email])
    if (live) throw emailTakenError(input.email)
    const token = `inv_${randomBytes(24).toString('base64url')}`
    const [row] = await this.deps.catalog.rows<{ id: string; tenant_id: string; email: string; name: string; role: Role; created_at: Date; expires_at: Date }>(
      `INSERT INTO atrium.ws_invitations (tenant_id, email, name, role, token_hash, invited_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(hours => $7)) RETURNING id, tenant_id, email, name, role, created_at, expires_at`,
      [actor.tenantId, input.email, input.name, input.role, sha256(token), actor.kind === 'user' ? actor.userId : null, this.deps.invitationTtlHours],
    )
    return { ...row!, invitation_token: token }
  }

  /**
   * The Workspace user a verified session token belongs to: by `sub` (identity_provider_id), else by e-mail
   * (binding the sub on that first match), else a pending invitation's user, created now. A deleted user, or a
   * token nobody was created or invited for, is a 401.
   */
  async userOfSession(principal: UserPrincipal): Promise<WorkspaceUser> {
    const { sub, email } = principal
    const [bySub] = await this.deps.catalog.rows<WorkspaceUser>(`SELECT ${USER_COLUMNS} FROM atrium.ws_users WHERE identity_provider_id = $1 AND archived_at IS NULL`, [sub])
    if (bySub) return this.liveTenant(bySub)
    if (email) {
      const [bound] = await this.deps.catalog.rows<WorkspaceUser>(
        `UPDATE atrium.ws_users SET identity_provider_id = $1 WHERE lower(email) = lower($2) AND archived_at IS NULL AND identity_provider_id IS NULL RETURNING ${USER_COLUMNS}`,
        [sub, email],
      )
      if (bound) return this.liveTenant(bound)
      const accepted = await this.acceptInvitation(sub, email)
      if (accepted) return this.liveTenant(accepted)
    }
    const [deleted] = await this.deps.catalog.rows('SELECT 1 FROM atrium.ws_users WHERE identity_provider_id = $1 OR lower(email) = lower($2) LIMIT 1', [sub, email ?? ''])
    throw new AppError('workspace_user_unknown', deleted ? 'this user has been deleted' : 'the session token belongs to no Workspace user', {
      hint: deleted ? 'an Org admin of the tenant can create the user again' : 'an Org admin must create or invite a user with this e-mail first',
    })
  }

  private async acceptInvitation(sub: string, email: string): Promise<WorkspaceUser | null> {
    return this.deps.catalog.transaction(async (tx) => {
      const invitation = (await tx.query({
        sql: `SELECT id, tenant_id, email, name, role FROM atrium.ws_invitations
              WHERE lower(email) = lower($1) AND accepted_user_id IS NULL AND expires_at > now()
              ORDER BY created_at DESC LIMIT 1 FOR UPDATE`,
        params: [email],
      })).rows[0] as { id: string; tenant_id: string; email: string; name: string; role: Role } | undefined
      if (!invitation) return null
      const user = (await tx.query({
        sql: `INSERT INTO atrium.ws_users (tenant_id, email, name, role, identity_provider_id) VALUES ($1, $2, $3, $4, $5) RETURNING ${USER_COLUMNS}`,
        params: [invitation.tenant_id, invitation.email, invitation.name, invitation.role, sub],
      })).rows[0] as unknown as WorkspaceUser
      await tx.query({ sql: 'UPDATE atrium.ws_invitations SET accepted_user_id = $2 WHERE id = $1', params: [invitation.id, user.id] })
      return user
    })
  }

  /** a user of a deleted tenant is refused like a deleted user */
  private async liveTenant(user: WorkspaceUser): Promise<WorkspaceUser> {
    const [tenant] = await this.deps.catalog.rows('SELECT 1 FROM atrium.ws_tenants WHERE id = $1 AND archived_at IS NULL', [user.tenant_id])
    if (!tenant) throw new AppError('workspace_user_unknown', 'the user\'s tenant has been deleted')
    return user
  }

  private async findUser(tenantId: string, id: string): Promise<WorkspaceUser> {
    const [row] = isUuid(id) ? await this.deps.catalog.rows<WorkspaceUser>(
      `SELECT ${USER_COLUMNS} FROM atrium.ws_users WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL`,
      [tenantId, id],
    ) : []
    if (!row) throw userNotFound(id)
    return row
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

const userNotFound = (id: string) => new AppError('workspace_user_not_found', `no user ${id} in your tenant`)

const emailTakenError = (email: string) => new AppError('workspace_email_taken', `a user with the e-mail ${email} already exists`, {
  hint: 'e-mail addresses identify users across all tenants; pick another or delete the existing user',
})

/** the unique index on live e-mails answers a race the same way as the check */
function emailTaken(email: string) {
  return (err: unknown): never => {
    if (err instanceof AppError && err.code === 'unique_violation') throw emailTakenError(email)
    throw err
  }
}
