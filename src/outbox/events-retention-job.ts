// Event retention: an hourly job schedule that deletes committed events older than events.retentionDays,
// run by whichever process has workers.
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import type { JobQueue } from '../jobs/job-queue.js'
import { pruneEvents } from './event-store.js'

export const EVENTS_PRUNE_QUEUE = 'events-prune'
// hourly, off the hour the request log prunes at
const SCHEDULE = '23 * * * *'
// rows per DELETE: each batch commits on its own, so no run holds locks or grows WAL for long
const BATCH = 10_000

export async function startEventsRetentionJob(deps: { jobs: JobQueue; catalog: Catalog; settings: Config['events']; logger: Logger }): Promise<void> {
  const { jobs, catalog, settings, logger } = deps
  await jobs.define(EVENTS_PRUNE_QUEUE, async () => {
    const deleted = await pruneEvents(catalog, settings.retentionDays, BATCH)
    if (deleted) logger.info({ deleted, retentionDays: settings.retentionDays }, 'old events deleted')
  })
  await jobs.schedule(EVENTS_PRUNE_QUEUE, SCHEDULE)
}
