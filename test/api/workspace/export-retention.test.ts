// Retention of export files (workspace.exportRetentionDays) through HTTP, the real catalog and the filesystem
// object store: an export finished longer ago than the retention (its finish time moved back in the catalog) loses
// its file to the hourly job, sent here as the schedule would send it; download is then 410 saying to run the export
// again; a recent export keeps its file; a run after the object vanished (a crash between delete and mark, or a
// hand delete) still marks the row; another tenant still gets 404; retention 0 removes nothing.
import assert from 'node:assert/strict'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { EXPORT_RETENTION_JOB } from '../../../src/warehouse/exports/export-retention.js'
import type { DuckDbEngine } from '../../../src/warehouse/duckdb-engine.js'
import { tableNameOf } from '../../../src/warehouse/duckdb-engine.js'
import { as, startWorkspace, type Caller, type WorkspaceBed } from './workspace-helpers.js'

const DAY_MS = 24 * 3600 * 1000

/** a tenant's table with two rows, and helpers to export it (export jobs) and its query result (result exports) */
async function seed(bed: WorkspaceBed) {
  const { call, settle, atrium, tenants: [a] } = bed
  const editor = as(a, 'Dataset editor')
  const project = (await call(as(a, 'Org admin'), 'POST', '/api/v1/projects', { name: 'Retention' })).body
  const dataset = (await call(editor, 'POST', '/api/v1/datasets', { name: 'sales', project_id: project.id })).body
  const table = (await call(editor, 'POST', '/api/v1/tables', { name: 'orders', dataset_id: dataset.id, schema: { columns: [{ name: 'id', type: 'BIGINT' }] } })).body
  assert.ok(table.id, JSON.stringify(table))
  const engine = atrium.handle.platform.warehouseEngine as DuckDbEngine
  await engine.withConnection(a.id, (c) => c.run(`INSERT INTO ${tableNameOf({ tenantId: a.id, datasetId: dataset.id, tableId: table.id })} VALUES (1), (2)`))

  const exportTable = async (): Promise<Record<string, any>> => {
    const res = await call(editor, 'POST', '/api/v1/export_jobs', { table_id: table.id, format: 'CSV', compression: 'NONE' })
    assert.equal(res.status, 201, res.text)
    const done = await settle(editor, `/api/v1/export_jobs/${res.body.id}`)
    assert.equal(done.status, 'done', done.error_message)
    return done
  }
  const exportResult = async (): Promise<Record<string, any>> => {
    const queryId = (await call(editor, 'POST', '/api/v1/queries', { query_text: 'SELECT 1', project_id: project.id })).body.id
    const run = await call(editor, 'POST', '/api/v1/queries/run', { query_id: queryId, query_text: 'SELECT id FROM sales.orders ORDER BY id' })
    assert.equal(run.status, 200, run.text)
    assert.equal((await settle(editor, `/api/v1/query_jobs/${run.body.job_id}`)).status, 'done')
    const res = await call(editor, 'POST', `/api/v1/query_jobs/${run.body.job_id}/exports`, { format: 'JSON', compression: 'GZIP' })
    assert.equal(res.status, 201, res.text)
    const done = await settle(editor, `/api/v1/query_result_exports/${res.body.id}`)
    assert.equal(done.status, 'done', done.error_message)
    return done
  }
  return { editor, exportTable, exportResult }
}

/** the file behind an export's gcs_path in the filesystem store's data tree */
const fileOf = (bed: WorkspaceBed, gcsPath: string) => join(bed.atrium.handle.platform.config.dataDir, 'objects', 'data', ...gcsPath.split('/'))

/** moves an export's finish back by `days` in the catalog, as if it had finished then */
const age = (bed: WorkspaceBed, id: string, days: number) =>
  bed.atrium.catalog.query("UPDATE atrium.ws_exports SET completed_at = now() - make_interval(days => $2) WHERE id = $1", [id, days])

/** sends a run as the schedule would and waits (bounded) for its job record to succeed; returns its result */
async function runRetention(bed: WorkspaceBed): Promise<Record<string, any>> {
  const bossId = await bed.atrium.handle.platform.jobs.send(EXPORT_RETENTION_JOB)
  for (let i = 0; i < 120; i++) {
    const [row] = await bed.atrium.catalog.query<{ status: string; result: Record<string, any> }>('SELECT status, result FROM atrium.jobs WHERE boss_job_id = $1', [bossId])
    if (row?.status === 'succeeded') return row.result
    if (row?.status === 'failed') assert.fail(`the retention job failed: ${JSON.stringify(row)}`)
    await sleep(250)
  }
  return assert.fail('the retention job did not finish')
}

const download = (bed: WorkspaceBed, who: Caller, path: string) => bed.call(who, 'GET', `${path}/download`)

test('export retention (7 days)', async (t) => {
  const bed = await startWorkspace(t, { env: { ATRIUM_WORKSPACE_EXPORT_RETENTION_DAYS: '7' } })
  const { call, tenants: [, b] } = bed
  const { editor, exportTable, exportResult } = await seed(bed)
  const outsider = as(b, 'Org admin')

  const oldJob = await exportTable()
  const oldResult = await exportResult()
  const recent = await exportTable()
  const oldJobPath = `/api/v1/export_jobs/${oldJob.id}`
  const oldResultPath = `/api/v1/query_result_exports/${oldResult.id}`
  const recentPath = `/api/v1/export_jobs/${recent.id}`

  await t.test('the job is an hourly schedule', async () => {
    const rows = await bed.atrium.catalog.query('SELECT name, cron FROM atrium_jobs.schedule WHERE name = $1', [EXPORT_RETENTION_JOB])
    assert.deepEqual(rows, [{ name: EXPORT_RETENTION_JOB, cron: '29 * * * *' }])
  })

  await t.test('an export shows when its file expires: its finish plus the retention', async () => {
    const got = (await call(editor, 'GET', recentPath)).body
    assert.equal(got.file_deleted_at, null)
    assert.equal(Date.parse(got.expires_at) - Date.parse(got.completed_at), 7 * DAY_MS)
    // a download URL never outlives the file, and is the configured hour here
    const link = await download(bed, editor, recentPath)
    assert.equal(link.status, 200, link.text)
    assert.ok(Date.parse(link.body.expires_at) <= Date.parse(got.expires_at))
  })

  await age(bed, oldJob.id, 8)
  await age(bed, oldResult.id, 8)

  await t.test('past its expiry, download is 410 at once, before the job has removed the file', async () => {
    assert.ok(existsSync(fileOf(bed, oldJob.gcs_path)), 'the file is still there')
    const res = await download(bed, editor, oldJobPath)
    assert.equal(res.status, 410, res.text)
    assert.match(res.body.detail, /run the export again/)
  })

  await t.test('the job removes the files of old exports, marks them, and leaves a recent one alone', async () => {
    const result = await runRetention(bed)
    assert.equal(result.removed, 2, JSON.stringify(result))
    assert.equal(result.failed, 0)
    assert.equal(existsSync(fileOf(bed, oldJob.gcs_path)), false, 'the export job\'s file is gone from the data directory')
    assert.equal(existsSync(fileOf(bed, oldResult.gcs_path)), false, 'the result export\'s file is gone from the data directory')
    assert.ok(existsSync(fileOf(bed, recent.gcs_path)), 'the recent file stays')

    for (const path of [oldJobPath, oldResultPath]) {
      const got = await call(editor, 'GET', path)
      assert.equal(got.status, 200, got.text)
      assert.equal(got.body.status, 'done', 'the export did finish: its status stays')
      assert.ok(got.body.file_deleted_at, 'file_deleted_at says the file is gone')
      assert.equal(got.body.gcs_path, null, 'a removed file has no path')
      assert.ok(Date.parse(got.body.expires_at) < Date.now())
      const res = await download(bed, editor, path)
      assert.equal(res.status, 410, res.text)
      assert.match(res.body.detail, /was removed at .*kept 7 days.*run the export again/)
    }
    // the message names where to run it again
    assert.match((await download(bed, editor, oldResultPath)).body.detail, new RegExp(`POST /api/v1/query_jobs/${oldResult.query_job_id}/exports`))
    assert.match((await download(bed, editor, oldJobPath)).body.detail, /POST \/api\/v1\/export_jobs/)

    const kept = await download(bed, editor, recentPath)
    assert.equal(kept.status, 200, kept.text)
    assert.equal((await fetch(kept.body.signed_url)).status, 200, 'the recent file still downloads')
    // the list shows the same
    const listed = (await call(editor, 'GET', '/api/v1/export_jobs')).body.export_jobs
    assert.ok(listed.find((e: { id: string }) => e.id === oldJob.id).file_deleted_at)
    assert.equal(listed.find((e: { id: string }) => e.id === recent.id).file_deleted_at, null)
  })

  await t.test('a second run finds nothing left to do', async () => {
    const result = await runRetention(bed)
    assert.equal(result.removed, 0, JSON.stringify(result))
  })

  await t.test('another tenant\'s expired export is still a 404, not a 410', async () => {
    for (const path of [oldJobPath, `${oldJobPath}/download`, oldResultPath, `${oldResultPath}/download`]) {
      const res = await call(outsider, 'GET', path)
      assert.equal(res.status, 404, `${path}: ${res.text}`)
    }
  })

  await t.test('a run after the object is already gone (deleted by hand, or a crash after deleting) still marks the row', async () => {
    const gone = await exportTable()
    rmSync(fileOf(bed, gone.gcs_path))
    await age(bed, gone.id, 30)
    const result = await runRetention(bed)
    assert.equal(result.removed, 1, JSON.stringify(result))
    const got = (await call(editor, 'GET', `/api/v1/export_jobs/${gone.id}`)).body
    assert.ok(got.file_deleted_at)
    assert.equal((await download(bed, editor, `/api/v1/export_jobs/${gone.id}`)).status, 410)
  })
})

test('export retention 0 keeps every file', async (t) => {
  const bed = await startWorkspace(t, { env: { ATRIUM_WORKSPACE_EXPORT_RETENTION_DAYS: '0' } })
  const { editor, exportTable } = await seed(bed)
  const old = await exportTable()
  const path = `/api/v1/export_jobs/${old.id}`
  await age(bed, old.id, 3650)

  assert.deepEqual(await bed.atrium.catalog.query('SELECT name FROM atrium_jobs.schedule WHERE name = $1', [EXPORT_RETENTION_JOB]), [], 'no schedule')
  // a run sent anyway (left from when retention was on) finishes and removes nothing
  const result = await runRetention(bed)
  assert.match(String(result.skipped), /exportRetentionDays is 0/)
  assert.ok(existsSync(fileOf(bed, old.gcs_path)))
  const got = (await bed.call(editor, 'GET', path)).body
  assert.equal(got.expires_at, null, 'no expiry without retention')
  assert.equal(got.file_deleted_at, null)
  const link = await download(bed, editor, path)
  assert.equal(link.status, 200, link.text)
  assert.equal((await fetch(link.body.signed_url)).status, 200)
})
