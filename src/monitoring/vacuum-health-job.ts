// The recurring vacuum health collection: a cron schedule of a job kind, run by whichever process has workers.
import { collectVacuumHealth, type VacuumHealthDeps } from './vacuum-health-collector.js'
import type { Config } from '../config/schema.js'
import type { JobQueue } from '../jobs/job-queue.js'

export const VACUUM_HEALTH_QUEUE = 'vacuum-health-collect'

export interface VacuumHealthJobDeps extends VacuumHealthDeps {
  jobs: JobQueue
  config: Pick<Config, 'vacuumHealth'>
}

/** schedules the collector (vacuumHealth.schedule) and works its jobs here; unschedules it when disabled */
export async function startVacuumHealthJob(deps: VacuumHealthJobDeps): Promise<void> {
  const { jobs, config, logger } = deps
  if (!config.vacuumHealth.enabled) {
    // the schedule lives in the catalog, so a disabled setting must remove what an earlier start created
    await jobs.unschedule(VACUUM_HEALTH_QUEUE)
    return
  }
  // one run per tick is enough: a failed collection is simply collected again at the next one
  await jobs.define(VACUUM_HEALTH_QUEUE, async () => {
    const snapshots = await collectVacuumHealth(deps)
    logger.info({ clients: snapshots.length, failed: snapshots.filter((s) => s.collection_error).length }, 'vacuum health collected')
  }, { retryLimit: 0 })
  await jobs.schedule(VACUUM_HEALTH_QUEUE, config.vacuumHealth.schedule)
}
