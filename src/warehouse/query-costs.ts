// The cost model and quotas of Workspace queries: bytes processed × a price per terabyte; per-tenant daily and
// monthly limits (UTC) checked against a run's estimate before it is accepted; what each job cost recorded when it
// finishes (atrium.ws_query_costs). Framework-free.
import type { Catalog } from '../catalog/catalog.js'
import { AppError } from '../errors/app-error.js'
import type { Executor } from '../sources/driver.js'
import { requireRole, type WorkspaceActor } from '../tenancy/roles.js'

export interface CostSettings {
  pricePerTbUsd: number
  dailyQuotaUsd: number
  monthlyQuotaUsd: number
}

const TB = 1e12
/** money is shown with six decimals: a fraction of a cent is still visible for small queries */
const usd = (n: number) => n.toFixed(6)

export class QueryCosts {
  constructor(private readonly catalog: Catalog, private readonly settings: CostSettings) {}

  costOf(bytes: number): number {
    return (bytes / TB) * this.settings.pricePerTbUsd
  }

  /** what the tenant's queries cost today and this month (UTC) */
  async usage(tenantId: string): Promise<{ daily_usd: number; monthly_usd: number; daily_bytes: number; monthly_bytes: number }> {
    const [row] = await this.catalog.rows<{ daily_usd: string; monthly_usd: string; daily_bytes: string; monthly_bytes: string }>(
      `SELECT coalesce(sum(cost_usd) FILTER (WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'), 0) AS daily_usd,
              coalesce(sum(cost_usd), 0) AS monthly_usd,
              coalesce(sum(bytes_processed) FILTER (WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'), 0) AS daily_bytes,
              coalesce(sum(bytes_processed), 0) AS monthly_bytes
       FROM atrium.ws_query_costs WHERE tenant_id = $1 AND created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`,
      [tenantId],
    )
    return { daily_usd: Number(row!.daily_usd), monthly_usd: Number(row!.monthly_usd), daily_bytes: Number(row!.daily_bytes), monthly_bytes: Number(row!.monthly_bytes) }
  }

  /**
   * Refuses (429) a run whose estimated bytes would take the tenant past its daily or monthly quota. Runs
   * accepted at the same moment are not counted against each other: the quota can be passed by at most them.
   */
  async checkQuota(tenantId: string, estimatedBytes: number): Promise<void> {
    const estimate = this.costOf(estimatedBytes)
    const used = await this.usage(tenantId)
    const { dailyQuotaUsd, monthlyQuotaUsd } = this.settings
    const refuse = (which: 'daily' | 'monthly', spent: number, limit: number, retryAfter: number) => {
      throw new AppError('workspace_quota_exceeded', `the ${which} query quota of ${usd(limit)} USD would be exceeded: ${usd(spent)} USD used, this query is estimated at ${usd(estimate)} USD (${estimatedBytes} bytes)`, {
        retryAfter,
        data: { quota: which },
      })
    }
    const now = new Date()
    if (used.daily_usd + estimate > dailyQuotaUsd) {
      refuse('daily', used.daily_usd, dailyQuotaUsd, Math.ceil((Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime()) / 1000))
    }
    if (used.monthly_usd + estimate > monthlyQuotaUsd) {
      refuse('monthly', used.monthly_usd, monthlyQuotaUsd, Math.ceil((Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - now.getTime()) / 1000))
    }
  }

  /** records what a finished job cost (once: a job run again after a crash keeps its first record) */
  async record(tx: Executor, tenantId: string, queryJobId: string, bytes: number): Promise<void> {
    await tx.query({
      sql: `INSERT INTO atrium.ws_query_costs (tenant_id, query_job_id, bytes_processed, cost_usd) VALUES ($1, $2, $3, $4)
            ON CONFLICT (query_job_id) DO NOTHING`,
      params: [tenantId, queryJobId, bytes, this.costOf(bytes)],
    })
  }

  async summary(actor: WorkspaceActor): Promise<Record<string, unknown>> {
    requireRole(actor, 'costs.read')
    const used = await this.usage(actor.tenantId)
    const { dailyQuotaUsd, monthlyQuotaUsd, pricePerTbUsd } = this.settings
    const pct = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 100 : 100)
    return {
      quota: { daily_limit_usd: usd(dailyQuotaUsd), monthly_limit_usd: usd(monthlyQuotaUsd), price_per_tb_usd: usd(pricePerTbUsd) },
      usage: { daily_usd: usd(used.daily_usd), monthly_usd: usd(used.monthly_usd), daily_bytes_processed: used.daily_bytes, monthly_bytes_processed: used.monthly_bytes },
      daily_remaining_usd: usd(Math.max(0, dailyQuotaUsd - used.daily_usd)),
      monthly_remaining_usd: usd(Math.max(0, monthlyQuotaUsd - used.monthly_usd)),
      daily_percentage_used: pct(used.daily_usd, dailyQuotaUsd),
      monthly_percentage_used: pct(used.monthly_usd, monthlyQuotaUsd),
      is_daily_quota_exceeded: used.daily_usd >= dailyQuotaUsd,
      is_monthly_quota_exceeded: used.monthly_usd >= monthlyQuotaUsd,
    }
  }

  /** the tenant's query costs, newest first (page ≥ 1, page_size 1–100) */
  async history(actor: WorkspaceActor, page: number, pageSize: number): Promise<{ items: unknown[]; total: number; page: number; page_size: number }> {
    requireRole(actor, 'costs.read')
    const rows = await this.catalog.rows<{ query_job_id: string; query_id: string; bytes_processed: string; cost_usd: string; cache_hit: boolean | null; created_at: unknown; total: string }>(
      `SELECT c.query_job_id, q.query_id, c.bytes_processed, c.cost_usd, q.cache_hit, c.created_at, count(*) OVER () AS total
       FROM atrium.ws_query_costs c JOIN atrium.ws_query_jobs q ON q.id = c.query_job_id
       WHERE c.tenant_id = $1 ORDER BY c.created_at DESC, c.id DESC OFFSET $2 LIMIT $3`,
      [actor.tenantId, (page - 1) * pageSize, pageSize],
    )
    const total = rows[0] ? Number(rows[0].total) : Number((await this.catalog.rows<{ n: string }>('SELECT count(*) AS n FROM atrium.ws_query_costs WHERE tenant_id = $1', [actor.tenantId]))[0]!.n)
    return {
      items: rows.map((r) => ({ query_job_id: r.query_job_id, query_id: r.query_id, bytes_processed: Number(r.bytes_processed), cost_usd: usd(Number(r.cost_usd)), cache_hit: r.cache_hit, created_at: r.created_at })),
      total,
      page,
      page_size: pageSize,
    }
  }
}
