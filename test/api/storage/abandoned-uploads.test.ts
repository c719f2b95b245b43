import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ABANDONED_UPLOADS_QUEUE } from '../../../src/storage/abandoned-uploads-job.js'
import { storeBucketOf } from '../../../src/storage/bucket-store.js'
import { BACKENDS, createBucket, putToUploadUrl, startStorageAtrium, uploadUrl } from '../../helpers/storage-files.js'

// Pending file records are swept by an hourly pg-boss job once untouched for a week. A run is sent here as the
// schedule would send it, evaluated as of eight days from now, so records made now count as abandoned.

const DAY = 24 * 3600 * 1000

for (const backend of BACKENDS) {
  test(`storage abandoned uploads: ${backend}`, async (t) => {
    const atrium = await startStorageAtrium(t, backend)
    await createBucket(atrium, 'docs', { file_size_limit: 100 })
    const app = { client: 'app' }
    const status = async (id: string) => (await atrium.get(`/storage/files/${id}`, app))
    /** sends a run as of `days` from now and waits (bounded) for its job record to succeed; returns its result */
    const runOnce = async (days: number) => {
      const bossId = await atrium.handle.platform.jobs.send(ABANDONED_UPLOADS_QUEUE, { as_of: new Date(Date.now() + days * DAY).toISOString() })
      for (let i = 0; i < 80; i++) {
        const [row] = await atrium.catalog.query<{ status: string; result: { removed: number; settled: number } }>('SELECT status, result FROM atrium.jobs WHERE boss_job_id = $1', [bossId])
        if (row?.status === 'succeeded') return row.result
        if (row?.status === 'failed') assert.fail('the sweep failed')
        await sleep(250)
      }
      return assert.fail('the sweep did not finish')
    }

    await t.test('the sweep is an hourly schedule', async () => {
      const rows = await atrium.catalog.query<{ cron: string }>('SELECT cron FROM atrium_jobs.schedule WHERE name = $1', [ABANDONED_UPLOADS_QUEUE])
      assert.deepEqual(rows, [{ cron: '53 * * * *' }])
    })

    await t.test('a week-old pending file: no bytes → removed (its multipart upload aborted), bytes → uploaded, bad bytes → removed', async () => {
      const empty = (await uploadUrl(atrium, { bucket: 'docs', storage_key: 'never.txt' })).file
      const parted = (await uploadUrl(atrium, { bucket: 'docs', storage_key: 'parted.bin' })).file
      const uploadId = (await atrium.post('/storage/multipart/create', { ...app, body: { file_id: parted.id } })).body.data.upload_id
      const signed = (await atrium.post('/storage/multipart/sign-part', { ...app, body: { file_id: parted.id, upload_id: uploadId, part_number: 1 } })).body.data
      assert.equal((await fetch(signed.url, { method: 'PUT', body: 'a part' })).status, 200)
      const arrived = await uploadUrl(atrium, { bucket: 'docs', storage_key: 'arrived.txt', content_type: 'text/plain' })
      await putToUploadUrl(arrived.upload, 'bytes nobody read')
      const tooBig = await uploadUrl(atrium, { bucket: 'docs', storage_key: 'big.txt', content_type: 'text/plain' })
      await putToUploadUrl(tooBig.upload, 'x'.repeat(500))
      const fresh = (await uploadUrl(atrium, { bucket: 'docs', storage_key: 'fresh.txt' })).file

      assert.deepEqual(await runOnce(1), { removed: 0, settled: 0 }, 'a day is not abandoned')
      const result = await runOnce(8)
      assert.equal(result.settled, 1)
      assert.equal(result.removed, 4)
      assert.equal((await status(empty.id)).status, 404)
      assert.equal((await status(parted.id)).status, 404)
      assert.equal((await status(tooBig.file.id)).status, 404)
      assert.equal((await status(fresh.id)).status, 404, 'as of eight days from now, a file made now is a week old too')
      const kept = (await status(arrived.file.id)).body.data.file
      assert.equal(kept.status, 'uploaded')
      assert.equal(kept.size_bytes, 17)
      // the record is gone, so the store itself is asked about the upload
      const bucket = await atrium.handle.platform.buckets.resolve({ client: 'app', s3Id: 'default' }, 'docs')
      const parts = await atrium.handle.platform.objects.listParts({ bucket: storeBucketOf(bucket), key: 'parted.bin' }, uploadId).catch((err) => err)
      assert.equal(parts.code, 'multipart_upload_not_found', 'the upload was aborted')
      // the keys are free again
      await uploadUrl(atrium, { bucket: 'docs', storage_key: 'never.txt' })
    })
  })
}
