// A worker process for the kill -9 test: one job kind whose handler moves money in a step, then (on its first
// attempt, when asked) announces that and hangs until the test kills the process.
import { pino } from 'pino'
import { Catalog } from '../../src/catalog/catalog.js'
import { JobQueue } from '../../src/jobs/job-queue.js'

const url = process.env.CATALOG_URL!
const logger = pino({ level: 'silent' })
const catalog = new Catalog(url, logger)
await catalog.migrate()
const jobs = new JobQueue(catalog, { workers: 1, pollIntervalMs: 200, maintenanceIntervalSeconds: 1, shutdownGraceMs: 1_000, recordRetentionDays: 30 }, logger)
await jobs.start()
await jobs.define<{ amount: number }>('transfer', async (data, ctx) => {
  // the effect and the step's mark commit together: a second run finds the step done and skips it
  await ctx.step('transfer', async (tx) => {
    await tx.query({ sql: 'INSERT INTO jobs_test.transfers (job_id, amount) VALUES ($1, $2) ON CONFLICT DO NOTHING', params: [ctx.jobId, data.amount] })
    await tx.query({ sql: 'UPDATE jobs_test.account SET balance = balance + $1', params: [data.amount] })
  })
  if (ctx.attempt === 1 && process.env.HANG_FIRST_ATTEMPT === '1') {
    process.stdout.write(`STEP_DONE ${ctx.jobId}\n`)
    await new Promise(() => {})
  }
  return { transferred: data.amount }
}, { retryLimit: 2, retryDelay: 0, retryBackoff: false, expireIn: 2 })
process.stdout.write('READY\n')
process.on('SIGTERM', () => { void jobs.stop().then(() => catalog.close()).then(() => process.exit(0)) })
