// Idempotency keys are answered for 24 hours (a claim past that takes the key afresh); an hourly job deletes
// the rows once they are two days old, so the table holds about two days of writes (jobs/retention-job.ts).
import { startRetentionJob, type RetainedTable, type RetentionDeps } from '../jobs/retention-job.js'

export const IDEMPOTENCY_KEYS: RetainedTable = { queue: 'idempotency-keys-prune', schedule: '41 * * * *', table: 'atrium.idempotency_keys', timeColumn: 'created_at', rows: 'idempotency keys' }

export function startIdempotencyRetentionJob(deps: RetentionDeps): Promise<void> {
  return startRetentionJob(deps, IDEMPOTENCY_KEYS, 2)
}
