// Admission events retention: an hourly job schedule that deletes admission events older than
// admission.retentionDays, in batches, run by whichever process has workers.
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import type { JobQueue } from '../jobs/job-queue.js'
import { pruneAdmissionEvents } from './admission-event-store.js'

export interface AdmissionRetentionDeps {
  jobs: JobQueue
  config: Pick<Config, 'admission'>
  logger: Logger
  catalog: Catalog
}

export const ADMISSION_PRUNE_QUEUE = 'admission-events-prune'
// hourly, off the request log's minute so the two deletes do not start together
const SCHEDULE = '17 * * * *'

/** schedules the pruning when a retention is set and works its jobs here; unschedules it when it is 0 */
export async function startAdmissionRetentionJob(deps: AdmissionRetentionDeps): Promise<void> {
  const { jobs, config, logger, catalog } = deps
  const days = config.admission.retentionDays
  if (!days) {
    // the schedule lives in the catalog, so turning retention off must remove what an earlier start created
    await jobs.unschedule(ADMISSION_PRUNE_QUEUE)
    return
  }
  await jobs.define(ADMISSION_PRUNE_QUEUE, async () => {
    const deleted = await pruneAdmissionEvents(catalog, days)
    if (deleted) logger.info({ deleted, retentionDays: days }, 'old admission events deleted')
  })
  await jobs.schedule(ADMISSION_PRUNE_QUEUE, SCHEDULE)
}
