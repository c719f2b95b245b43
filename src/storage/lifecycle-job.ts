// Lifecycle rules of buckets, applied by a scheduled job (jobs/job-queue.ts): hourly, whichever process has
// workers takes the run. expiration_days deletes current objects under the rule's prefix last modified longer
// ago (a versioned bucket keeps each as a noncurrent version, as S3 does); noncurrent_version_expiration_days
// deletes noncurrent versions that old. Idempotent: a run that stops half-way is finished by the next one.
import type { Logger } from 'pino'
import type { JobQueue } from '../jobs/job-queue.js'
import type { ObjectStore } from '../objects/object-store.js'
import { storeBucketOf, type Bucket, type BucketStore, type LifecycleRule } from './bucket-store.js'
import type { ObjectVersions } from './object-versions.js'

export const STORAGE_LIFECYCLE_QUEUE = 'storage-lifecycle'
const SCHEDULE = '41 * * * *'
const DAY_MS = 24 * 3600 * 1000

export interface LifecycleDeps {
  jobs: JobQueue
  buckets: BucketStore
  objects: ObjectStore
  versions: ObjectVersions
  logger: Logger
}

/** defines the job and its hourly schedule */
export async function startStorageLifecycleJob(deps: LifecycleDeps): Promise<void> {
  await deps.jobs.define(STORAGE_LIFECYCLE_QUEUE, async (data: { as_of?: string }, ctx) => {
    // as_of: the moment the rules are evaluated at (now, unless a run is asked for another moment)
    const asOf = data.as_of ? new Date(data.as_of) : new Date()
    const buckets = await deps.buckets.withLifecycleRules()
    let expired = 0
    for (const [i, bucket] of buckets.entries()) {
      for (const rule of bucket.lifecycle) if (rule.status === 'Enabled') expired += await applyRule(deps, bucket, rule, asOf)
      await ctx.progress((i + 1) / buckets.length)
    }
    if (expired) deps.logger.info({ expired, buckets: buckets.length }, 'storage lifecycle rules expired objects')
    return { buckets: buckets.length, expired }
  })
  await deps.jobs.schedule(STORAGE_LIFECYCLE_QUEUE, SCHEDULE)
}

/** applies one rule to one bucket; returns how many objects and versions it removed */
export async function applyRule(deps: Pick<LifecycleDeps, 'objects' | 'versions'>, bucket: Bucket, rule: LifecycleRule, asOf: Date): Promise<number> {
  let removed = 0
  if (rule.expiration_days !== undefined) {
    const cutoff = asOf.getTime() - rule.expiration_days * DAY_MS
    const store = storeBucketOf(bucket)
    let token: string | undefined
    // one pass over the prefix, page by page; pages are bounded (1000 keys) and the listing ends
    do {
      const page = await deps.objects.list({ bucket: store, prefix: rule.prefix || undefined, maxKeys: 1000, continuationToken: token })
      const old = page.objects.filter((o) => o.lastModified.getTime() < cutoff)
      for (const o of old) await deps.versions.keep(bucket, o.key)
      if (old.length) removed += (await deps.objects.deleteMany(store, old.map((o) => o.key))).deleted.length
      token = page.nextContinuationToken
    } while (token)
  }
  if (rule.noncurrent_version_expiration_days !== undefined) {
    removed += await deps.versions.expire(bucket, rule.prefix, new Date(asOf.getTime() - rule.noncurrent_version_expiration_days * DAY_MS))
  }
  return removed
}
