import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createDatabase, DIALECTS, type TestDatabase } from '../../helpers/databases.js'
import { startS3Server } from '../../helpers/s3-server.js'
import { loadBackupFixture, sha256, tableChecksums, waitForBackupJob } from '../../helpers/backups.js'

// Backups on the S3 store (a real s3rver): the archive is uploaded as it is dumped, downloaded through Atrium
// and through a presigned S3 URL, restored into another client with equal row counts and table checksums,
// and deleted from the bucket with its backup.

test('/admin/backups on the S3 store', async (t) => {
  const s3 = await startS3Server(t)
  const dbs: Record<string, TestDatabase> = {}
  for (const dialect of DIALECTS) {
    dbs[`${dialect}_src`] = await createDatabase(t, dialect, 'atrium_bks3_src')
    dbs[`${dialect}_tgt`] = await createDatabase(t, dialect, 'atrium_bks3_tgt')
    await loadBackupFixture(dbs[`${dialect}_src`]!)
  }
  const atrium = await startTestAtrium(t, { env: s3.env, sources: Object.fromEntries(Object.entries(dbs).map(([name, db]) => [name, db.url])) })
  assert.equal(atrium.handle.platform.objects.kind, 's3')

  for (const dialect of DIALECTS) {
    await t.test(`${dialect}: backup into S3, presigned download, restore, delete`, async () => {
      const before = await tableChecksums(dbs[`${dialect}_src`]!)
      const created = await atrium.post('/admin/backups', { body: { client_name: `${dialect}_src` } })
      assert.equal(created.status, 200, created.text)
      const job = await waitForBackupJob(atrium, created.body.job_id)
      assert.equal(job.status, 'succeeded', JSON.stringify(job))
      const [backup] = (await atrium.get(`/admin/backups?client_name=${dialect}_src`)).body.backups
      assert.equal(backup.key, job.key)

      // the object is in the S3 bucket, under the backups prefix
      const info = await atrium.handle.platform.objects.head({ bucket: 'backups', key: backup.key })
      assert.equal(info.size, backup.size_bytes)

      const download = await fetch(`${atrium.url}/admin/backups/${encodeURIComponent(backup.key)}/download`, { headers: { apikey: atrium.handle.platform.adminKey } })
      assert.equal(download.status, 200)
      assert.equal(sha256(Buffer.from(await download.arrayBuffer())), backup.sha256)

      const signed = await atrium.get(`/admin/backups/${encodeURIComponent(backup.key)}/url?expires_in=120`)
      assert.equal(signed.status, 200, signed.text)
      assert.ok(signed.body.url.startsWith(s3.endpoint), 'a presigned URL of the S3 server itself')
      const viaS3 = await fetch(signed.body.url)
      assert.equal(viaS3.status, 200)
      assert.equal(sha256(Buffer.from(await viaS3.arrayBuffer())), backup.sha256)

      const restored = await atrium.post(`/admin/backups/${encodeURIComponent(backup.key)}/restore`, { body: { client_name: `${dialect}_tgt` } })
      assert.equal(restored.status, 200, restored.text)
      const restoreJob = await waitForBackupJob(atrium, restored.body.job_id)
      assert.equal(restoreJob.status, 'succeeded', JSON.stringify(restoreJob))
      assert.deepEqual(await tableChecksums(dbs[`${dialect}_tgt`]!), before)

      const deleted = await atrium.request('DELETE', `/admin/backups/${encodeURIComponent(backup.key)}`)
      assert.equal(deleted.status, 200, deleted.text)
      assert.equal(await atrium.handle.platform.objects.stat({ bucket: 'backups', key: backup.key }), undefined)
    })
  }
})
