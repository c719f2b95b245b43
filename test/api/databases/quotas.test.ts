// Storage quotas enforced on the real PostgreSQL and MariaDB: a measurement (run at once when quotas change)
// publishes database.quota_warning once per crossing of warning_threshold_pct, and storage_hard_limit_gb makes
// the database read-only for its login (status read_only) until it is back under.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { startDatabasesAtrium, type DatabasesAtrium } from './helpers.js'

async function runAs(url: string, sql: string): Promise<any[]> {
  if (url.startsWith('postgresql:')) {
    const c = new pg.Client({ connectionString: url })
    c.on('error', () => {})
    await c.connect()
    try { return (await c.query(sql)).rows } finally { await c.end() }
  }
  const c = await mysql.createConnection({ uri: url })
  try { return (await c.query(sql))[0] as any[] } finally { await c.end() }
}

/** changes quotas, then waits (bounded) for the measurement they trigger */
async function setQuotas(atrium: DatabasesAtrium, key: string, uuid: string, quotas: Record<string, unknown>): Promise<Record<string, any>> {
  const before = (await atrium.api('GET', `/api/v1/databases/${uuid}`, key)).body.data.storage.measured_at
  const res = await atrium.api('PATCH', `/api/v1/databases/${uuid}/quotas`, key, { body: quotas })
  assert.equal(res.status, 200, res.text)
  for (let i = 0; i < 300; i++) {
    const got = (await atrium.api('GET', `/api/v1/databases/${uuid}`, key)).body.data
    if (got.storage.measured_at && got.storage.measured_at !== before) return got
    await sleep(100)
  }
  throw new Error('the quota check did not run')
}

const warnings = async (atrium: DatabasesAtrium, uuid: string) =>
  atrium.catalog.query<{ payload: any }>("SELECT payload FROM atrium.events WHERE type = 'database.quota_warning' AND payload->>'database_id' = $1 ORDER BY id", [uuid])

const FILL = {
  // ~9 MB (PostgreSQL) / ~14 MB (MariaDB) of rows, each under the TOAST threshold, so stored uncompressed
  postgres: 'CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 30) AS t FROM generate_series(1, 9000) g',
  mysql: 'CREATE TABLE big ENGINE=InnoDB AS SELECT seq AS id, REPEAT(MD5(RAND()), 31) AS t FROM seq_1_to_14000',
}
const INSERT = 'INSERT INTO small VALUES (1)'

for (const engine of ['postgres', 'mysql'] as const) {
  test(`storage quotas on ${engine}`, async (t) => {
    const atrium = await startDatabasesAtrium(t)
    const { key } = await atrium.createPlatformKey()
    const created = await atrium.api('POST', '/api/v1/databases?wait=true&timeout=60', key, { body: { name: 'quota', db_type: engine } })
    assert.equal(created.status, 201, created.text)
    atrium.track(created.body.data)
    const db = created.body.data
    assert.deepEqual(db.storage, { used_bytes: null, measured_at: null, read_only: false })
    await runAs(db.connection_string, 'CREATE TABLE small (id int)')

    // an empty PostgreSQL database takes ~7.5 MB (the template's catalogs); MariaDB counts table data only
    const limit = 0.01 // GB: 10.7 MB
    const first = await setQuotas(atrium, key, db.uuid, { storage_hard_limit_gb: limit, warning_threshold_pct: engine === 'postgres' ? 50 : 1 })
    assert.equal(first.status, 'active')
    assert.ok(first.storage.used_bytes > 0 || engine === 'mysql', JSON.stringify(first.storage))
    if (engine === 'postgres') {
      const w = await warnings(atrium, db.uuid)
      assert.equal(w.length, 1, 'over 50% of the limit: one warning')
      assert.equal(w[0]!.payload.warning_threshold_pct, 50)
      assert.equal(w[0]!.payload.used_bytes, first.storage.used_bytes)
    }

    await runAs(db.connection_string, FILL[engine])
    if (engine === 'mysql') await runAs(db.connection_string, 'ANALYZE TABLE big')
    const over = await setQuotas(atrium, key, db.uuid, { storage_hard_limit_gb: limit, warning_threshold_pct: 60 })
    assert.equal(over.status, 'read_only', JSON.stringify(over.storage))
    assert.equal(over.storage.read_only, true)
    assert.ok(over.storage.used_bytes >= limit * 1024 ** 3)
    assert.equal((await warnings(atrium, db.uuid)).length, 1, 'still over the threshold: no second warning for the same crossing')

    await t.test('the login cannot write, and can still read', async () => {
      await assert.rejects(runAs(db.connection_string, INSERT), (err: any) => {
        // PostgreSQL 25006 read_only_sql_transaction; MariaDB 1142 INSERT command denied
        assert.ok(err.code === '25006' || err.errno === 1142, `${err.code} ${err.errno} ${err.message}`)
        return true
      })
      assert.equal((await runAs(db.connection_string, 'SELECT count(*) AS n FROM big'))[0].n > 0, true)
    })

    await t.test('back under the limit, it is writable again and the warning re-arms', async () => {
      const raised = await setQuotas(atrium, key, db.uuid, { storage_hard_limit_gb: 1, warning_threshold_pct: 60 })
      assert.equal(raised.status, 'active')
      assert.equal(raised.storage.read_only, false)
      await runAs(db.connection_string, INSERT)
      // a new crossing of the threshold is warned again
      await setQuotas(atrium, key, db.uuid, { storage_hard_limit_gb: 1, warning_threshold_pct: 1 })
      const w = await warnings(atrium, db.uuid)
      assert.equal(w.length, 2)
      assert.equal(w.at(-1)!.payload.warning_threshold_pct, 1)
    })
  })
}
