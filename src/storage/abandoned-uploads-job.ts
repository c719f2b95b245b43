// Abandoned uploads, swept by a scheduled job (jobs/job-queue.ts): a file record still pending a week after it
// was last touched either has bytes nobody looked at (they are checked against the bucket and the record becomes
// uploaded, as a read would make it) or never got any: its multipart upload is aborted, so its parts stop taking
// space, and the record is removed, freeing its key. Idempotent: a run that stops half-way is finished by the next.
import type { Logger } from 'pino'
import { AppError } from '../errors/app-error.js'
import type { JobQueue } from '../jobs/job-queue.js'
import type { ObjectStore } from '../objects/object-store.js'
import type { BucketStore } from './bucket-store.js'
import { admitObject, refOf } from './file-access.js'
import type { FileStore, StoredFile } from './file-store.js'

export const ABANDONED_UPLOADS_QUEUE = 'storage-abandoned-uploads'
const SCHEDULE = '53 * * * *'
/** how long a pending file may wait for its bytes */
export const ABANDONED_AFTER_MS = 7 * 24 * 3600 * 1000
/** files per batch, and batches per run (a run is bounded; the next one goes on) */
const BATCH = 500
const BATCHES = 20

export interface AbandonedUploadsDeps {
  jobs: JobQueue
  files: FileStore
  buckets: BucketStore
  objects: ObjectStore
  logger: Logger
}

export async function startAbandonedUploadsJob(deps: AbandonedUploadsDeps): Promise<void> {
  await deps.jobs.define(ABANDONED_UPLOADS_QUEUE, async (data: { as_of?: string }) => {
    // as_of: the moment the sweep runs as of (now, unless a run is asked for another moment)
    const asOf = data.as_of ? new Date(data.as_of) : new Date()
    const before = new Date(asOf.getTime() - ABANDONED_AFTER_MS)
    let removed = 0
    let settled = 0
    for (let batch = 0; batch < BATCHES; batch++) {
      const files = await deps.files.pendingSince(before, BATCH)
      for (const file of files) {
        if (await sweep(deps, file)) settled++
        else removed++
      }
      if (files.length < BATCH) break
    }
    if (removed || settled) deps.logger.info({ removed, settled }, 'storage: abandoned uploads swept')
    return { removed, settled }
  })
  await deps.jobs.schedule(ABANDONED_UPLOADS_QUEUE, SCHEDULE)
}

/** true when the file had acceptable bytes and is now uploaded; false when its record was removed */
async function sweep(deps: AbandonedUploadsDeps, file: StoredFile): Promise<boolean> {
  const ref = refOf(file)
  if (file.upload_id !== null) await deps.objects.abortMultipartUpload(ref, file.upload_id).catch(() => {})
  const info = await deps.objects.stat(ref)
  if (info) {
    try {
      const bucket = await deps.buckets.resolve({ client: file.client, s3Id: file.s3_id }, file.bucket)
      await admitObject(deps.objects, ref, info, bucket, file.content_type ?? info.contentType)
      await deps.files.update(file.client, file.id, { status: 'uploaded', upload_id: null, size_bytes: info.size, etag: info.etag, content_type: file.content_type ?? info.contentType })
      return true
    } catch (err) {
      // refused bytes are removed by admitObject; anything else waits for the next run
      if (!(err instanceof AppError) || err.status >= 500) throw err
    }
  }
  await deps.files.remove(file.client, file.id)
  return false
}
