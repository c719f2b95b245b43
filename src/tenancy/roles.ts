// The Workspace roles and the one matrix of what each may do. Framework-free: services call requireRole with
// the caller (a WorkspaceActor) and the operation; nothing else compares roles.
import { AppError } from '../errors/app-error.js'

export const ROLES = ['Dataset user', 'Dataset editor', 'Org admin'] as const
export type Role = (typeof ROLES)[number]

/** who is calling a tenant-scoped Workspace route, already tied to one tenant */
export type WorkspaceActor =
  /** the admin key, acting inside the tenant named by X-Tenant-Id */
  | { kind: 'platform-admin'; tenantId: string }
  | { kind: 'user'; tenantId: string; userId: string; role: Role }

/** who presented a credential to the Workspace API, before a tenant-scoped route ties it to a tenant */
export type WorkspaceCaller =
  /** tenantId: from X-Tenant-Id (checked to be a live tenant), or null when the header is absent */
  | { kind: 'platform-admin'; tenantId: string | null }
  | { kind: 'user'; tenantId: string; userId: string; role: Role }

/**
 * The least role each operation needs (docs/workspace.md shows the same table; a test walks it as a grid).
 * The platform administrator (admin key) may do all of them.
 */
export const OPERATION_ROLES = {
  'tenant.read': 'Dataset user',
  'tenant.update': 'Org admin',
  'users.read': 'Dataset user',
  'users.write': 'Org admin',
  'projects.read': 'Dataset user',
  'projects.write': 'Org admin',
  'datasets.read': 'Dataset user',
  'datasets.write': 'Dataset editor',
  'tables.read': 'Dataset user',
  'tables.write': 'Dataset editor',
  'queries.read': 'Dataset user',
  'queries.write': 'Dataset user',
  'queries.run': 'Dataset user',
  /** INSERT, UPDATE, DELETE in a query job, on tables of the project's own datasets */
  'queries.dml': 'Dataset editor',
  /** asking another tenant to join a project, or for a dataset to be shared into it */
  'approvals.request': 'Dataset editor',
  /** listing, reading, approving and rejecting the requests addressed to the tenant */
  'approvals.review': 'Org admin',
  'costs.read': 'Org admin',
  'agents.read': 'Dataset user',
  /** register, change, test and delete agents, their rate limits and project assignments */
  'agents.write': 'Org admin',
  /** send messages to agents through the agent gateway */
  'agents.route': 'Dataset user',
  /** reading private columns unmasked, in a query or a result */
  'columns.private': 'Dataset editor',
} as const satisfies Record<string, Role>

export type WorkspaceOperation = keyof typeof OPERATION_ROLES

export const roleRank = (role: Role): number => ROLES.indexOf(role)

export const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value)

/** true when the actor may perform the operation */
export function mayPerform(actor: WorkspaceActor, operation: WorkspaceOperation): boolean {
  return actor.kind === 'platform-admin' || roleRank(actor.role) >= roleRank(OPERATION_ROLES[operation])
}

/** throws 403 workspace_role_required naming the role the operation needs */
export function requireRole(actor: WorkspaceActor, operation: WorkspaceOperation): void {
  if (mayPerform(actor, operation)) return
  const needed = OPERATION_ROLES[operation]
  throw new AppError('workspace_role_required', `this operation needs the "${needed}" role (yours is "${(actor as { role: Role }).role}")`, {
    data: { required_role: needed },
    hint: 'an Org admin of your tenant can change your role with PUT /api/v1/users/{user_id}/role',
  })
}
