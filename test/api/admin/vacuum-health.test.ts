import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { VACUUM_HEALTH_QUEUE } from '../../../src/monitoring/vacuum-health-job.js'
import { assertMatchesSpec } from '../../helpers/athena-contract.js'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createMysqlDatabase, createPgDatabase } from '../../helpers/databases.js'

interface TableStat { relname: string; n_dead_tup: number; n_live_tup: number; dead_pct: number; xid_age: number; xid_age_pct_of_freeze_max: number }

// The vacuum health collector: a scheduled pg-boss job and an on-demand run, stored in the catalog.
test('vacuum health', async (t) => {
  const db = await createPgDatabase(t)
  const maria = await createMysqlDatabase(t)
  // autovacuum off for this table, so the dead tuples stay until the collector has seen them
  await db.query('CREATE TABLE bloated (id integer PRIMARY KEY, payload text) WITH (autovacuum_enabled = false)')
  await db.query("INSERT INTO bloated SELECT g, repeat('x', 20) FROM generate_series(1, 20000) g")
  await db.query('DELETE FROM bloated WHERE id > 5000')
  const atrium = await startTestAtrium(t, {
    sources: { shop: db.url, maria: maria.url, gone: 'postgres://postgres@127.0.0.1:1/nowhere' },
    settings: { 'vacuumHealth.schedule': '*/5 * * * *' },
  })

  await t.test('before any collection a client has no snapshot (404)', async () => {
    const res = await atrium.get('/admin/vacuum-health/shop')
    assert.equal(res.status, 404)
    assert.equal(res.body.code, 'vacuum_health_not_found')
  })

  await t.test('a collection reports the dead tuples of a table with autovacuum off', async () => {
    // the statistics the collector reads are published asynchronously by PostgreSQL; allow it a few seconds
    let bloated: TableStat | undefined
    for (let i = 0; i < 40 && !(bloated && bloated.n_dead_tup >= 15_000); i++) {
      if (i) await sleep(250)
      const res = await atrium.post('/admin/vacuum-health/collect?client_name=shop')
      assert.equal(res.status, 200, res.text)
      const detail = await atrium.get('/admin/vacuum-health/shop')
      bloated = detail.body.data.tables.find((r: TableStat) => r.relname === 'bloated')
    }
    assert.ok(bloated, 'the table is reported')
    assert.equal(bloated.n_dead_tup, 15_000)
    assert.equal(bloated.n_live_tup, 5_000)
    assert.equal(bloated.dead_pct, 75)
    assert.equal(typeof bloated.xid_age, 'number')
    assert.ok(bloated.xid_age_pct_of_freeze_max >= 0 && bloated.xid_age_pct_of_freeze_max < 100)
    const detail = await atrium.get('/admin/vacuum-health/shop')
    await assertMatchesSpec('GET', '/admin/vacuum-health/{client_name}', 200, detail.body)
    const s = detail.body.data.snapshot
    assert.equal(detail.body.status, 'success')
    assert.equal(s.client_name, 'shop')
    assert.equal(s.collection_error, null)
    assert.ok(s.total_dead_rows >= 15_000)
    assert.ok(s.tables_with_bloat >= 1)
    assert.ok(s.tables_needing_vacuum >= 1)
    assert.equal(s.instance_id, atrium.handle.platform.instanceId)
    assert.equal(typeof s.freeze_max_age, 'number')
    assert.ok(s.freeze_max_age >= 100_000)
  })

  await t.test('an unreachable client gets a snapshot with collection_error; the others are still collected', async () => {
    const res = await atrium.post('/admin/vacuum-health/collect')
    assert.equal(res.status, 200, res.text)
    const byClient = new Map(res.body.data.snapshots.map((s: { client_name: string }) => [s.client_name, s]))
    assert.deepEqual([...byClient.keys()].sort(), ['gone', 'shop'], 'PostgreSQL clients only')
    const gone = byClient.get('gone') as { collection_error: string; total_dead_rows: number }
    assert.match(gone.collection_error, /unavailable/)
    assert.equal(gone.total_dead_rows, 0)
    assert.equal((byClient.get('shop') as { collection_error: null }).collection_error, null)
  })

  await t.test('GET /admin/vacuum-health lists the latest snapshot per client in the success envelope', async () => {
    const res = await atrium.get('/admin/vacuum-health')
    assert.equal(res.status, 200)
    await assertMatchesSpec('GET', '/admin/vacuum-health', 200, res.body)
    assert.equal(res.body.status, 'success')
    assert.deepEqual(res.body.data.snapshots.map((s: { client_name: string }) => s.client_name), ['gone', 'shop'])
    const [{ n }] = await atrium.catalog.query<{ n: string }>("SELECT count(*) AS n FROM atrium.vacuum_health_snapshots WHERE client_name = 'shop'")
    assert.ok(Number(n) >= 2, 'older snapshots are kept; the list shows the newest')
  })

  await t.test('MySQL clients and unknown names are refused clearly', async () => {
    const mysql = await atrium.post('/admin/vacuum-health/collect?client_name=maria')
    assert.equal(mysql.status, 400)
    assert.equal(mysql.body.code, 'unsupported_feature')
    assert.equal((await atrium.post('/admin/vacuum-health/collect?client_name=nobody')).body.code, 'unknown_client')
    assert.equal((await atrium.get('/admin/vacuum-health/maria')).status, 404)
  })

  await t.test('the collector is a durable pg-boss schedule, and its worker runs in this process', async () => {
    // other services keep schedules of their own (events-prune): this one's is looked up by its name
    const schedules = await atrium.catalog.query<{ name: string; cron: string }>('SELECT name, cron FROM atrium_jobs.schedule WHERE name = $1', [VACUUM_HEALTH_QUEUE])
    assert.deepEqual(schedules, [{ name: VACUUM_HEALTH_QUEUE, cron: '*/5 * * * *' }])
    const [{ before }] = await atrium.catalog.query<{ before: string }>('SELECT max(id) AS before FROM atrium.vacuum_health_snapshots')
    // a job as the schedule would create it, picked up by the worker (polling every 2 s)
    await atrium.handle.platform.jobs.send(VACUUM_HEALTH_QUEUE)
    let fresh: Array<{ client_name: string }> = []
    for (let i = 0; i < 60 && fresh.length < 2; i++) {
      await sleep(250)
      fresh = await atrium.catalog.query('SELECT client_name FROM atrium.vacuum_health_snapshots WHERE id > $1 ORDER BY client_name', [before])
    }
    assert.deepEqual(fresh.map((r) => r.client_name), ['gone', 'shop'])
  })

  await t.test('vacuumHealth.enabled = false removes the schedule', async () => {
    const other = await startTestAtrium(t, { catalog: atrium.catalog, settings: { 'vacuumHealth.enabled': false } })
    assert.ok(other.url)
    assert.deepEqual(await atrium.catalog.query('SELECT name FROM atrium_jobs.schedule WHERE name = $1', [VACUUM_HEALTH_QUEUE]), [])
  })

  await t.test('snapshots past the retention are deleted with their table rows', async () => {
    await atrium.catalog.query("UPDATE atrium.vacuum_health_snapshots SET recorded_at = now() - interval '30 days' WHERE client_name = 'gone'")
    await atrium.post('/admin/vacuum-health/collect?client_name=shop')
    const [{ n }] = await atrium.catalog.query<{ n: string }>("SELECT count(*) AS n FROM atrium.vacuum_health_snapshots WHERE client_name = 'gone'")
    assert.equal(Number(n), 0)
  })
})
