// Deferred gateway requests (Prefer: respond-async): stored with who sent them, run by a durable job that checks
// the sender again (the key still exists, is active, unexpired and bound to the client; the rights are the
// service's to check), and answered later with what the synchronous call would have sent. What a call is and how
// it runs is the gateway's (api/gateway/deferred-calls.ts), handed in as `execute`; this module never parses one.
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { ApiKeyStore } from '../auth/api-key-store.js'
import type { JwtSessions } from '../auth/jwt-sessions.js'
import { ADMIN, type Principal } from '../auth/principal.js'
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import { AppError } from '../errors/app-error.js'
import type { ErrorCode } from '../errors/codes.js'
import type { JobContext, JobQueue } from '../jobs/job-queue.js'
import { startRetentionJob } from '../jobs/retention-job.js'
import type { RequestContext } from '../request-context.js'
import type { SourceRegistry } from '../sources/registry.js'
import { DeferredStore, type DeferredCall, type DeferredListFilter, type DeferredOwner, type DeferredRecord } from './deferred-store.js'

export type { DeferredCall, DeferredListFilter, DeferredOwner, DeferredRecord } from './deferred-store.js'

export const DEFERRED_JOB = 'gateway-deferred'

/** what running a call gave: the status and body of the synchronous answer, and the error when it failed */
export interface DeferredOutcome {
  status: number
  body: string
  error: { code: string; message: string } | null
}

/** runs one stored call; `context` resolves the sender again and may throw (revoked key, unknown client) */
export type DeferredExecutor = (call: DeferredCall, context: () => Promise<RequestContext>) => Promise<DeferredOutcome>

export interface DeferredDeps {
  catalog: Catalog
  jobs: JobQueue
  registry: SourceRegistry
  apiKeys: ApiKeyStore
  sessions: Pick<JwtSessions, 'rightsOf'>
  config: Pick<Config, 'deferred'>
  logger: Logger
  execute: DeferredExecutor
}

/** what a caller sees of a request: `expired` once a finished request's answer is past its expiry */
export type DeferredView = Omit<DeferredRecord, 'status'> & { status: DeferredRecord['status'] | 'expired' }

export class DeferredRequests {
  private readonly store: DeferredStore

  constructor(private readonly deps: DeferredDeps) {
    this.store = new DeferredStore(deps.catalog)
  }

  /** every process defines the job (submitting needs it); the retention job deletes rows past their expiry */
  async start(): Promise<void> {
    const { jobs, catalog, logger, config } = this.deps
    // no retry: a write whose run was cut short may have committed; the caller decides (requeue) whether to run it again
    await jobs.define(DEFERRED_JOB, (data, ctx) => this.run(String(data.request_id), ctx), { retryLimit: 0, expireIn: config.deferred.timeoutSeconds })
    await startRetentionJob({ jobs, catalog, logger }, {
      queue: 'deferred-prune', schedule: '41 * * * *', table: 'atrium.deferred_requests', timeColumn: 'expires_at', rows: 'deferred requests',
    }, config.deferred.retentionDays)
  }

  /** stores the call and queues its job in one transaction; returns the request id */
  async submit(owner: DeferredOwner, client: string, call: DeferredCall): Promise<string> {
    const id = randomUUID()
    await this.deps.catalog.transaction(async (tx) => {
      const jobId = await this.deps.jobs.enqueue(DEFERRED_JOB, { request_id: id }, { tx, owner: jobOwner(owner) })
      await this.store.insert(tx, { id, owner, client, call, jobId })
    })
    return id
  }

  /** the request as its sender (or the admin key, `owner` null) sees it; another caller's is not found */
  async get(id: string, owner: DeferredOwner | null): Promise<DeferredView> {
    const record = await this.store.get(id, owner)
    if (!record) throw notFound(id)
    return view(record)
  }

  /** the requests of `owner` (every one for the admin key, `owner` null), newest first, without answer bodies */
  async list(owner: DeferredOwner | null, filter: DeferredListFilter): Promise<{ requests: DeferredView[]; next_cursor: string | null }> {
    // one clock for the filter and the views, so a request shown as expired is one the filter took as expired
    const now = new Date()
    const page = await this.store.list(owner, filter, now)
    return { requests: page.records.map((r) => view(r, now.getTime())), next_cursor: page.next_cursor }
  }

  /**
   * Runs a failed or expired request again, as its sender, with a new job. `owner` is who asks now: the sender
   * (its session's role and expiry are taken anew) or the admin key (null), which keeps the sender's.
   */
  async requeue(id: string, owner: DeferredOwner | null): Promise<DeferredView> {
    await this.deps.catalog.transaction(async (tx) => {
      const record = await this.store.get(id, owner, tx, true)
      if (!record) throw notFound(id)
      const current = view(record)
      if (current.status !== 'failed' && current.status !== 'expired') {
        throw new AppError('deferred_not_requeueable', `deferred request ${id} is ${current.status}; only a failed or expired request is run again`, {
          hint: current.status === 'succeeded' ? 'its answer is still served: GET /gateway/deferred/{request_id}' : 'wait for it to finish',
        })
      }
      const sender = owner ?? record.owner
      const jobId = await this.deps.jobs.enqueue(DEFERRED_JOB, { request_id: id }, { tx, owner: jobOwner(sender) })
      await this.store.requeue(tx, id, sender, jobId)
    })
    return this.get(id, owner)
  }

  /** the job: one run of one request; the answer (success or error) is stored, and an error fails the job too */
  private async run(id: string, job: JobContext): Promise<{ request_id: string; status: number }> {
    const record = await this.store.get(id, null)
    // gone (deleted by retention) or already finished: nothing to do
    if (!record || !(await this.store.markRunning(id))) return { request_id: id, status: record?.result_status ?? 0 }
    const outcome = await this.deps.execute(record.request, () => this.contextOf(record, job))
    await this.store.finish(id, {
      status: outcome.error ? 'failed' : 'succeeded',
      resultStatus: outcome.status,
      resultBody: outcome.body,
      error: outcome.error,
      ttlSeconds: this.deps.config.deferred.resultTtlSeconds,
    })
    if (outcome.error) throw new AppError(outcome.error.code as ErrorCode, outcome.error.message)
    return { request_id: id, status: outcome.status }
  }

  /** the sender as it is now, and the request's client: the checks a key passed at submission, made again */
  private async contextOf(record: DeferredRecord, job: JobContext): Promise<RequestContext> {
    const principal = await this.principalOf(record)
    const source = this.deps.registry.resolve(record.client_name)
    const log = this.deps.logger.child({ deferred: record.id, job: job.jobId })
    return { principal, source, requestId: record.id, log, deadline: job.signal }
  }

  private async principalOf(record: DeferredRecord): Promise<Principal> {
    const { owner } = record
    if (owner.kind === 'admin') return ADMIN
    if (owner.kind === 'user') {
      if (owner.expiresAt && Date.parse(owner.expiresAt) <= Date.now()) {
        throw new AppError('expired_session_token', `the session token that sent this request expired at ${owner.expiresAt}, before the request ran`, {
          hint: 'sign in again and requeue it: POST /gateway/deferred/{request_id}/requeue',
        })
      }
      const role = owner.role ?? null
      return Object.freeze({ kind: 'user', sub: owner.id, email: null, role, claims: Object.freeze({ sub: owner.id, role }), rights: this.deps.sessions.rightsOf(role) })
    }
    const row = await this.deps.apiKeys.findById(owner.id)
    const ranLate = 'between the submission and the run'
    if (!row) throw new AppError('invalid_api_key', `the API key that sent this request was deleted ${ranLate}`)
    if (!row.is_active) throw new AppError('inactive_api_key', `the API key that sent this request was deactivated ${ranLate}`)
    if (row.expires_at && Date.parse(row.expires_at) <= Date.now()) throw new AppError('expired_api_key', `the API key that sent this request expired at ${row.expires_at}, before the request ran`)
    if (row.client_name && row.client_name.toLowerCase() !== record.client_name.toLowerCase()) {
      throw new AppError('client_not_allowed', `the API key that sent this request is now bound to client "${row.client_name}", not "${record.client_name}"`)
    }
    return Object.freeze({
      kind: 'key', keyId: row.id, publicId: row.public_id, name: row.name, clientName: row.client_name, rights: new Set(row.rights), rateLimit: row.rate_limit,
    })
  }
}

function view(record: DeferredRecord, now = Date.now()): DeferredView {
  const expired = record.status === 'succeeded' && record.expires_at !== null && Date.parse(record.expires_at) <= now
  return expired ? { ...record, status: 'expired', result_body: null, result_status: null } : record
}

/** the job record's owner: what GET /admin/jobs filters by (the admin key's jobs have none) */
function jobOwner(owner: DeferredOwner): { kind: 'key' | 'user'; id: string } | null {
  return owner.kind === 'admin' ? null : { kind: owner.kind, id: owner.id }
}

function notFound(id: string): AppError {
  return new AppError('deferred_request_not_found', `no deferred request ${id}`, {
    hint: 'a request is visible only to the key or session that sent it, until deferred.retentionDays after its answer expires',
  })
}
