import assert from 'node:assert/strict'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { spawnAtrium } from '../../helpers/process.js'
import { createMysqlDatabase, createPgDatabase } from '../../helpers/databases.js'
import { loadBackupFixture, sha256, waitForBackupJob } from '../../helpers/backups.js'
import { untilTrue as until } from '../../helpers/until.js'

// The dump programs as the backup routes find them: missing (422 backup_tool_missing), too old for the server
// (422 backup_tool_too_old naming the version needed), and a dump that is cancelled while it runs (its process
// is killed, nothing is listed and nothing is left in the object store). The "pg_dump" here is a small script.

/** true while a process with this pid exists */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}


test('backup programs: missing, too old, cancelled while running', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'atrium-backup-tools-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const pidFile = join(dir, 'pid')
  const oldMarker = join(dir, 'old')
  // prints an old version while the marker file exists, else a new one; a dump just sleeps (until killed)
  const fakePgDump = join(dir, 'pg_dump')
  writeFileSync(fakePgDump, [
    '#!/bin/sh',
    'if [ "$1" = "--version" ]; then',
    `  if [ -e '${oldMarker}' ]; then echo 'pg_dump (PostgreSQL) 9.6.24'; else echo 'pg_dump (PostgreSQL) 99.1'; fi`,
    '  exit 0',
    'fi',
    `echo $$ > '${pidFile}'`,
    'exec sleep 120',
    '',
  ].join('\n'))
  chmodSync(fakePgDump, 0o755)

  const pg = await createPgDatabase(t, 'atrium_bk_tools')
  const my = await createMysqlDatabase(t, 'atrium_bk_tools')
  await loadBackupFixture(pg)
  const atrium = await startTestAtrium(t, {
    sources: { pgsrc: pg.url, mysrc: my.url },
    settings: { 'backups.pgDumpPath': fakePgDump, 'backups.mysqlDumpPath': join(dir, 'no-such-dir', 'mariadb-dump') },
  })

  await t.test('a missing program is 422 backup_tool_missing naming its setting', async () => {
    const res = await atrium.post('/admin/backups', { body: { client_name: 'mysrc' } })
    assert.equal(res.status, 422, res.text)
    assert.equal(res.body.code, 'backup_tool_missing')
    assert.equal(res.body.status, 'error')
    assert.match(res.body.message, /mariadb-dump/)
    assert.match(res.body.hint, /backups\.mysqlDumpPath/)
    assert.equal((await atrium.get('/admin/backups/jobs')).body.jobs.length, 0, 'nothing was queued')
  })

  await t.test('a pg_dump older than the server is 422 backup_tool_too_old naming the version needed', async () => {
    writeFileSync(oldMarker, '')
    try {
      const res = await atrium.post('/admin/backups', { body: { client_name: 'pgsrc' } })
      assert.equal(res.status, 422, res.text)
      assert.equal(res.body.code, 'backup_tool_too_old')
      const [server] = await pg.query<{ n: number }>(`SELECT current_setting('server_version_num')::int / 10000 AS n`)
      assert.match(res.body.message, new RegExp(`pg_dump ${server!.n} or newer is needed`))
      assert.equal(res.body.data.needed, String(server!.n))
      assert.match(res.body.hint, /backups\.pgDumpPath/)
    } finally {
      rmSync(oldMarker)
    }
  })

  await t.test('cancel kills the running dump; no backup is listed and no archive is left', async () => {
    const created = await atrium.post('/admin/backups', { body: { client_name: 'pgsrc', label: 'to be cancelled' } })
    assert.equal(created.status, 200, created.text)
    const id = created.body.job_id
    await until('the dump program to start', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '')
    const pid = Number(readFileSync(pidFile, 'utf8').trim())
    assert.ok(alive(pid))
    const running = await atrium.get(`/admin/backups/jobs/${id}`)
    assert.equal(running.body.status, 'running')
    assert.equal(running.body.progress_stage, 'dumping')

    const cancelled = await atrium.post(`/admin/backups/jobs/${id}/cancel`, { body: {} })
    assert.equal(cancelled.status, 200, cancelled.text)
    assert.equal(cancelled.body.status, 'cancelled')
    await until('the dump program to be killed', () => !alive(pid))
    const job = await waitForBackupJob(atrium, id)
    assert.equal(job.status, 'cancelled')

    assert.equal((await atrium.get('/admin/backups?client_name=pgsrc')).body.backups.length, 0)
    // the object store may finish an aborted write a moment later; the cleanup follows it
    await until('no archive in the store', async () => (await atrium.handle.platform.objects.stat({ bucket: 'backups', key: job.key })) === undefined)
    // cancelling again answers the finished job as it is
    const again = await atrium.post(`/admin/backups/jobs/${id}/cancel`, { body: {} })
    assert.equal(again.status, 200)
    assert.equal(again.body.status, 'cancelled')
    // and a job can be forgotten
    assert.equal((await atrium.request('DELETE', `/admin/backups/jobs/${id}`)).status, 200)
    assert.equal((await atrium.get(`/admin/backups/jobs/${id}`)).status, 404)
  })

})

// A server killed (SIGKILL) while its dump runs: nothing is listed, and once the dead attempt expires another
// process runs the job again, to the same key, and only then is the backup listed, whole.
test('a backup whose server is killed mid-dump is retried by another process, never listed half-written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'atrium-backup-kill-'))
  const pidFile = join(dir, 'pid')
  const firstRun = join(dir, 'first-run-done')
  // the first dump hangs (until its server is killed), every later one is the real pg_dump
  const flakyPgDump = join(dir, 'pg_dump')
  writeFileSync(flakyPgDump, [
    '#!/bin/sh',
    'if [ "$1" = "--version" ]; then exec pg_dump --version; fi',
    `if [ ! -e '${firstRun}' ]; then touch '${firstRun}'; echo $$ > '${pidFile}'; exec sleep 120; fi`,
    'exec pg_dump "$@"',
    '',
  ].join('\n'))
  chmodSync(flakyPgDump, 0o755)
  const oldPgRestore = join(dir, 'pg_restore')
  writeFileSync(oldPgRestore, "#!/bin/sh\necho 'pg_restore (PostgreSQL) 11.22'\n")
  chmodSync(oldPgRestore, 0o755)
  const src = await createPgDatabase(t, 'atrium_bk_kill')
  await loadBackupFixture(src)
  const catalog = await createPgDatabase(null, 'atrium_catalog')
  const dataDir = mkdtempSync(join(tmpdir(), 'atrium-backup-kill-data-'))
  const shared = { ATRIUM_BACKUPS_PG_DUMP_PATH: flakyPgDump, ATRIUM_BACKUPS_JOB_TIMEOUT_SECONDS: '8', ATRIUM_CLIENT_SRC: src.url }
  const env = { DATABASE_URL: catalog.url, ATHENA_KEY_12: ADMIN_KEY, ATRIUM_DATA_DIR: dataDir, ATRIUM_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789', ...shared }
  const doomed = await spawnAtrium({ ...env, ATRIUM_WORKERS: '1' })
  t.after(async () => {
    await doomed.stop('SIGKILL')
    // the hung program outlives its killed server; it is ours to end
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim())
      if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL')
    }
  })
  const res = await fetch(`${doomed.url}/admin/backups`, { method: 'POST', headers: { apikey: ADMIN_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'src' }) })
  assert.equal(res.status, 200, await res.clone().text())
  const queued = await res.json() as { job_id: number; key: string }
  await until('the dump to start', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '')
  await doomed.stop('SIGKILL')
  assert.equal(doomed.child.signalCode, 'SIGKILL')

  // the same data directory: a filesystem store shared by both processes, as a volume would be
  const atrium = await startTestAtrium(t, { catalog, env: { ATRIUM_DATA_DIR: dataDir, ATRIUM_BACKUPS_PG_RESTORE_PATH: oldPgRestore, ...shared }, settings: { 'jobs.maintenanceIntervalSeconds': 1, 'jobs.pollIntervalMs': 200 } })
  t.after(async () => {
    await catalog.drop()
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(dir, { recursive: true, force: true })
  })
  assert.equal((await atrium.get('/admin/backups')).body.backups.length, 0, 'nothing is listed while the job is unfinished')
  const job = await waitForBackupJob(atrium, queued.job_id, 600)
  assert.equal(job.status, 'succeeded', JSON.stringify(job))
  assert.equal(job.attempts, 2)
  const { backups } = (await atrium.get('/admin/backups')).body
  assert.equal(backups.length, 1)
  assert.equal(backups[0].key, queued.key, 'the retry wrote to the same key')
  const download = await fetch(`${atrium.url}/admin/backups/${encodeURIComponent(queued.key)}/download`, { headers: { apikey: ADMIN_KEY } })
  const bytes = Buffer.from(await download.arrayBuffer())
  assert.equal(sha256(bytes), backups[0].sha256)
  assert.equal(bytes.subarray(0, 5).toString(), 'PGDMP')

  // this process's pg_restore is older than the pg_dump that made the archive
  const restore = await atrium.post(`/admin/backups/${encodeURIComponent(queued.key)}/restore`, { body: { client_name: 'src', force: true } })
  assert.equal(restore.status, 422, restore.text)
  assert.equal(restore.body.code, 'backup_tool_too_old')
  assert.match(restore.body.message, /pg_restore \d+ or newer is needed/)
  assert.match(restore.body.hint, /backups\.pgRestorePath/)
})
