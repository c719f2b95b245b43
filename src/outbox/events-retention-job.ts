// Event retention (events.retentionDays, at least 1): an hourly pruning job (jobs/retention-job.ts).
import type { Config } from '../config/schema.js'
import { startRetentionJob, type RetainedTable, type RetentionDeps } from '../jobs/retention-job.js'

export const EVENTS: RetainedTable = { queue: 'events-prune', schedule: '23 * * * *', table: 'atrium.events', timeColumn: 'created_at', rows: 'events' }

export function startEventsRetentionJob(deps: RetentionDeps & { settings: Config['events'] }): Promise<void> {
  return startRetentionJob(deps, EVENTS, deps.settings.retentionDays)
}
