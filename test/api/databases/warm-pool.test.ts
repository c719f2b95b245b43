// The warm pool on the real PostgreSQL and MariaDB: a job keeps provisioning.warmPool ready databases per
// region and engine; a create takes one (the answer names it), the pool is refilled, and the database works
// like any other.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { startDatabasesAtrium, type DatabasesAtrium } from './helpers.js'

type WarmRow = { db_type: string; db_name: string; db_username: string; ready: boolean }

const warmRows = (atrium: DatabasesAtrium) => atrium.catalog.query<WarmRow>('SELECT db_type, db_name, db_username, ready FROM atrium.warm_databases ORDER BY created_at')

/** waits (bounded) until each engine's pool holds `size` ready databases and nothing half-made */
async function poolFull(atrium: DatabasesAtrium, size: number): Promise<WarmRow[]> {
  for (let i = 0; i < 600; i++) {
    const rows = await warmRows(atrium)
    const ready = (engine: string) => rows.filter((r) => r.db_type === engine && r.ready).length
    if (ready('postgres') === size && ready('mysql') === size && rows.every((r) => r.ready)) return rows
    await sleep(100)
  }
  throw new Error(`the warm pool did not fill: ${JSON.stringify(await warmRows(atrium))}`)
}

async function runAs(url: string, sql: string): Promise<unknown[]> {
  if (url.startsWith('postgresql:')) {
    const c = new pg.Client({ connectionString: url })
    c.on('error', () => {})
    await c.connect()
    try { return (await c.query(sql)).rows } finally { await c.end() }
  }
  const c = await mysql.createConnection({ uri: url })
  try { return (await c.query(sql))[0] as unknown[] } finally { await c.end() }
}

test('the warm pool', async (t) => {
  const atrium = await startDatabasesAtrium(t, { 'provisioning.warmPool': { postgres: 1, mysql: 1 } })
  const { key } = await atrium.createPlatformKey()
  const first = await poolFull(atrium, 1)
  // every database the pool made is tracked, so the helpers' safety net drops what no create took
  for (const r of first) atrium.track(r)

  for (const engine of ['postgres', 'mysql'] as const) {
    await t.test(`a ${engine} create takes the ready database, which works, and the pool is refilled`, async () => {
      const pooled = first.find((r) => r.db_type === engine)!
      const res = await atrium.api('POST', '/api/v1/databases?wait=true&timeout=60', key, { body: { name: `warm-${engine}`, db_type: engine, connection_hard_limit: 7 } })
      assert.equal(res.status, 201, res.text)
      atrium.track(res.body.data)
      const db = res.body.data
      assert.equal(db.db_name, pooled.db_name, 'the pooled database was taken')
      assert.equal(db.status, 'active')
      await runAs(db.connection_string, 'CREATE TABLE t (id int)')
      assert.deepEqual(await runAs(db.connection_string, 'SELECT count(*) AS n FROM t'), [{ n: engine === 'postgres' ? '0' : 0 }])
      // the gateway reaches it under its name, as any provisioned database
      const viaGateway = await atrium.post('/gateway/fetch', { client: db.db_name, body: { table_name: 't', columns: 'id' } })
      assert.equal(viaGateway.status, 200, viaGateway.text)
      const refilled = await poolFull(atrium, 1)
      const fresh = refilled.find((r) => r.db_type === engine)!
      assert.notEqual(fresh.db_name, pooled.db_name)
      atrium.track(fresh)
    })
  }

  await t.test('two concurrent creates take different databases', async () => {
    const [a, b] = await Promise.all(['one', 'two'].map((name) => atrium.api('POST', '/api/v1/databases?wait=true&timeout=60', key, { body: { name } })))
    for (const r of [a!, b!]) {
      assert.equal(r.status, 201, r.text)
      atrium.track(r.body.data)
    }
    assert.notEqual(a!.body.data.db_name, b!.body.data.db_name)
    // the pool is full again and stays so: nothing more is made after this
    for (const r of await poolFull(atrium, 1)) atrium.track(r)
  })
})
