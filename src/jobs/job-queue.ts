// Durable jobs on the catalog database (pg-boss): queues, cron schedules and workers in this process.
// Any number of Atrium processes may share it; pg-boss hands each job to one worker.
import PgBoss from 'pg-boss'
import type { Logger } from 'pino'

export type JobHandler = (data: Record<string, unknown>) => Promise<unknown>

export class JobQueue {
  private readonly boss: PgBoss
  private started = false

  constructor(url: string, private readonly logger: Logger) {
    this.boss = new PgBoss({
      connectionString: url,
      // its own schema, next to Atrium's "atrium" schema in the catalog
      schema: 'atrium_jobs',
      application_name: 'atrium-jobs',
      max: 3,
    })
    // pg-boss reports connection trouble as events; an unhandled 'error' event would end the process
    this.boss.on('error', (err) => this.logger.warn({ err: err.message }, 'job queue error'))
  }

  async start(): Promise<void> {
    await this.boss.start()
    this.started = true
  }

  /** runs handler for every job of the queue, one job at a time, in this process */
  async work(queue: string, handler: JobHandler): Promise<void> {
    await this.boss.createQueue(queue)
    await this.boss.work<Record<string, unknown>>(queue, { pollingIntervalSeconds: 2 }, async (jobs) => {
      for (const job of jobs) await handler(job.data ?? {})
    })
  }

  /** (re)defines the cron schedule of a queue; pg-boss creates one job per tick however many processes run */
  async schedule(queue: string, cron: string, data: Record<string, unknown> = {}): Promise<void> {
    await this.boss.createQueue(queue)
    await this.boss.schedule(queue, cron, data, { tz: 'UTC' })
  }

  async unschedule(queue: string): Promise<void> {
    await this.boss.unschedule(queue)
  }

  async send(queue: string, data: Record<string, unknown> = {}): Promise<string | null> {
    await this.boss.createQueue(queue)
    return this.boss.send(queue, data)
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    // graceful: a running job may finish within the timeout; a non-graceful stop leaves pg-boss timers behind
    await this.boss.stop({ graceful: true, wait: true, timeout: 5_000 }).catch((err: Error) => this.logger.warn({ err: err.message }, 'job queue stop failed'))
  }
}
