import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { createDatabase, DIALECTS, type TestDatabase } from '../../helpers/databases.js'
import { loadBackupFixture, sha256, tableChecksums, waitForBackupJob } from '../../helpers/backups.js'
import { assertMatchesSpec } from '../../helpers/athena-contract.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { SCHEDULE_TICK_JOB } from '../../../src/backups/backup-jobs.js'
import { untilTrue as until } from '../../helpers/until.js'

// Backups on the filesystem store, end to end through HTTP as the SDK's backup client calls them: a backup of
// PostgreSQL and MariaDB databases with several tables, then restores into an empty client and over the
// source itself; row counts and a checksum of every table are the same afterwards.


test('/admin/backups on the filesystem store', async (t) => {
  const dbs: Record<string, TestDatabase> = {}
  for (const dialect of DIALECTS) {
    dbs[`${dialect}_src`] = await createDatabase(t, dialect, 'atrium_bk_src')
    dbs[`${dialect}_tgt`] = await createDatabase(t, dialect, 'atrium_bk_tgt')
    await loadBackupFixture(dbs[`${dialect}_src`]!)
  }
  // backed up by the every-minute schedule only, so its ticks touch no other client's list
  dbs.ticked = await createDatabase(t, 'mysql', 'atrium_bk_tick')
  const atrium = await startTestAtrium(t, { sources: Object.fromEntries(Object.entries(dbs).map(([name, db]) => [name, db.url])) })
  const { key: apiKey } = await createKey(atrium, { rights: ['gateway.read', 'schema.read', 'sql.ddl'] })
  // a schedule due every minute, made now: its first tick is the next minute boundary (checked at the end)
  const everyMinute = await atrium.post('/admin/backups/schedules', { body: { client_name: 'ticked', cron: '* * * * *', keep_last: 1, label: 'every minute' } })
  assert.equal(everyMinute.status, 201, everyMinute.text)

  for (const dialect of DIALECTS) {
    await t.test(`${dialect}: backup, download, signed URL, restore into an empty client and over the source`, async () => {
      const src = dbs[`${dialect}_src`]!
      const tgt = dbs[`${dialect}_tgt`]!
      const before = await tableChecksums(src)
      assert.equal(before.orders!.rows, 300)

      // what the SDK's storage.backup.create sends and reads
      const created = await atrium.post('/admin/backups', { body: { client_name: `${dialect}_src`, label: 'before the migration' } })
      assert.equal(created.status, 200, created.text)
      assert.equal(typeof created.body.job_id, 'number')
      assert.equal(created.body.client_name, `${dialect}_src`)
      assert.equal(created.body.status, 'queued')
      assert.equal(created.body.label, 'before the migration')
      assert.ok(await assertMatchesSpec('POST', '/admin/backups', 200, created.body))
      const job = await waitForBackupJob(atrium, created.body.job_id)
      assert.equal(job.status, 'succeeded', JSON.stringify(job))
      assert.equal(job.job_type, 'backup')
      assert.equal(job.progress_pct, 100)

      // storage.backup.list: { backups: [{ key | s3_key, size_bytes, … }], next_cursor }
      const list = await atrium.get(`/admin/backups?client_name=${dialect}_src&limit=10`)
      assert.equal(list.status, 200, list.text)
      assert.equal(list.body.backups.length, 1)
      assert.equal(list.body.next_cursor, null)
      assert.ok(await assertMatchesSpec('GET', '/admin/backups', 200, list.body))
      const backup = list.body.backups[0]
      assert.equal(backup.key, job.key)
      assert.equal(backup.s3_key, backup.key)
      assert.equal(backup.label, 'before the migration')
      assert.equal(backup.engine, dialect)
      assert.equal(backup.job_id, job.id)
      assert.ok(backup.size_bytes > 0)
      assert.match(backup.server_version, /\d+\.\d+/)
      assert.match(backup.tool_version, dialect === 'postgres' ? /^pg_dump/ : /mariadb-dump|mysqldump/i)
      assert.deepEqual(Object.fromEntries(backup.tables.map((x: any) => [x.name, x.rows])), { customers: 50, events: 120, orders: 300 })

      // download: the stored bytes, whose sha256 is the recorded checksum
      const download = await fetch(`${atrium.url}/admin/backups/${encodeURIComponent(backup.key)}/download`, { headers: { apikey: atrium.handle.platform.adminKey } })
      assert.equal(download.status, 200)
      const bytes = Buffer.from(await download.arrayBuffer())
      assert.equal(bytes.length, backup.size_bytes)
      assert.equal(sha256(bytes), backup.sha256)
      assert.equal(download.headers.get('x-backup-sha256'), backup.sha256)
      assert.match(download.headers.get('content-disposition') ?? '', /attachment; filename=/)
      if (dialect === 'postgres') assert.equal(bytes.subarray(0, 5).toString(), 'PGDMP')
      else assert.match(gunzipSync(bytes).toString('utf8'), /CREATE TABLE `orders`/)

      // the SDK's downloadUrl puts the key in ?api_key=
      const viaQuery = await fetch(`${atrium.url}/admin/backups/${encodeURIComponent(backup.key)}/download?api_key=${encodeURIComponent(atrium.handle.platform.adminKey)}`)
      assert.equal(viaQuery.status, 200)
      assert.equal(sha256(Buffer.from(await viaQuery.arrayBuffer())), backup.sha256)

      // a signed URL needs no key
      const signed = await atrium.get(`/admin/backups/${encodeURIComponent(backup.key)}/url?expires_in=60`)
      assert.equal(signed.status, 200, signed.text)
      const viaSigned = await fetch(signed.body.url)
      assert.equal(viaSigned.status, 200)
      assert.equal(sha256(Buffer.from(await viaSigned.arrayBuffer())), backup.sha256)
      const opened = await atrium.get(`/admin/backups/jobs/${job.id}/s3-open`)
      assert.equal(opened.status, 200, opened.text)
      assert.equal(typeof opened.body.url, 'string')

      // restore into the empty target client: no force needed
      const restored = await atrium.post(`/admin/backups/${encodeURIComponent(backup.key)}/restore`, { body: { client_name: `${dialect}_tgt` } })
      assert.equal(restored.status, 200, restored.text)
      assert.equal(restored.body.key, backup.key)
      assert.equal(restored.body.client_name, `${dialect}_tgt`)
      assert.ok(await assertMatchesSpec('POST', '/admin/backups/{key}/restore', 200, restored.body))
      assert.equal(typeof restored.body.job_id, 'number')
      const restoreJob = await waitForBackupJob(atrium, restored.body.job_id)
      assert.equal(restoreJob.status, 'succeeded', JSON.stringify(restoreJob))
      assert.equal(restoreJob.job_type, 'restore')
      assert.deepEqual(await tableChecksums(tgt), before)

      // the restored client serves its rows through the gateway (its schema cache was refreshed)
      const read = await atrium.post('/gateway/fetch', { client: `${dialect}_tgt`, body: { table_name: 'customers', columns: 'id', limit: 5 } })
      assert.equal(read.status, 200, read.text)

      // the source is in use (it has tables): refused without force
      const refused = await atrium.post(`/admin/backups/${encodeURIComponent(backup.key)}/restore`, { body: { client_name: `${dialect}_src` } })
      assert.equal(refused.status, 409, refused.text)
      assert.equal(refused.body.code, 'backup_target_in_use')
      assert.match(refused.body.message, /force/)

      // change the source, then restore over it with force: the backup's data is back
      await src.query('DELETE FROM events WHERE id > 10')
      await src.query(`UPDATE customers SET name = 'changed' WHERE id < 5`)
      assert.notDeepEqual(await tableChecksums(src), before)
      const forced = await atrium.post(`/admin/backups/${encodeURIComponent(backup.key)}/restore`, { body: { client_name: `${dialect}_src`, force: true } })
      assert.equal(forced.status, 200, forced.text)
      const forcedJob = await waitForBackupJob(atrium, forced.body.job_id)
      assert.equal(forcedJob.status, 'succeeded', JSON.stringify(forcedJob))
      assert.equal(forcedJob.force, true)
      assert.deepEqual(await tableChecksums(src), before)

      // an archive of the other engine cannot be restored here
      const other = DIALECTS.find((d) => d !== dialect)!
      const mismatch = await atrium.post(`/admin/backups/${encodeURIComponent(backup.key)}/restore`, { body: { client_name: `${other}_tgt`, force: true } })
      assert.equal(mismatch.status, 409, mismatch.text)
      assert.equal(mismatch.body.code, 'backup_target_mismatch')

      // jobs list (storage.backup.jobs.list reads data.jobs)
      const jobs = await atrium.get(`/admin/backups/jobs?client_name=${dialect}_tgt`)
      assert.equal(jobs.status, 200, jobs.text)
      assert.deepEqual(jobs.body.jobs.map((j: any) => j.id), [restoreJob.id])
      // the durable job behind it is on /admin/jobs too
      const durable = await atrium.get(`/admin/jobs/${restoreJob.job_uuid}`)
      assert.equal(durable.status, 200, durable.text)
      assert.equal(durable.body.data.job.kind, 'backups.restore')
    })
  }

  await t.test("schedules: CRUD in the SDK's shapes, run now, keep_last drops the oldest archives", async () => {
    const daily = await atrium.post('/admin/backups/schedules', {
      body: { client_name: 'mysql_src', frequency: 'daily', time_of_day: '03:30', label: 'nightly', enabled: true, execution_daemon_id: 'any' },
    })
    assert.equal(daily.status, 201, daily.text)
    assert.equal(typeof daily.body.id, 'number')
    assert.equal(daily.body.cron, '30 3 * * *')
    assert.equal(daily.body.frequency, 'daily')
    const rolling = await atrium.post('/admin/backups/schedules', { body: { client_name: 'mysql_src', cron: '0 */6 * * *', keep_last: 2, label: 'rolling' } })
    assert.equal(rolling.status, 201, rolling.text)
    const id = rolling.body.id

    const list = await atrium.get('/admin/backups/schedules')
    assert.equal(list.status, 200)
    assert.deepEqual(list.body.schedules.map((s: any) => s.id), [everyMinute.body.id, daily.body.id, id])
    const patched = await atrium.request('PATCH', `/admin/backups/schedules/${daily.body.id}`, { body: { enabled: false } })
    assert.equal(patched.status, 200, patched.text)
    assert.equal(patched.body.enabled, false)
    assert.equal(patched.body.cron, '30 3 * * *')
    const bad = await atrium.request('PATCH', `/admin/backups/schedules/${id}`, { body: { cron: 'every day' } })
    assert.equal(bad.status, 400, bad.text)
    assert.equal(bad.body.code, 'invalid_request')
    const unknown = await atrium.post('/admin/backups/schedules', { body: { client_name: 'nope', cron: '0 3 * * *' } })
    assert.equal(unknown.status, 400)
    assert.equal(unknown.body.code, 'unknown_client')

    const jobIds: number[] = []
    for (let i = 0; i < 3; i++) {
      const run = await atrium.post(`/admin/backups/schedules/${id}/run`, { body: {} })
      assert.equal(run.status, 200, run.text)
      const job = await waitForBackupJob(atrium, run.body.job_id)
      assert.equal(job.status, 'succeeded', JSON.stringify(job))
      assert.equal(job.schedule_id, id)
      jobIds.push(job.id)
    }
    const kept = (await atrium.get('/admin/backups?client_name=mysql_src&limit=100')).body.backups.filter((b: any) => b.schedule_id === id)
    assert.deepEqual(kept.map((b: any) => b.job_id), [jobIds[2], jobIds[1]], 'the two newest archives are kept')
    assert.equal(kept[0].label, 'rolling')
    const dropped = (await atrium.get(`/admin/backups/jobs/${jobIds[0]}`)).body.key
    assert.equal(await atrium.handle.platform.objects.stat({ bucket: 'backups', key: dropped }), undefined)

    const deleted = await atrium.request('DELETE', `/admin/backups/schedules/${daily.body.id}`)
    assert.equal(deleted.status, 200, deleted.text)
    const gone = await atrium.get(`/admin/backups/schedules/${daily.body.id}`)
    assert.equal(gone.status, 404)
    assert.equal(gone.body.code, 'backup_schedule_not_found')
  })

  await t.test('a restore of an archive changed in the store fails on its checksum and leaves the target alone', async () => {
    const created = await atrium.post('/admin/backups', { body: { client_name: 'postgres_src', recovery_strategy: 'none' } })
    assert.equal(created.status, 200, created.text)
    const job = await waitForBackupJob(atrium, created.body.job_id)
    assert.equal(job.status, 'succeeded', JSON.stringify(job))
    // the stored bytes change behind Atrium's back (same size, one byte flipped)
    const ref = { bucket: 'backups', key: job.key }
    const { body } = await atrium.handle.platform.objects.get(ref)
    const chunks: Buffer[] = []
    for await (const chunk of body) chunks.push(chunk as Buffer)
    const bytes = Buffer.concat(chunks)
    bytes[bytes.length - 10] ^= 0xff
    await atrium.handle.platform.objects.put(ref, bytes)
    const tgt = dbs.postgres_tgt!
    const before = await tableChecksums(tgt)
    const restored = await atrium.post(`/admin/backups/${encodeURIComponent(job.key)}/restore`, { body: { client_name: 'postgres_tgt', force: true } })
    assert.equal(restored.status, 200, restored.text)
    const failed = await waitForBackupJob(atrium, restored.body.job_id)
    assert.equal(failed.status, 'failed')
    assert.equal(failed.error_code, 'backup_checksum_mismatch')
    assert.match(failed.error_message, /nothing was restored/)
    assert.deepEqual(await tableChecksums(tgt), before)
    const unsupported = await atrium.post('/admin/backups', { body: { client_name: 'postgres_src', recovery_strategy: 'repair_missing_role_oids' } })
    assert.equal(unsupported.status, 400, unsupported.text)
    assert.equal(unsupported.body.code, 'invalid_request')
  })

  await t.test('delete: the backup and its archive go; then 404 backup_not_found', async () => {
    const listed = (await atrium.get('/admin/backups?client_name=postgres_src')).body.backups
    const backup = listed[listed.length - 1]
    const path = `/admin/backups/${encodeURIComponent(backup.key)}`
    const one = await atrium.get(path)
    assert.equal(one.status, 200, one.text)
    assert.equal(one.body.sha256, backup.sha256)
    const deleted = await atrium.request('DELETE', path)
    assert.equal(deleted.status, 200, deleted.text)
    assert.equal(deleted.body.key, backup.key)
    assert.ok(await assertMatchesSpec('DELETE', '/admin/backups/{key}', 200, deleted.body))
    for (const res of [await atrium.get(path), await atrium.get(`${path}/download`), await atrium.request('DELETE', path), await atrium.post(`${path}/restore`, { body: { client_name: 'postgres_tgt' } })]) {
      assert.equal(res.status, 404, res.text)
      assert.equal(res.body.code, 'backup_not_found')
      assert.equal(res.body.status, 'error')
    }
    const stat = await atrium.handle.platform.objects.stat({ bucket: 'backups', key: backup.key })
    assert.equal(stat, undefined, 'the archive is gone from the object store')
    const after = (await atrium.get('/admin/backups?client_name=postgres_src')).body.backups
    assert.deepEqual(after.map((b: any) => b.key), listed.slice(0, -1).map((b: any) => b.key))
  })

  await t.test('bad input is a 4xx in the gateway envelope', async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/admin/backups', { client_name: 'nope' }, 400, 'unknown_client'],
      ['POST', '/admin/backups', {}, 400, 'invalid_request'],
      ['POST', '/admin/backups', { client_name: 'postgres_src', pg_uri: 'postgres://elsewhere/db' }, 400, 'invalid_request'],
      ['GET', '/admin/backups?cursor=not-a-cursor', undefined, 400, 'invalid_cursor'],
      ['GET', '/admin/backups?limit=0', undefined, 400, 'invalid_request'],
      ['GET', '/admin/backups/jobs/abc', undefined, 404, 'job_not_found'],
      ['GET', '/admin/backups/jobs/99999999', undefined, 404, 'job_not_found'],
      ['POST', '/admin/backups/jobs/99999999/cancel', {}, 404, 'job_not_found'],
      ['GET', `/admin/backups/${encodeURIComponent('../../etc/passwd')}/download`, undefined, 404, 'backup_not_found'],
      ['POST', `/admin/backups/${encodeURIComponent('x/y.dump')}/restore`, { client_name: 'postgres_tgt' }, 404, 'backup_not_found'],
      ['GET', '/admin/backups/x.dump/url?expires_in=0', undefined, 400, 'invalid_request'],
    ]
    for (const [method, path, body, status, code] of cases) {
      const res = await atrium.request(method, path, { body })
      assert.equal(res.status, status, `${method} ${path}: ${res.text}`)
      assert.equal(res.body.code, code, `${method} ${path}: ${res.text}`)
      assert.equal(res.body.status, 'error')
      assert.ok(res.body.message.length > 10)
    }
  })

  await t.test('the schedule tick queues one backup per cron tick, however often the tick job runs', async () => {
    const id = everyMinute.body.id
    const boundary = Math.ceil(Date.parse(everyMinute.body.created_at) / 60_000) * 60_000
    // bounded: at most a minute after the schedule was made
    if (Date.now() < boundary) await sleep(Math.min(boundary - Date.now() + 50, 61_000))
    const tickJobs = async () => (await atrium.get(`/admin/jobs?kind=${SCHEDULE_TICK_JOB}&status=succeeded&limit=100`)).body.data.jobs.length
    const scheduleJobs = async () => (await atrium.get('/admin/backups/jobs?client_name=ticked&limit=100')).body.jobs.filter((j: any) => j.schedule_id === id)
    const ticksBefore = await tickJobs()
    // the cron may send its own tick as well; any number of ticks in one minute queue one backup
    await atrium.handle.platform.jobs.send(SCHEDULE_TICK_JOB)
    await atrium.handle.platform.jobs.send(SCHEDULE_TICK_JOB)
    await until('both ticks ran', async () => (await tickJobs()) >= ticksBefore + 2)
    const schedule = (await atrium.get(`/admin/backups/schedules/${id}`)).body
    assert.ok(schedule.last_run_at, 'the tick moved last_run_at')
    const tick = Date.parse(schedule.last_run_at)
    assert.equal(tick % 60_000, 0, 'last_run_at is the cron tick, on the minute')
    const queued = await scheduleJobs()
    // one backup per tick: as many as minutes between the first boundary and the last tick, inclusive
    assert.equal(queued.length, (tick - boundary) / 60_000 + 1, JSON.stringify(queued))
    const done = await waitForBackupJob(atrium, queued[0].id)
    assert.equal(done.status, 'succeeded', JSON.stringify(done))
    assert.equal(done.label, 'every minute')
  })

  await t.test('every route: 401 without a key, 403 with an API key', async () => {
    const routes: [string, string, unknown?][] = [
      ['POST', '/admin/backups', { client_name: 'postgres_src' }],
      ['GET', '/admin/backups'],
      ['GET', '/admin/backups/a%2Fb.dump'],
      ['DELETE', '/admin/backups/a%2Fb.dump'],
      ['GET', '/admin/backups/a%2Fb.dump/download'],
      ['GET', '/admin/backups/a%2Fb.dump/url'],
      ['POST', '/admin/backups/a%2Fb.dump/restore', { client_name: 'postgres_tgt' }],
      ['GET', '/admin/backups/jobs'],
      ['GET', '/admin/backups/jobs/1'],
      ['POST', '/admin/backups/jobs/1/cancel', {}],
      ['DELETE', '/admin/backups/jobs/1'],
      ['GET', '/admin/backups/jobs/1/s3-open'],
      ['GET', '/admin/backups/schedules'],
      ['POST', '/admin/backups/schedules', { client_name: 'postgres_src', cron: '0 3 * * *' }],
      ['GET', '/admin/backups/schedules/1'],
      ['PATCH', '/admin/backups/schedules/1', { enabled: false }],
      ['DELETE', '/admin/backups/schedules/1'],
      ['POST', '/admin/backups/schedules/1/run', {}],
    ]
    for (const [method, path, body] of routes) {
      const anonymous = await atrium.request(method, path, { key: null, body })
      assert.equal(anonymous.status, 401, `${method} ${path}: ${anonymous.text}`)
      assert.equal(anonymous.body.code, 'missing_api_key')
      const keyed = await atrium.request(method, path, { key: apiKey, body })
      assert.equal(keyed.status, 403, `${method} ${path}: ${keyed.text}`)
      assert.equal(keyed.body.code, 'admin_key_required')
    }
  })
})

