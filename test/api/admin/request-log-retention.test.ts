import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { REQUEST_LOG_PRUNE_QUEUE } from '../../../src/monitoring/request-log-retention-job.js'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'

// gateway.requestLogRetentionDays: an hourly pg-boss job deletes older request log rows; the client
// statistics keep their totals, since they are added up as the log is written.
test('request log retention', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, settings: { 'gateway.requestLogRetentionDays': 30 } })
  const logged = async () => (await atrium.catalog.query<{ request_id: string }>("SELECT request_id FROM atrium.request_log WHERE client_name = 'shop' ORDER BY id")).map((r) => r.request_id)

  for (let i = 0; i < 5; i++) assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'orders', columns: 'id' } })).status, 200)
  await atrium.handle.platform.requestLog.flush()
  const ids = await logged()
  assert.equal(ids.length, 5)
  // three of them from long ago: two past the retention, one just inside it
  await atrium.catalog.query("UPDATE atrium.request_log SET at = now() - interval '45 days' WHERE request_id = ANY($1)", [ids.slice(0, 2)])
  await atrium.catalog.query("UPDATE atrium.request_log SET at = now() - interval '29 days' WHERE request_id = $1", [ids[2]])

  await t.test('the pruning is an hourly pg-boss schedule whose worker runs in this process', async () => {
    const schedules = await atrium.catalog.query<{ name: string; cron: string }>('SELECT name, cron FROM atrium_jobs.schedule WHERE name = $1', [REQUEST_LOG_PRUNE_QUEUE])
    assert.deepEqual(schedules, [{ name: REQUEST_LOG_PRUNE_QUEUE, cron: '7 * * * *' }])
    // a job as the schedule would create it, picked up by the worker (polling every 2 s)
    await atrium.handle.platform.jobs.send(REQUEST_LOG_PRUNE_QUEUE)
    let left = ids
    for (let i = 0; i < 60 && left.length > 3; i++) {
      await sleep(250)
      left = await logged()
    }
    assert.deepEqual(left, ids.slice(2), 'only the rows past 30 days went')
  })

  await t.test('the statistics keep counting every request', async () => {
    const res = await atrium.get('/admin/clients/shop/statistics')
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.statistics.total_requests, 5)
  })

  await t.test('a retention of 0 removes the schedule an earlier start created', async () => {
    const other = await startTestAtrium(t, { catalog: atrium.catalog, sources: { shop: db.url }, settings: { 'gateway.requestLogRetentionDays': 0 } })
    assert.ok(other.url)
    assert.deepEqual(await atrium.catalog.query('SELECT name FROM atrium_jobs.schedule WHERE name = $1', [REQUEST_LOG_PRUNE_QUEUE]), [])
  })
})

test('without a retention (the default) no process prunes the request log', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'orders', columns: 'id' } })).status, 200)
  await atrium.handle.platform.requestLog.flush()
  await atrium.catalog.query("UPDATE atrium.request_log SET at = now() - interval '400 days'")
  await atrium.handle.platform.jobs.send(REQUEST_LOG_PRUNE_QUEUE)
  await sleep(3_000) // longer than a worker's polling interval: a worker would have taken the job by now
  const [{ n }] = await atrium.catalog.query<{ n: string }>("SELECT count(*) AS n FROM atrium.request_log WHERE client_name = 'shop'")
  assert.equal(Number(n), 1)
})
