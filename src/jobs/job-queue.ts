// Durable jobs on the catalog: kinds and their handlers, enqueue inside a caller's transaction, workers that
// run handlers here (jobs.workers), records users can see, cancel, and a shutdown that hands jobs back.
// pg-boss (schema atrium_jobs) queues, retries and expires jobs; this module never runs one twice on purpose,
// but pg-boss is at-least-once, so handlers are written to be idempotent (JobContext.step).
import { randomUUID } from 'node:crypto'
import PgBoss from 'pg-boss'
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import { AppError } from '../errors/app-error.js'
import type { Executor } from '../sources/driver.js'
import type { PostgresExecutor } from '../sources/drivers/postgres-driver.js'
import type { JobEventV1, NewEvent } from '../outbox/events.js'
import type { Outbox } from '../outbox/outbox.js'
import { JobStore, type JobError, type JobListFilter, type JobOwner, type JobPage, type JobRecord } from './job-store.js'

export type { JobListFilter, JobOwner, JobPage, JobRecord, JobStatus } from './job-store.js'

const BOSS_SCHEMA = 'atrium_jobs'
// new jobs and cancellations are announced on these channels; NOTIFY inside a transaction is sent on commit
const WAKE_CHANNEL = 'atrium_jobs_wake'
const CANCEL_CHANNEL = 'atrium_jobs_cancel'

export interface JobContext {
  jobId: string
  /** 1 on the first run, 2 on the first retry, … */
  attempt: number
  /** aborted when the job is cancelled, expires, or this process stops (its reason says which) */
  signal: AbortSignal
  /** records how far the job is, 0–1, and what it is doing, on the job record */
  progress(fraction: number, message?: string): Promise<void>
  /**
   * Runs `fn` once per job however often the job runs: in one catalog transaction with the mark that the step
   * is done. A run after a crash gets the stored output of a finished step without calling `fn` again. Effects
   * outside the catalog must be idempotent themselves (keyed by jobId).
   */
  step<T>(name: string, fn: (tx: PostgresExecutor) => Promise<T>): Promise<T>
}

export type JobHandler<D = Record<string, unknown>> = (data: D, ctx: JobContext) => Promise<unknown>

export interface JobKindOptions {
  /** retries after the first attempt (default 2) */
  retryLimit?: number
  /** seconds before the first retry (default 5) */
  retryDelay?: number
  /** double the delay on each retry, with jitter (default true) */
  retryBackoff?: boolean
  /** seconds a run may take; then its signal is aborted and the attempt fails (default 900) */
  expireIn?: number
}

export interface EnqueueOptions {
  owner?: JobOwner | null
  /** the caller's catalog transaction: the job and its record commit or roll back with it */
  tx?: Executor
}

/** why a handler's signal was aborted */
export class JobInterrupted extends Error {
  override name = 'JobInterrupted'
  constructor(readonly reason: 'cancelled' | 'expired' | 'shutdown') {
    super(`job ${reason}`)
  }
}

interface Kind {
  handler: JobHandler
  options: Required<JobKindOptions>
}

interface Run {
  kind: string
  job: PgBoss.JobWithMetadata<Record<string, unknown>>
  controller: AbortController
  done: Promise<void>
  /** settled (completed, failed or handed back) by this process; nothing more to do */
  settled: boolean
}

export class JobQueue {
  private readonly boss: PgBoss
  private readonly store: JobStore
  private readonly kinds = new Map<string, Kind>()
  private readonly running = new Map<string, Run>()
  private started = false
  private working = false
  private loop: Promise<void> | undefined
  private wakeUp: (() => void) | undefined
  private woken = false
  /** kinds named by wake notifications since the loop last looked: fetched before the others */
  private readonly announced = new Set<string>()
  private turn = 0

  /**
   * `outbox`: job outcomes (succeeded, failed for good, cancelled) become events in the transaction that
   * finishes the record
   */
  constructor(private readonly catalog: Catalog, private readonly settings: Config['jobs'], private readonly logger: Logger, private readonly outbox?: Pick<Outbox, 'write' | 'committed'>) {
    this.store = new JobStore(catalog)
    this.boss = new PgBoss({
      connectionString: catalog.url,
      // its own schema, next to Atrium's "atrium" schema in the catalog
      schema: BOSS_SCHEMA,
      application_name: 'atrium-jobs',
      max: 3,
      maintenanceIntervalSeconds: settings.maintenanceIntervalSeconds,
    })
    // pg-boss reports connection trouble as events; an unhandled 'error' event would end the process
    this.boss.on('error', (err) => this.logger.warn({ err: err.message }, 'job queue error'))
    // maintenance just expired the jobs of dead workers: their records still say running
    this.boss.on('maintenance', () => {
      this.store.reconcile(BOSS_SCHEMA)
        .then(() => this.store.prune(this.settings.recordRetentionDays))
        .catch((err: Error) => this.logger.warn({ err: err.message }, 'job record maintenance failed'))
    })
  }

  get workers(): number {
    return this.settings.workers
  }

  async start(): Promise<void> {
    await this.boss.start()
    this.started = true
    for (const [kind, { options }] of this.kinds) await this.createQueue(kind, options)
    if (this.settings.workers > 0) {
      await this.catalog.listen(WAKE_CHANNEL, (kind) => this.wake(kind))
      await this.catalog.listen(CANCEL_CHANNEL, (id) => this.interrupt(id, 'cancelled'))
      // notifications sent while the listener was away are lost: look now
      this.catalog.onListenerReconnect(() => this.wake())
      this.working = true
      this.loop = this.work()
    }
  }

  /** a kind of job and its handler; every process defines its kinds, only those with workers run them */
  async define<D extends Record<string, unknown>>(kind: string, handler: JobHandler<D>, opts: JobKindOptions = {}): Promise<void> {
    const options = { retryLimit: 2, retryDelay: 5, retryBackoff: true, expireIn: 900, ...opts }
    this.kinds.set(kind, { handler: handler as JobHandler, options })
    if (this.started) await this.createQueue(kind, options)
    this.wake()
  }

  /**
   * Creates a job and its record; with `tx`, inside the caller's transaction (the pair commits or rolls back
   * with the caller's write), else in one of its own. Returns the job id.
   */
  async enqueue(kind: string, data: Record<string, unknown> = {}, opts: EnqueueOptions = {}): Promise<string> {
    const def = this.kinds.get(kind)
    if (!def) throw new Error(`job kind "${kind}" is not defined in this process`)
    const id = randomUUID()
    const { retryLimit, retryDelay, retryBackoff, expireIn } = def.options
    const enqueueIn = async (tx: Executor) => {
      await this.store.insert(tx, { id, kind, owner: opts.owner ?? null, maxAttempts: retryLimit + 1 })
      await this.boss.send(kind, data, { id, retryLimit, retryDelay, retryBackoff, expireInSeconds: expireIn, db: bossDb(tx) })
      await tx.query({ sql: 'SELECT pg_notify($1, $2)', params: [WAKE_CHANNEL, kind] })
    }
    if (opts.tx) await enqueueIn(opts.tx)
    else await this.catalog.transaction(enqueueIn)
    return id
  }

  async get(jobId: string): Promise<JobRecord | null> {
    return this.store.get(jobId)
  }

  async list(filter: JobListFilter = {}): Promise<JobPage> {
    return this.store.list(filter)
  }

  /**
   * Cancels a queued or running job; a running handler (in any process) sees its signal aborted. A finished
   * job is returned as it is.
   */
  async cancel(jobId: string): Promise<JobRecord> {
    const record = await this.store.get(jobId)
    if (!record) throw new AppError('job_not_found', `no job ${jobId}`)
    if (record.status !== 'queued' && record.status !== 'running') return record
    const cancelled = await this.catalog.transaction(async (tx) => {
      await this.boss.cancel(record.kind, record.boss_job_id, { db: bossDb(tx) })
      if (!(await this.store.cancel(tx, jobId))) return false
      await tx.query({ sql: 'SELECT pg_notify($1, $2)', params: [CANCEL_CHANNEL, jobId] })
      await this.outbox?.write(tx, jobEvent('job.cancelled', jobId, record.kind, record.owner, null))
      return true
    })
    if (cancelled) this.outbox?.committed()
    this.interrupt(jobId, 'cancelled')
    return (await this.store.get(jobId))!
  }

  /** a job as a cron schedule creates it: no owner, its record made when a worker takes it */
  async send(queue: string, data: Record<string, unknown> = {}): Promise<string | null> {
    await this.boss.createQueue(queue)
    const id = await this.boss.send(queue, data)
    await this.catalog.notify(WAKE_CHANNEL, queue)
    return id
  }

  /** (re)defines the cron schedule of a kind; pg-boss creates one job per tick however many processes run */
  async schedule(queue: string, cron: string, data: Record<string, unknown> = {}): Promise<void> {
    await this.boss.createQueue(queue)
    await this.boss.schedule(queue, cron, data, { tz: 'UTC' })
  }

  async unschedule(queue: string): Promise<void> {
    await this.boss.unschedule(queue)
  }

  /**
   * Stops taking jobs, aborts the signals of running handlers and gives them jobs.shutdownGraceMs to end;
   * a job whose handler did not finish goes back to the queue as it was (the attempt does not count).
   */
  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.working = false
    this.wake()
    await this.loop
    const runs = [...this.running.values()]
    for (const run of runs) run.controller.abort(new JobInterrupted('shutdown'))
    if (runs.length) {
      let timer: NodeJS.Timeout | undefined
      const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.settings.shutdownGraceMs) })
      await Promise.race([Promise.allSettled(runs.map((r) => r.done)), grace])
      clearTimeout(timer)
      for (const run of runs) {
        if (run.settled) continue
        run.settled = true
        await this.handBack(run).catch((err: Error) => this.logger.warn({ err: err.message, job: run.job.id }, 'could not hand a job back'))
      }
    }
    // graceful: a non-graceful stop leaves pg-boss timers behind
    await this.boss.stop({ graceful: true, wait: true, timeout: 5_000 }).catch((err: Error) => this.logger.warn({ err: err.message }, 'job queue stop failed'))
  }

  /** the queue's own options apply to jobs pg-boss creates itself (cron); creating an existing queue keeps its old ones */
  private async createQueue(kind: string, o: Required<JobKindOptions>): Promise<void> {
    const options = { name: kind, retryLimit: o.retryLimit, retryDelay: o.retryDelay, retryBackoff: o.retryBackoff, expireInSeconds: o.expireIn }
    await this.boss.createQueue(kind, options)
    await this.boss.updateQueue(kind, options)
  }

  private wake(kind?: string): void {
    if (kind && this.kinds.has(kind)) this.announced.add(kind)
    // a wake while the loop is fetching must not be lost until the next poll
    this.woken = true
    this.wakeUp?.()
  }

  private interrupt(jobId: string, reason: JobInterrupted['reason']): void {
    this.running.get(jobId)?.controller.abort(new JobInterrupted(reason))
  }

  /** takes jobs while a worker slot is free, kinds in turn; sleeps until a notification, a free slot or the poll interval */
  private async work(): Promise<void> {
    while (this.working) {
      this.woken = false
      let took = false
      // one fetch is one catalog round trip per kind: a kind just announced goes first, so a new job does not
      // wait behind a look at every other kind; the rest are taken in turn
      const all = [...this.kinds.keys()]
      const first = [...this.announced]
      this.announced.clear()
      const kinds = [...first, ...all.map((_, i) => all[(this.turn + i) % all.length]!).filter((k) => !first.includes(k))]
      for (let i = 0; i < kinds.length && this.working && this.running.size < this.settings.workers; i++) {
        const kind = kinds[i]!
        const [job] = await this.boss.fetch<Record<string, unknown>>(kind, { batchSize: 1, includeMetadata: true })
          .catch((err: Error) => { this.logger.warn({ err: err.message, kind }, 'could not fetch jobs'); return [] })
        if (!job) continue
        took = true
        this.take(kind, job)
      }
      this.turn++
      if ((took || this.woken) && this.running.size < this.settings.workers) continue
      if (!this.working) break
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.settings.pollIntervalMs)
        this.wakeUp = () => { clearTimeout(timer); this.wakeUp = undefined; resolve() }
      })
    }
  }

  private take(kind: string, job: PgBoss.JobWithMetadata<Record<string, unknown>>): void {
    const run: Run = { kind, job, controller: new AbortController(), done: Promise.resolve(), settled: false }
    this.running.set(job.id, run)
    run.done = this.execute(run)
      .catch((err: Error) => this.logger.warn({ err: err.message, job: job.id, kind }, 'job bookkeeping failed'))
      .finally(() => {
        this.running.delete(job.id)
        this.wake()
      })
  }

  private async execute(run: Run): Promise<void> {
    const { kind, job, controller } = run
    const def = this.kinds.get(kind)!
    const attempt = job.retryCount + 1
    const mine = await this.catalog.transaction(async (tx) => {
      if (!(await this.owns(tx, run))) return false
      if (await this.store.markRunning(tx, { id: job.id, kind, attempt, maxAttempts: job.retryLimit + 1 })) return true
      // the record was cancelled between the fetch and now: the queue follows the record
      await this.boss.cancel(kind, job.id, { db: bossDb(tx) })
      return false
    })
    if (!mine) {
      run.settled = true
      return
    }
    const expiry = setTimeout(() => controller.abort(new JobInterrupted('expired')), Number(job.expireInSeconds) * 1000)
    let outcome: { ok: true; result: unknown } | { ok: false; error: unknown }
    try {
      outcome = { ok: true, result: await def.handler(job.data ?? {}, this.context(run, attempt)) }
    } catch (error) {
      outcome = { ok: false, error }
    } finally {
      clearTimeout(expiry)
    }
    if (run.settled) return // handed back at shutdown while the handler ran on
    run.settled = true
    const reason = controller.signal.aborted ? (controller.signal.reason as JobInterrupted).reason : undefined
    if (outcome.ok) await this.succeed(run, outcome.result)
    else if (reason === 'shutdown') await this.handBack(run)
    else if (reason !== 'cancelled') await this.fail(run, reason === 'expired' ? expiredError(Number(job.expireInSeconds)) : asJobError(outcome.error))
  }

  private context(run: Run, attempt: number): JobContext {
    const jobId = run.job.id
    const signal = run.controller.signal
    return {
      jobId,
      attempt,
      signal,
      progress: async (fraction, message) => {
        const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0
        await this.store.progress(jobId, f, message ?? null)
      },
      step: async <T>(name: string, fn: (tx: PostgresExecutor) => Promise<T>) => {
        signal.throwIfAborted()
        return this.catalog.transaction(async (tx) => {
          const claim = await this.store.claimStep(tx, jobId, name)
          if (!claim.claimed) return claim.output as T
          const output = await fn(tx)
          await this.store.finishStep(tx, jobId, name, output)
          return output
        })
      },
    }
  }

  /**
   * Whether pg-boss still has this run's job active as this process fetched it. After an expiry another
   * worker may hold the job (active again, with a higher retry count); this run must then leave it alone.
   * Reads pg-boss's table: its API completes or fails any active job by id.
   */
  private async owns(tx: Executor, run: Run): Promise<boolean> {
    const res = await tx.query({
      sql: `SELECT 1 FROM ${BOSS_SCHEMA}.job WHERE name = $1 AND id = $2 AND state = 'active' AND retry_count = $3 FOR UPDATE`,
      params: [run.kind, run.job.id, run.job.retryCount],
    })
    return res.rows.length === 1
  }

  private async succeed(run: Run, result: unknown): Promise<void> {
    const evented = await this.catalog.transaction(async (tx) => {
      if (!(await this.owns(tx, run))) return false
      await this.boss.complete(run.kind, run.job.id, {}, { db: bossDb(tx) })
      const owner = await this.store.succeed(tx, run.job.id, result)
      await this.outbox?.write(tx, jobEvent('job.succeeded', run.job.id, run.kind, owner, null))
      return true
    })
    if (evented) this.outbox?.committed()
  }

  private async fail(run: Run, error: JobError): Promise<void> {
    const evented = await this.catalog.transaction(async (tx) => {
      if (!(await this.owns(tx, run))) return false
      await this.boss.fail(run.kind, run.job.id, { code: error.code, message: error.message }, { db: bossDb(tx) })
      const res = await tx.query({ sql: `SELECT state FROM ${BOSS_SCHEMA}.job WHERE name = $1 AND id = $2`, params: [run.kind, run.job.id] })
      const final = res.rows[0]?.state === 'failed'
      const owner = await this.store.failAttempt(tx, run.job.id, error, final)
      // an attempt with a retry left is not an outcome
      if (!final) return false
      await this.outbox?.write(tx, jobEvent('job.failed', run.job.id, run.kind, owner, error))
      return true
    })
    if (evented) this.outbox?.committed()
    this.logger.warn({ job: run.job.id, kind: run.kind, attempt: run.job.retryCount + 1, code: error.code, err: error.message }, 'job attempt failed')
  }

  /**
   * Puts an active job back as if it had not been taken: pg-boss has no call for that (fail would use up a
   * retry and wait out the backoff), so its row is set back directly — retry state due now, and the retry
   * count the fetch will add again (a first run's started_on cleared, since the fetch counts from it).
   */
  private async handBack(run: Run): Promise<void> {
    await this.catalog.transaction(async (tx) => {
      if (!(await this.owns(tx, run))) return
      await tx.query({
        sql: `UPDATE ${BOSS_SCHEMA}.job SET state = 'retry', start_after = now(),
                started_on = CASE WHEN retry_count = 0 THEN NULL ELSE started_on END, retry_count = GREATEST(retry_count - 1, 0)
              WHERE name = $1 AND id = $2`,
        params: [run.kind, run.job.id],
      })
      await this.store.handBack(tx, run.job.id)
      await tx.query({ sql: 'SELECT pg_notify($1, $2)', params: [WAKE_CHANNEL, run.kind] })
    })
  }
}

/** pg-boss runs its SQL on this instead of its own pool: the caller's transaction */
function bossDb(tx: Executor): PgBoss.Db {
  return { executeSql: async (text, values) => ({ rows: (await tx.query({ sql: text, params: values ?? [] })).rows }) }
}

function jobEvent(type: JobEventV1['type'], id: string, kind: string, owner: JobOwner | null, error: JobError | null): NewEvent<JobEventV1> {
  return {
    payload: { type, version: 1, job_id: id, kind, error: error && { code: error.code, message: error.message } },
    tenant: owner && `${owner.kind}:${owner.id}`,
  }
}

function asJobError(err: unknown): JobError {
  if (err instanceof AppError) return { code: err.code, message: err.message }
  return { code: 'job_failed', message: err instanceof Error ? err.message : String(err) }
}

function expiredError(seconds: number): JobError {
  return { code: 'job_expired', message: `the job ran longer than its expiry (${seconds} s) and was stopped` }
}
