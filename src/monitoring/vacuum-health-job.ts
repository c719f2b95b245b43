// The recurring vacuum health collection: a cron schedule of a job kind, run by whichever process has workers.
import { collectVacuumHealth } from './vacuum-health-collector.js'
import type { Services } from '../services.js'

export const VACUUM_HEALTH_QUEUE = 'vacuum-health-collect'

/** schedules the collector (vacuumHealth.schedule) and works its jobs here; unschedules it when disabled */
export async function startVacuumHealthJob(services: Services): Promise<void> {
  const { jobs, config, logger } = services
  if (!config.vacuumHealth.enabled) {
    // the schedule lives in the catalog, so a disabled setting must remove what an earlier start created
    await jobs.unschedule(VACUUM_HEALTH_QUEUE)
    return
  }
  // one run per tick is enough: a failed collection is simply collected again at the next one
  await jobs.define(VACUUM_HEALTH_QUEUE, async () => {
    const snapshots = await collectVacuumHealth(services)
    logger.info({ clients: snapshots.length, failed: snapshots.filter((s) => s.collection_error).length }, 'vacuum health collected')
  }, { retryLimit: 0 })
  await jobs.schedule(VACUUM_HEALTH_QUEUE, config.vacuumHealth.schedule)
}
