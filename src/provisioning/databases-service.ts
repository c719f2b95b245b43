// Databases of the Databases API: a record per database within a team, a durable job that creates the real
// database and its dedicated login on the region's managed server, then registers it as a catalog client (so
// /gateway and /rest/v1 reach it at once), and the events database.provisioned / database.deleted (outbox).
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { open, seal } from '../auth/secret-box.js'
import type { Catalog } from '../catalog/catalog.js'
import { createClient, deleteClient, updateClientSettings, type ClientsDeps } from '../clients/clients-service.js'
import { AppError } from '../errors/app-error.js'
import type { JobContext, JobQueue } from '../jobs/job-queue.js'
import { withDatabaseLock } from './database-lock.js'
import type { DatabaseEventV1 } from '../outbox/events.js'
import type { Outbox } from '../outbox/outbox.js'
import type { Executor } from '../sources/driver.js'
import {
  changeStatus, finishProvisioning, findDatabase, getDatabase, insertDatabase, listDatabases, setJob, softDeleteDatabase, updateDatabase,
  type DatabaseChanges, type DatabaseRecord, type Quotas,
} from './database-store.js'
import { ENGINES, LOCAL_REGION, type Engine, type ManagedServer, type ManagedServers } from './managed-servers.js'
import { QUOTA_CHECK_JOB } from './storage-quotas.js'
import { generateAccount, type WarmPool } from './warm-pool.js'
import { connectionUrl, createAccount, dropAccount, setConnectionLimit, setLoginEnabled } from './server-accounts.js'

export type { DatabaseRecord } from './database-store.js'

export const PROVISION_JOB = 'database.provision'
export const DESTROY_JOB = 'database.destroy'
const PROVISION_RETRIES = 2
/** how often a create with wait=true looks at the record */
const WAIT_POLL_MS = 150

export interface DatabasesDeps extends ClientsDeps {
  catalog: Catalog
  jobs: JobQueue
  outbox: Outbox
  servers: ManagedServers
  /** prefix of generated database and login names (provisioning.namePrefix) */
  namePrefix: string
  /** ready databases taken by creates, when provisioning.warmPool asks for some */
  warmPool?: WarmPool
  secretKey: Buffer
  logger: Logger
}

/** the caller's teams: every read and write is held to them */
export interface TeamScope {
  teamIds: readonly number[]
  primaryTeamId: number
}

export interface CreateDatabaseInput extends Partial<Quotas> {
  name: string
  db_type?: string
  region?: string
  plan?: string
  team_id?: number
  /** a blueprint checked beforehand (blueprints-service.ts), applied once the database is active */
  blueprint?: { id: string; variables: Record<string, string | number | boolean> }
}

/** runs in the transaction that makes a database active (the blueprint application is enqueued there) */
export type ActivationHook = (tx: Executor, record: DatabaseRecord) => Promise<void>

export interface DeleteOutcome {
  record: DatabaseRecord
  cancelledProvisionJobs: number
  /** when dropping on the server failed now and a job will retry it */
  destroyScheduledAt: string | null
}

const fieldError = (field: string, message: string, code: 'validation_failed' | 'database_type_not_available' = 'validation_failed') =>
  new AppError(code, message, { data: { field } })
const notFound = (id: string): never => {
  throw new AppError('database_not_found', `no database ${id}`, { hint: 'GET /api/v1/databases lists your team\'s databases' })
}

export class Databases {
  private activationHooks: ActivationHook[] = []

  constructor(private readonly deps: DatabasesDeps) {}

  whenActivated(hook: ActivationHook): void {
    this.activationHooks.push(hook)
  }

  /** defines the jobs (every process: enqueueing needs them; workers run them) */
  async start(): Promise<void> {
    await this.deps.jobs.define(PROVISION_JOB, (data: { database_id: string }, ctx) => this.provision(data.database_id, ctx), { retryLimit: PROVISION_RETRIES, retryDelay: 2, expireIn: 300 })
    await this.deps.jobs.define(DESTROY_JOB, (data: { database_id: string }) => this.destroy(data.database_id), { retryLimit: 10, retryDelay: 10, expireIn: 300 })
  }

  /** the engines and regions that really have a server */
  types(): Array<{ value: Engine; label: string; is_provisionable: boolean; is_available: boolean; regions: Array<{ code: string; label: string; is_available: boolean }> }> {
    const { servers } = this.deps
    return ENGINES.map((engine) => {
      const regions = servers.regionsOf(engine).map((r) => ({ ...r, is_available: true }))
      return { value: engine, label: servers.label(engine), is_provisionable: regions.length > 0, is_available: regions.length > 0, regions }
    })
  }

  /** writes the record and enqueues its provisioning job in one transaction */
  async create(scope: TeamScope, input: CreateDatabaseInput): Promise<DatabaseRecord> {
    const engine = (input.db_type ?? 'postgres') as Engine
    if (!ENGINES.includes(engine)) throw fieldError('db_type', `db_type must be one of ${ENGINES.join(', ')}`)
    const region = input.region ?? LOCAL_REGION
    const server = this.deps.servers.get(region, engine)
    if (!server) {
      const where = this.deps.servers.regionsOf(engine).map((r) => r.code)
      throw fieldError('region', `no ${engine} server is configured in region "${region}"${where.length ? `; ${engine} is available in ${where.join(', ')}` : ''}`, 'database_type_not_available')
    }
    const teamId = input.team_id ?? scope.primaryTeamId
    if (!scope.teamIds.includes(teamId)) throw new AppError('team_not_found', `no team ${teamId}`, { data: { field: 'team_id' } })
    const id = randomUUID()
    let claimed = false
    const record = await this.deps.catalog.transaction(async (tx) => {
      // a ready database of the warm pool if there is one (the provisioning job then only adjusts and registers it)
      const warm = await this.deps.warmPool?.claim(tx, region, engine)
      claimed = warm !== undefined
      const fresh = warm ? undefined : generateAccount(this.deps.namePrefix)
      await insertDatabase(tx, {
        id, team_id: teamId, name: input.name, db_type: engine, region, plan: input.plan ?? 'free',
        db_name: warm?.db_name ?? fresh!.dbName, db_username: warm?.db_username ?? fresh!.username,
        password_sealed: warm?.password_sealed ?? seal(this.deps.secretKey, fresh!.password),
        host: server.host, port: server.port,
        storage_hard_limit_gb: input.storage_hard_limit_gb ?? null,
        connection_hard_limit: input.connection_hard_limit ?? null,
        warning_threshold_pct: input.warning_threshold_pct ?? null,
        blueprint_id: input.blueprint?.id ?? null,
        blueprint_variables: input.blueprint?.variables ?? null,
      })
      const jobId = await this.deps.jobs.enqueue(PROVISION_JOB, { database_id: id }, { tx, owner: { kind: 'tenant', id: `team:${teamId}` } })
      await setJob(tx, id, jobId)
      return (await findDatabase(tx, [teamId], id))!
    })
    if (claimed) await this.deps.warmPool!.requestRefill()
    return record
  }

  /** the record once it is no longer provisioning, or as it is when `seconds` pass or `signal` aborts */
  async waitUntilProvisioned(scope: TeamScope, id: string, seconds: number, signal?: AbortSignal): Promise<DatabaseRecord> {
    const until = Date.now() + seconds * 1000
    for (;;) {
      const record = await this.get(scope, id)
      if (record.status !== 'provisioning' || Date.now() >= until || signal?.aborted) return record
      await new Promise((resolve) => setTimeout(resolve, Math.min(WAIT_POLL_MS, Math.max(1, until - Date.now()))))
    }
  }

  /** any record by id, deleted ones included (for jobs, which check the team themselves) */
  async findAny(id: string): Promise<DatabaseRecord | undefined> {
    return getDatabase(this.deps.catalog, id)
  }

  async get(scope: TeamScope, id: string): Promise<DatabaseRecord> {
    return (await findDatabase(this.deps.catalog, scope.teamIds, id)) ?? notFound(id)
  }

  async list(scope: TeamScope, limit: number, startingAfter?: string): Promise<{ data: DatabaseRecord[]; hasMore: boolean }> {
    if (startingAfter !== undefined && !(await findDatabase(this.deps.catalog, scope.teamIds, startingAfter))) {
      throw fieldError('starting_after', `starting_after: no database ${startingAfter} in your teams`)
    }
    const rows = await listDatabases(this.deps.catalog, scope.teamIds, limit, startingAfter)
    return { data: rows.slice(0, limit), hasMore: rows.length > limit }
  }

  /** name, plan and quotas; a new connection_hard_limit is applied to the login at once */
  async update(scope: TeamScope, id: string, changes: DatabaseChanges): Promise<DatabaseRecord> {
    const before = await this.get(scope, id)
    const after = (await this.deps.catalog.transaction((tx) => updateDatabase(tx, scope.teamIds, id, changes))) ?? notFound(id)
    // a paused login keeps its limit for when it is resumed
    const live = after.status === 'active' || after.status === 'paused'
    if (changes.connection_hard_limit !== undefined && changes.connection_hard_limit !== before.connection_hard_limit && live) {
      await setConnectionLimit(this.serverOf(after), after.db_username, after.connection_hard_limit)
    }
    // new storage quotas are measured against at once, not at the next scheduled check
    const storageChanged = (changes.storage_hard_limit_gb !== undefined && changes.storage_hard_limit_gb !== before.storage_hard_limit_gb)
      || (changes.warning_threshold_pct !== undefined && changes.warning_threshold_pct !== before.warning_threshold_pct)
    if (storageChanged && after.status === 'active') await this.deps.jobs.enqueue(QUOTA_CHECK_JOB, { database_id: id })
    return after
  }

  /**
   * Soft-deletes the record (with its event), cancels a provisioning job still queued, takes the client out of
   * the registry and drops database and login; when the server cannot be reached now, a job retries the drop.
   */
  async delete(scope: TeamScope, id: string): Promise<DeleteOutcome> {
    const record = await this.deps.catalog.transaction(async (tx) => {
      const found = await softDeleteDatabase(tx, scope.teamIds, id)
      if (found) await this.writeEvent(tx, 'database.deleted', found)
      return found
    }) ?? notFound(id)
    this.deps.outbox.committed()
    let cancelledProvisionJobs = 0
    if (record.status === 'provisioning' && record.job_id) {
      const job = await this.deps.jobs.cancel(record.job_id).catch(() => undefined)
      if (job?.status === 'cancelled') cancelledProvisionJobs = 1
    }
    try {
      await this.destroy(id)
      return { record, cancelledProvisionJobs, destroyScheduledAt: null }
    } catch (err) {
      this.deps.logger.warn({ database: id, err: (err as Error).message }, 'could not drop the database now; a job will retry')
      await this.deps.jobs.enqueue(DESTROY_JOB, { database_id: id })
      return { record, cancelledProvisionJobs, destroyScheduledAt: new Date().toISOString() }
    }
  }

  /**
   * Pause (`paused` true) or resume: the login is shut out (its sessions ended) or let in again, the catalog
   * client it is registered as is deactivated or activated (the gateway refuses a paused one as an unknown
   * client), and the status and its event change in one transaction. Under the database's lock, so it never
   * races provisioning, a drop, a quota check or another pause. Pausing a paused database (or resuming an
   * active one) is a no-op; each step is idempotent, so a pause that failed half-way can be repeated.
   */
  async setPaused(scope: TeamScope, id: string, paused: boolean): Promise<DatabaseRecord> {
    const [from, to] = paused ? ['active', 'paused'] as const : ['paused', 'active'] as const
    // another team's or an unknown id is 404 before a lock connection is opened for it
    await this.get(scope, id)
    await withDatabaseLock(this.deps.catalog.url, id, async () => {
      const record = await this.get(scope, id)
      if (record.status === to) return
      if (record.status !== from) {
        throw new AppError('database_not_active', `database ${id} is ${record.status}; only ${paused ? 'an active database can be paused' : 'a paused database can be resumed'}`, { data: { status: record.status } })
      }
      await setLoginEnabled(this.serverOf(record), { username: record.db_username }, !paused)
      await updateClientSettings(this.deps, record.db_name, { is_active: !paused })
      const changed = await this.deps.catalog.transaction(async (tx) => {
        if (!(await changeStatus(tx, id, from, to))) return false
        await this.writeEvent(tx, paused ? 'database.paused' : 'database.resumed', record)
        return true
      })
      if (changed) this.deps.outbox.committed()
    })
    return this.get(scope, id)
  }

  /** the login's password, for create and single-get answers */
  password(record: DatabaseRecord): string {
    return open(this.deps.secretKey, record.password_sealed)
  }

  connectionString(record: DatabaseRecord, password: string): string {
    return connectionUrl(this.serverOf(record), { dbName: record.db_name, username: record.db_username, password })
  }

  /**
   * The provisioning job: idempotent, so a retry after a crash finishes what an attempt began. It works under
   * the database's lock, as destroy does: a delete racing it either finds nothing made yet or waits and drops
   * everything; the job finding the record deleted drops what it made.
   */
  private async provision(id: string, ctx: JobContext): Promise<{ database_id: string; status: string }> {
    try {
      const outcome = await withDatabaseLock(this.deps.catalog.url, id, async () => {
        const record = await getDatabase(this.deps.catalog, id)
        if (!record) return 'missing'
        if (record.deleted_at) return this.dropAll(record).then(() => 'deleted')
        if (record.status !== 'provisioning') return record.status
        const server = this.serverOf(record)
        const password = this.password(record)
        await createAccount(server, { dbName: record.db_name, username: record.db_username, password, connectionLimit: record.connection_hard_limit })
        await this.register(record, connectionUrl(server, { dbName: record.db_name, username: record.db_username, password }))
        const activated = await this.deps.catalog.transaction(async (tx) => {
          if (!(await finishProvisioning(tx, id, 'active'))) return false
          await this.writeEvent(tx, 'database.provisioned', record)
          for (const hook of this.activationHooks) await hook(tx, record)
          return true
        })
        if (activated) this.deps.outbox.committed()
        // deleted while it was being made: nothing may be left behind
        else await this.dropAll(record)
        return activated ? 'active' : 'deleted'
      })
      return { database_id: id, status: outcome }
    } catch (err) {
      const detail = err instanceof AppError ? (err.extra.adminMessage ?? err.message) : (err as Error).message
      this.deps.logger.warn({ database: id, attempt: ctx.attempt, err: detail }, 'provisioning attempt failed')
      if (ctx.attempt > PROVISION_RETRIES) {
        // the database's error is shown to its team: the message without server details
        const error = { code: 'provisioning_failed', message: (err as Error).message }
        await this.deps.catalog.transaction((tx) => finishProvisioning(tx, id, 'failed', error))
      }
      if (err instanceof AppError) throw err
      throw new AppError('provisioning_failed', `creating database ${id} failed: ${(err as Error).message}`, { cause: err })
    }
  }

  /** takes the client out of the registry and drops database and login, under the database's lock */
  private async destroy(id: string): Promise<void> {
    await withDatabaseLock(this.deps.catalog.url, id, async () => {
      const record = await getDatabase(this.deps.catalog, id)
      if (record) await this.dropAll(record)
    })
  }

  private async dropAll(record: DatabaseRecord): Promise<void> {
    await deleteClient(this.deps, record.db_name).catch((err: unknown) => {
      if (!(err instanceof AppError && err.code === 'client_not_found')) throw err
    })
    await dropAccount(this.serverOf(record), { dbName: record.db_name, username: record.db_username })
  }

  /** a catalog client named after the database: /gateway (X-Athena-Client) and /rest/v1 reach it */
  private async register(record: DatabaseRecord, url: string): Promise<void> {
    await createClient(this.deps, { client_name: record.db_name, pg_uri: url, description: `database ${record.id} (${record.name}) of team ${record.team_id}` })
      .catch((err: unknown) => {
        // a retried job registered it already
        if (!(err instanceof AppError && err.code === 'client_exists')) throw err
      })
  }

  private serverOf(record: DatabaseRecord): ManagedServer {
    const server = this.deps.servers.get(record.region, record.db_type)
    if (!server) throw new AppError('database_type_not_available', `region "${record.region}" no longer has a ${record.db_type} server`)
    return server
  }

  private async writeEvent(tx: Executor, type: DatabaseEventV1['type'], record: DatabaseRecord): Promise<void> {
    const payload: DatabaseEventV1 = { type, version: 1, database_id: record.id, team_id: record.team_id, name: record.name, db_type: record.db_type, region: record.region }
    await this.deps.outbox.write(tx, { payload, tenant: `team:${record.team_id}` })
  }
}
