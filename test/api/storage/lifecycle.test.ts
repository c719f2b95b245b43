import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { STORAGE_LIFECYCLE_QUEUE } from '../../../src/storage/lifecycle-job.js'
import { startTestAtrium, type TestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'
import { startS3Server } from '../../helpers/s3-server.js'

// Bucket lifecycle rules are applied by an hourly pg-boss job. A run is sent here as the schedule would send
// it, evaluated as of a later moment (as_of), so objects written now count as old; on both backends.
const BACKENDS: { name: string; env(t: TestContext): Promise<Record<string, string>> }[] = [
  { name: 'filesystem', env: async () => ({}) },
  { name: 's3', env: async (t) => (await startS3Server(t)).env },
]
const DAY = 24 * 3600 * 1000

async function put(atrium: TestAtrium, bucket: string, key: string, text: string) {
  const signed = await atrium.post('/storage/objects/upload-url', { client: 'app', body: { s3_id: 'default', bucket, key } })
  assert.equal(signed.status, 200, signed.text)
  assert.ok((await fetch(signed.body.data.url, { method: 'PUT', body: text, headers: signed.body.data.headers })).ok)
}

for (const backend of BACKENDS) {
  test(`storage lifecycle rules: ${backend.name}`, async (t) => {
    const db = await createPgDatabase(t)
    const atrium = await startTestAtrium(t, { sources: { app: db.url }, env: await backend.env(t) })
    const post = (path: string, body: Record<string, unknown>) => atrium.post(path, { client: 'app', body: { s3_id: 'default', ...body } })
    const exists = async (bucket: string, key: string) => (await post('/storage/objects/exists', { bucket, key })).body.data.exists as boolean
    const versionCount = async (bucket: string, key: string) => (await post('/storage/objects/versions', { bucket, key })).body.data.versions.length as number
    /** sends a run as of `days` from now and waits (bounded) for its job record to succeed; returns its result */
    const runOnce = async (days: number) => {
      const bossId = await atrium.handle.platform.jobs.send(STORAGE_LIFECYCLE_QUEUE, { as_of: new Date(Date.now() + days * DAY).toISOString() })
      for (let i = 0; i < 80; i++) {
        const [row] = await atrium.catalog.query<{ status: string; result: { expired: number } }>('SELECT status, result FROM atrium.jobs WHERE boss_job_id = $1', [bossId])
        if (row?.status === 'succeeded') return row.result
        if (row?.status === 'failed') assert.fail('the lifecycle job failed')
        await sleep(250)
      }
      return assert.fail('the lifecycle job did not finish')
    }
    /** sends a run as of `days` from now and waits (bounded) until `done` holds */
    const runUntil = async (days: number, done: () => Promise<boolean>) => {
      await atrium.handle.platform.jobs.send(STORAGE_LIFECYCLE_QUEUE, { as_of: new Date(Date.now() + days * DAY).toISOString() })
      for (let i = 0; i < 80 && !(await done()); i++) await sleep(250)
      return done()
    }

    await t.test('the job is an hourly schedule', async () => {
      const rows = await atrium.catalog.query<{ name: string; cron: string }>('SELECT name, cron FROM atrium_jobs.schedule WHERE name = $1', [STORAGE_LIFECYCLE_QUEUE])
      assert.deepEqual(rows, [{ name: STORAGE_LIFECYCLE_QUEUE, cron: '41 * * * *' }])
    })

    await t.test('expiration_days deletes old objects under the prefix only, once they are old enough', async () => {
      assert.equal((await post('/storage/buckets/create', { bucket: 'scratch' })).status, 201)
      await put(atrium, 'scratch', 'tmp/a', 'a')
      await put(atrium, 'scratch', 'keep/b', 'b')
      assert.equal((await post('/storage/buckets/lifecycle/set', { bucket: 'scratch', rules: [{ id: 'tmp', prefix: 'tmp/', expiration_days: 7 }] })).status, 200)
      // as of 3 days from now the object is not old enough: a later run (as of 8 days) removes it
      assert.equal((await runOnce(3)).expired, 0)
      assert.equal(await exists('scratch', 'tmp/a'), true, 'not old enough yet')
      assert.equal(await runUntil(8, async () => !(await exists('scratch', 'tmp/a'))), true, 'tmp/a expired')
      assert.equal(await exists('scratch', 'keep/b'), true, 'outside the prefix stays')
    })

    await t.test('a disabled rule does nothing; noncurrent_version_expiration_days removes old versions', async () => {
      await post('/storage/buckets/create', { bucket: 'versioned', versioning: true })
      await put(atrium, 'versioned', 'doc', 'one')
      await put(atrium, 'versioned', 'doc', 'two')
      assert.equal(await versionCount('versioned', 'doc'), 2)
      await post('/storage/buckets/lifecycle/set', { bucket: 'versioned', rules: [{ prefix: '', expiration_days: 1, status: 'Disabled' }, { id: 'old-versions', noncurrent_version_expiration_days: 1 }] })
      assert.equal(await runUntil(2, async () => (await versionCount('versioned', 'doc')) === 1), true, 'the noncurrent version went')
      assert.equal(await exists('versioned', 'doc'), true, 'the current object stays (its rule is disabled)')
    })
  })
}
