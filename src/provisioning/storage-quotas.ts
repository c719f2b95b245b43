// Storage quotas of provisioned databases, enforced: a scheduled job measures every database with a storage
// limit (and one is measured at once when its quotas change). Crossing warning_threshold_pct of the hard limit
// publishes database.quota_warning once per crossing (outbox, with the measurement); reaching
// storage_hard_limit_gb makes the database read-only for its login until it is back under the limit.
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'
import type { JobQueue } from '../jobs/job-queue.js'
import type { QuotaWarningEventV1 } from '../outbox/events.js'
import type { Outbox } from '../outbox/outbox.js'
import { withDatabaseLock } from './database-lock.js'
import { getDatabase, type DatabaseRecord } from './database-store.js'
import type { ManagedServers } from './managed-servers.js'
import { databaseSize, setReadOnly } from './server-accounts.js'

/** measures one database ({database_id}) or, scheduled, every database with a storage limit */
export const QUOTA_CHECK_JOB = 'database.quota-check'
const GB = 1024 ** 3
/** databases measured per scheduled run, so one run stays bounded */
const MAX_PER_RUN = 1000

export interface StorageQuotasDeps {
  catalog: Catalog
  jobs: JobQueue
  outbox: Outbox
  servers: ManagedServers
  logger: Logger
  /** cron of the scheduled measurement (provisioning.quotaCheckCron) */
  cron: string
}

export interface QuotaCheck {
  database_id: string
  used_bytes: number
  read_only: boolean
  warned: boolean
}

export class StorageQuotas {
  constructor(private readonly deps: StorageQuotasDeps) {}

  async start(): Promise<void> {
    await this.deps.jobs.define(QUOTA_CHECK_JOB, (data: { database_id?: string }) => data.database_id ? this.check(data.database_id) : this.checkAll(), { retryLimit: 1, retryDelay: 10, expireIn: 600 })
    await this.deps.jobs.schedule(QUOTA_CHECK_JOB, this.deps.cron)
  }

  /** every live database with a storage limit, or still read-only from one (a limit removed lifts it) */
  async checkAll(): Promise<{ checked: number; failed: number }> {
    const rows = await this.deps.catalog.rows<{ id: string }>(
      `SELECT id FROM atrium.managed_databases WHERE status = 'active' AND deleted_at IS NULL AND (storage_hard_limit_gb IS NOT NULL OR read_only)
       ORDER BY storage_measured_at NULLS FIRST LIMIT ${MAX_PER_RUN}`)
    let failed = 0
    for (const { id } of rows) {
      // one unreachable server must not stop the others' measurement
      await this.check(id).catch((err: unknown) => {
        failed++
        this.deps.logger.warn({ database: id, err: (err as Error).message }, 'storage quota check failed')
      })
    }
    return { checked: rows.length, failed }
  }

  /** measures one database and applies its quotas, under the database's lock (never racing its drop) */
  async check(id: string): Promise<QuotaCheck | { database_id: string; skipped: string }> {
    return withDatabaseLock(this.deps.catalog.url, id, async () => {
      const record = await getDatabase(this.deps.catalog, id)
      if (!record || record.deleted_at || record.status !== 'active') return { database_id: id, skipped: record ? record.status : 'missing' }
      const server = this.deps.servers.get(record.region, record.db_type)
      if (!server) return { database_id: id, skipped: 'no server' }
      const account = { dbName: record.db_name, username: record.db_username }
      const used = await databaseSize(server, record.db_name)
      const limit = record.storage_hard_limit_gb === null ? null : record.storage_hard_limit_gb * GB
      const warnAt = limit !== null && record.warning_threshold_pct !== null ? limit * record.warning_threshold_pct / 100 : null
      const overLimit = limit !== null && used >= limit
      const overWarning = warnAt !== null && used >= warnAt
      if (overLimit !== record.read_only) {
        await setReadOnly(server, account, overLimit)
        this.deps.logger.info({ database: id, used, limit }, overLimit ? 'database over its storage limit: read-only' : 'database back under its storage limit: writable')
      }
      const warnNow = overWarning && !record.quota_warned
      await this.deps.catalog.transaction(async (tx) => {
        await tx.query({
          sql: `UPDATE atrium.managed_databases SET storage_used_bytes = $2, storage_measured_at = now(), read_only = $3, quota_warned = $4 WHERE id = $1`,
          params: [id, used, overLimit, overWarning],
        })
        if (warnNow) await this.deps.outbox.write(tx, { payload: warningEvent(record, used, limit!), tenant: `team:${record.team_id}` })
      })
      if (warnNow) this.deps.outbox.committed()
      return { database_id: id, used_bytes: used, read_only: overLimit, warned: warnNow }
    })
  }
}

function warningEvent(record: DatabaseRecord, used: number, limit: number): QuotaWarningEventV1 {
  return {
    type: 'database.quota_warning', version: 1, database_id: record.id, team_id: record.team_id, name: record.name,
    used_bytes: used, limit_bytes: Math.round(limit), warning_threshold_pct: record.warning_threshold_pct!, used_pct: Math.round((used / limit) * 1000) / 10,
  }
}
