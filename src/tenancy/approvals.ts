// Workspace approvals (atrium.ws_approvals): a project asks another tenant to join it, or asks for a dataset to
// be shared into it; the request goes to the Org admins of the other side (the invited tenant, the dataset's
// tenant), who approve it (the association is created in the same transaction) or reject it (the reason is
// kept). A pending request expires after `ttlDays`: an hourly scheduled job, or POST /api/v1/approvals/expire
// from an external scheduler, marks it. Framework-free; rows are visible to both sides' tenants only.
import type { Catalog } from '../catalog/catalog.js'
import { AppError } from '../errors/app-error.js'
import type { JobQueue } from '../jobs/job-queue.js'
import type { Executor } from '../sources/driver.js'
import { isUuid } from './paging.js'
import { requireRole, type WorkspaceActor } from './roles.js'

export const APPROVALS_EXPIRY_JOB = 'workspace.approvals-expiry'

export type ApprovalKind = 'project_tenant' | 'project_dataset'
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired'

interface ApprovalRow {
  id: string
  kind: ApprovalKind
  requester_tenant_id: string
  project_id: string
  target_tenant_id: string
  dataset_id: string | null
  status: ApprovalStatus
  requested_by: string | null
  reviewed_by: string | null
  rejection_reason: string | null
  created_at: Date
  expires_at: Date
  reviewed_at: Date | null
  /** status as of now: a pending request past its expiry reads as expired before the job marks it */
  live_status: ApprovalStatus
  project_name: string
  requester_tenant_name: string
  tenant_name: string
  dataset_name: string | null
  requester_name: string | null
  requester_email: string | null
}

export interface ApprovalsDeps {
  catalog: Catalog
  jobs: JobQueue
  /** days a request stays pending before it expires */
  ttlDays: number
}

const APPROVAL_SELECT = `
  SELECT a.*, CASE WHEN a.status = 'pending' AND a.expires_at <= now() THEN 'expired' ELSE a.status END AS live_status,
         p.name AS project_name, rt.name AS requester_tenant_name, tt.name AS tenant_name, d.name AS dataset_name,
         u.name AS requester_name, u.email AS requester_email
  FROM atrium.ws_approvals a
  JOIN atrium.ws_projects p ON p.id = a.project_id
  JOIN atrium.ws_tenants rt ON rt.id = a.requester_tenant_id
  JOIN atrium.ws_tenants tt ON tt.id = a.target_tenant_id
  LEFT JOIN atrium.ws_datasets d ON d.id = a.dataset_id
  LEFT JOIN atrium.ws_users u ON u.id = a.requested_by`

export class Approvals {
  constructor(private readonly deps: ApprovalsDeps) {}

  /** the hourly expiry, run by whichever process has workers */
  async start(): Promise<void> {
    await this.deps.jobs.define(APPROVALS_EXPIRY_JOB, async () => this.expire())
    await this.deps.jobs.schedule(APPROVALS_EXPIRY_JOB, '17 * * * *')
  }

  /** asks the Org admins of `tenantId` to let their tenant join the actor's project */
  async requestTenant(actor: WorkspaceActor, input: { project_id: string; tenant_id: string }): Promise<Record<string, unknown>> {
    requireRole(actor, 'approvals.request')
    await this.ownProject(actor, input.project_id)
    const [tenant] = isUuid(input.tenant_id) ? await this.deps.catalog.rows('SELECT id FROM atrium.ws_tenants WHERE id = $1 AND archived_at IS NULL', [input.tenant_id]) : []
    if (!tenant) throw new AppError('tenant_not_found', `no tenant ${input.tenant_id}`, { data: { loc: ['body', 'tenant_id'] } })
    if (input.tenant_id === actor.tenantId) throw invalid(['body', 'tenant_id'], 'the project\'s own tenant is already part of it; name another tenant')
    const [member] = await this.deps.catalog.rows('SELECT 1 FROM atrium.ws_project_tenants WHERE project_id = $1 AND tenant_id = $2', [input.project_id, input.tenant_id])
    if (member) throw duplicate('this tenant has already joined the project')
    return this.insert(actor, 'project_tenant', input.project_id, input.tenant_id, null)
  }

  /** asks the Org admins of the dataset's tenant to share it into the actor's project (readable there) */
  async requestDataset(actor: WorkspaceActor, input: { project_id: string; dataset_id: string }): Promise<Record<string, unknown>> {
    requireRole(actor, 'approvals.request')
    await this.ownProject(actor, input.project_id)
    // any tenant's dataset may be asked for: its id is given out of band, and nothing of it is shown before approval
    const [dataset] = isUuid(input.dataset_id)
      ? await this.deps.catalog.rows<{ tenant_id: string; project_id: string }>('SELECT tenant_id, project_id FROM atrium.ws_datasets WHERE id = $1 AND archived_at IS NULL', [input.dataset_id])
      : []
    if (!dataset) throw new AppError('dataset_not_found', `no dataset ${input.dataset_id}`, { data: { loc: ['body', 'dataset_id'] } })
    if (dataset.project_id === input.project_id) throw invalid(['body', 'dataset_id'], 'the dataset already belongs to this project')
    const [shared] = await this.deps.catalog.rows('SELECT 1 FROM atrium.ws_project_datasets WHERE project_id = $1 AND dataset_id = $2', [input.project_id, input.dataset_id])
    if (shared) throw duplicate('this dataset is already shared into the project')
    return this.insert(actor, 'project_dataset', input.project_id, dataset.tenant_id, input.dataset_id)
  }

  /** the requests addressed to the actor's tenant that are still pending */
  async pending(actor: WorkspaceActor): Promise<{ project_tenant_approvals: unknown[]; project_dataset_approvals: unknown[] }> {
    requireRole(actor, 'approvals.review')
    const rows = await this.deps.catalog.rows<ApprovalRow>(
      `${APPROVAL_SELECT} WHERE a.target_tenant_id = $1 AND a.status = 'pending' AND a.expires_at > now() ORDER BY a.created_at, a.id`,
      [actor.tenantId],
    )
    return {
      project_tenant_approvals: rows.filter((r) => r.kind === 'project_tenant').map(view),
      project_dataset_approvals: rows.filter((r) => r.kind === 'project_dataset').map(view),
    }
  }

  /** a request seen from either side (the requesting tenant or the reviewing one); any other tenant gets a 404 */
  async details(actor: WorkspaceActor, id: string): Promise<Record<string, unknown>> {
    requireRole(actor, 'approvals.review')
    const row = await this.visible(actor, id)
    return {
      approval: view(row),
      project_tenant_details: row.kind === 'project_tenant'
        ? { project_id: row.project_id, project_name: row.project_name, project_tenant_id: row.requester_tenant_id, project_tenant_name: row.requester_tenant_name, tenant_id: row.target_tenant_id, tenant_name: row.tenant_name }
        : null,
      project_dataset_details: row.kind === 'project_dataset'
        ? { project_id: row.project_id, project_name: row.project_name, project_tenant_id: row.requester_tenant_id, project_tenant_name: row.requester_tenant_name, dataset_id: row.dataset_id, dataset_name: row.dataset_name, dataset_tenant_id: row.target_tenant_id, dataset_tenant_name: row.tenant_name }
        : null,
    }
  }

  /** approves a pending request and creates its association, in one transaction */
  async approve(actor: WorkspaceActor, id: string): Promise<Record<string, unknown>> {
    requireRole(actor, 'approvals.review')
    await this.deps.catalog.transaction(async (tx) => {
      const row = await this.reviewable(actor, id, tx)
      if (row.kind === 'project_tenant') {
        await tx.query({ sql: 'INSERT INTO atrium.ws_project_tenants (project_id, tenant_id, approval_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', params: [row.project_id, row.target_tenant_id, row.id] })
      } else {
        await tx.query({ sql: 'INSERT INTO atrium.ws_project_datasets (project_id, dataset_id, approval_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', params: [row.project_id, row.dataset_id, row.id] })
      }
      await tx.query({ sql: `UPDATE atrium.ws_approvals SET status = 'approved', reviewed_by = $2, reviewed_at = now() WHERE id = $1`, params: [row.id, reviewerOf(actor)] })
    })
    return view(await this.visible(actor, id))
  }

  /** rejects a pending request, keeping the reason */
  async reject(actor: WorkspaceActor, id: string, reason: string | null): Promise<Record<string, unknown>> {
    requireRole(actor, 'approvals.review')
    await this.deps.catalog.transaction(async (tx) => {
      const row = await this.reviewable(actor, id, tx)
      await tx.query({
        sql: `UPDATE atrium.ws_approvals SET status = 'rejected', reviewed_by = $2, reviewed_at = now(), rejection_reason = $3 WHERE id = $1`,
        params: [row.id, reviewerOf(actor), reason],
      })
    })
    return view(await this.visible(actor, id))
  }

  /** marks every pending request past its expiry as expired; returns how many */
  async expire(): Promise<{ expired: number }> {
    const rows = await this.deps.catalog.rows(`UPDATE atrium.ws_approvals SET status = 'expired' WHERE status = 'pending' AND expires_at <= now() RETURNING id`)
    return { expired: rows.length }
  }

  private async insert(actor: WorkspaceActor, kind: ApprovalKind, projectId: string, targetTenantId: string, datasetId: string | null): Promise<Record<string, unknown>> {
    const [row] = await this.deps.catalog.rows<{ id: string }>(
      `INSERT INTO atrium.ws_approvals (kind, requester_tenant_id, project_id, target_tenant_id, dataset_id, requested_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(days => $7)) RETURNING id`,
      [kind, actor.tenantId, projectId, targetTenantId, datasetId, actor.kind === 'user' ? actor.userId : null, this.deps.ttlDays],
    ).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'unique_violation') throw duplicate('the same request is already pending')
      throw err
    })
    return view(await this.visible(actor, row!.id))
  }

  /** the pending request the actor may review, locked for the transaction: the reviewing tenant's, not its own */
  private async reviewable(actor: WorkspaceActor, id: string, tx: Executor): Promise<ApprovalRow> {
    const [row] = isUuid(id)
      ? (await tx.query({
          sql: `SELECT a.*, CASE WHEN a.status = 'pending' AND a.expires_at <= now() THEN 'expired' ELSE a.status END AS live_status
                FROM atrium.ws_approvals a WHERE a.id = $1 AND (a.requester_tenant_id = $2 OR a.target_tenant_id = $2) FOR UPDATE`,
          params: [id, actor.tenantId],
        })).rows as unknown as ApprovalRow[]
      : []
    if (!row) throw notFound(id)
    if (row.target_tenant_id !== actor.tenantId) {
      throw new AppError('approval_review_forbidden', 'only the Org admins of the tenant this request is addressed to may review it', { hint: 'GET /api/v1/approvals/{approval_id} shows its status' })
    }
    if (actor.kind === 'user' && row.requested_by === actor.userId) {
      throw new AppError('approval_review_forbidden', 'you made this request, so another Org admin of the tenant must review it')
    }
    if (row.live_status !== 'pending') {
      throw new AppError('approval_not_pending', `this request is ${row.live_status}${row.live_status === 'expired' ? ' (requests expire after their expires_at)' : ''}; only a pending request can be approved or rejected`, {
        hint: row.live_status === 'expired' || row.live_status === 'rejected' ? 'ask again with a new request' : undefined,
      })
    }
    return row
  }

  private async visible(actor: WorkspaceActor, id: string): Promise<ApprovalRow> {
    const [row] = isUuid(id)
      ? await this.deps.catalog.rows<ApprovalRow>(`${APPROVAL_SELECT} WHERE a.id = $1 AND (a.requester_tenant_id = $2 OR a.target_tenant_id = $2)`, [id, actor.tenantId])
      : []
    if (!row) throw notFound(id)
    return row
  }

  private async ownProject(actor: WorkspaceActor, id: string): Promise<void> {
    const [row] = isUuid(id) ? await this.deps.catalog.rows('SELECT 1 FROM atrium.ws_projects WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL', [actor.tenantId, id]) : []
    if (!row) throw new AppError('project_not_found', `no project ${id} in your tenant`, { data: { loc: ['body', 'project_id'] } })
  }
}

const reviewerOf = (actor: WorkspaceActor) => (actor.kind === 'user' ? actor.userId : null)

const notFound = (id: string) => new AppError('approval_not_found', `no approval request ${id} for your tenant`)
const duplicate = (message: string) => new AppError('approval_duplicate', message)
const invalid = (loc: string[], msg: string) => new AppError('validation_failed', msg, { data: { loc } })

/** the wire shape (spec: the approval response), with the dataset named for a dataset request */
function view(row: ApprovalRow): Record<string, unknown> {
  return {
    id: row.id,
    type: row.kind,
    status: row.live_status,
    project_id: row.project_id,
    project_name: row.project_name,
    tenant_id: row.target_tenant_id,
    tenant_name: row.tenant_name,
    ...(row.kind === 'project_dataset' ? { dataset_id: row.dataset_id, dataset_name: row.dataset_name } : {}),
    requested_by: row.requested_by,
    requester_name: row.requester_name,
    requester_email: row.requester_email,
    reviewed_by: row.reviewed_by,
    created_at: row.created_at,
    expires_at: row.expires_at,
    reviewed_at: row.reviewed_at,
    rejection_reason: row.rejection_reason,
  }
}
