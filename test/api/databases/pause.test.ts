// Pause and resume of a provisioned database on the real PostgreSQL and MariaDB: while paused its login cannot
// connect (open sessions are ended), the gateway refuses its client and status reads paused; resume undoes it
// all. Each publishes its event once; repeating either is a no-op. A storage quota's read-only state outlives
// a pause.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { startDatabasesAtrium, type DatabasesAtrium } from './helpers.js'

type Session = { query(sql: string): Promise<any[]>; end(): Promise<void> }

async function connect(url: string): Promise<Session> {
  if (url.startsWith('postgresql:')) {
    const c = new pg.Client({ connectionString: url })
    c.on('error', () => {})
    await c.connect()
    return { query: async (sql) => (await c.query(sql)).rows, end: () => c.end().catch(() => {}) }
  }
  const c = await mysql.createConnection({ uri: url })
  c.on('error', () => {})
  return { query: async (sql) => (await c.query(sql))[0] as any[], end: () => c.end().catch(() => {}) }
}

async function runAs(url: string, sql: string): Promise<any[]> {
  const s = await connect(url)
  try { return await s.query(sql) } finally { await s.end() }
}

const eventsOf = async (atrium: DatabasesAtrium, uuid: string) =>
  (await atrium.catalog.query<{ type: string }>(`SELECT type FROM atrium.events WHERE payload->>'database_id' = $1 ORDER BY id`, [uuid])).map((e) => e.type)

/** a login refused at connect: PostgreSQL 28000 (role not permitted to log in), MariaDB 4151 (account locked) */
const refusedLogin = (err: any) => {
  assert.ok(err.code === '28000' || err.errno === 4151, `${err.code} ${err.errno} ${err.message}`)
  return true
}

for (const engine of ['postgres', 'mysql'] as const) {
  test(`pause and resume a ${engine} database`, async (t) => {
    const atrium = await startDatabasesAtrium(t)
    const { key } = await atrium.createPlatformKey()
    const created = await atrium.api('POST', '/api/v1/databases?wait=true&timeout=60', key, { body: { name: 'sleepy', db_type: engine } })
    assert.equal(created.status, 201, created.text)
    atrium.track(created.body.data)
    const db = created.body.data
    await runAs(db.connection_string, 'CREATE TABLE notes (id int PRIMARY KEY, body text)')
    await runAs(db.connection_string, "INSERT INTO notes VALUES (1, 'kept')")
    assert.equal((await atrium.post('/gateway/fetch', { client: db.db_name, body: { table_name: 'notes' } })).status, 200)

    await t.test('pause shuts the login out, ends its sessions and refuses the gateway', async () => {
      const open = await connect(db.connection_string)
      try {
        const res = await atrium.api('POST', `/api/v1/databases/${db.uuid}/pause`, key)
        assert.equal(res.status, 200, res.text)
        assert.equal(res.body.data.status, 'paused')
        assert.equal(res.body.data.db_password, null, 'the answer does not show the password')
        await assert.rejects(open.query('SELECT 1 AS one'), 'the open session was ended')
      } finally {
        await open.end()
      }
      await assert.rejects(runAs(db.connection_string, 'SELECT 1 AS one'), refusedLogin)
      const gateway = await atrium.post('/gateway/fetch', { client: db.db_name, body: { table_name: 'notes' } })
      assert.equal(gateway.status, 400, gateway.text)
      assert.match(gateway.text, /unknown_client/)
      assert.equal((await atrium.api('GET', `/api/v1/databases/${db.uuid}`, key)).body.data.status, 'paused')
    })

    await t.test('pausing a paused database is a no-op 200', async () => {
      const again = await atrium.api('POST', `/api/v1/databases/${db.uuid}/pause`, key)
      assert.equal(again.status, 200, again.text)
      assert.equal(again.body.data.status, 'paused')
      assert.deepEqual(await eventsOf(atrium, db.uuid), ['database.provisioned', 'database.paused'])
    })

    await t.test('resume lets the login and the gateway in again, data intact', async () => {
      const res = await atrium.api('POST', `/api/v1/databases/${db.uuid}/resume`, key)
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.status, 'active')
      assert.deepEqual(await runAs(db.connection_string, 'SELECT body FROM notes'), [{ body: 'kept' }])
      const gateway = await atrium.post('/gateway/fetch', { client: db.db_name, body: { table_name: 'notes', columns: 'id,body' } })
      assert.equal(gateway.status, 200, gateway.text)
      assert.deepEqual(gateway.body.data, [{ id: 1, body: 'kept' }])
      const again = await atrium.api('POST', `/api/v1/databases/${db.uuid}/resume`, key)
      assert.equal(again.status, 200, again.text)
      assert.equal(again.body.data.status, 'active')
      assert.deepEqual(await eventsOf(atrium, db.uuid), ['database.provisioned', 'database.paused', 'database.resumed'])
    })

    await t.test('an Idempotency-Key retry replays the answer and pauses once', async () => {
      const headers = { 'idempotency-key': `pause-${db.uuid}` }
      const first = await atrium.api('POST', `/api/v1/databases/${db.uuid}/pause`, key, { headers })
      assert.equal(first.status, 200, first.text)
      const retry = await atrium.api('POST', `/api/v1/databases/${db.uuid}/pause`, key, { headers })
      assert.equal(retry.status, 200, retry.text)
      assert.equal(retry.headers.get('idempotent-replayed'), 'true')
      assert.equal((await eventsOf(atrium, db.uuid)).filter((e) => e === 'database.paused').length, 2)
      const resumed = await atrium.api('POST', `/api/v1/databases/${db.uuid}/resume`, key)
      assert.equal(resumed.body.data.status, 'active')
    })

    await t.test('401 without a key, 403 without databases:write, 404 for another team or a deleted one', async () => {
      for (const action of ['pause', 'resume']) {
        const path = `/api/v1/databases/${db.uuid}/${action}`
        assert.equal((await atrium.api('POST', path, null)).status, 401)
        const reader = await atrium.createPlatformKey({ scopes: ['databases:read'] })
        const denied = await atrium.api('POST', path, reader.key)
        assert.equal(denied.status, 403, denied.text)
        assert.equal(denied.body.error.code, 'missing_scope')
        const stranger = await atrium.createPlatformKey()
        const hidden = await atrium.api('POST', path, stranger.key)
        assert.equal(hidden.status, 404, hidden.text)
        assert.equal(hidden.body.error.code, 'database_not_found')
        assert.equal((await atrium.api('POST', `/api/v1/databases/00000000-0000-4000-8000-000000000000/${action}`, key)).status, 404)
      }
      assert.equal((await atrium.api('GET', `/api/v1/databases/${db.uuid}`, key)).body.data.status, 'active', 'refused calls changed nothing')
      // a paused database can be deleted; afterwards both routes are 404
      assert.equal((await atrium.api('POST', `/api/v1/databases/${db.uuid}/pause`, key)).status, 200)
      assert.equal((await atrium.api('DELETE', `/api/v1/databases/${db.uuid}`, key)).status, 200)
      for (const action of ['pause', 'resume']) {
        const gone = await atrium.api('POST', `/api/v1/databases/${db.uuid}/${action}`, key)
        assert.equal(gone.status, 404, gone.text)
      }
    })
  })
}

test('a storage quota read-only state outlives pause and resume (postgres)', async (t) => {
  const atrium = await startDatabasesAtrium(t)
  const { key } = await atrium.createPlatformKey()
  const created = await atrium.api('POST', '/api/v1/databases?wait=true&timeout=60', key, { body: { name: 'full' } })
  assert.equal(created.status, 201, created.text)
  atrium.track(created.body.data)
  const db = created.body.data
  await runAs(db.connection_string, 'CREATE TABLE small (id int)')
  // an empty PostgreSQL database takes ~7.5 MB; ~9 MB more of rows passes the smallest limit (0.01 GB, 10.7 MB)
  await runAs(db.connection_string, 'CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 30) AS t FROM generate_series(1, 9000) g')
  const quotas = await atrium.api('PATCH', `/api/v1/databases/${db.uuid}/quotas`, key, { body: { storage_hard_limit_gb: 0.01 } })
  assert.equal(quotas.status, 200, quotas.text)
  let status = ''
  for (let i = 0; i < 300 && status !== 'read_only'; i++) {
    status = (await atrium.api('GET', `/api/v1/databases/${db.uuid}`, key)).body.data.status
    if (status !== 'read_only') await sleep(100)
  }
  assert.equal(status, 'read_only')

  const paused = await atrium.api('POST', `/api/v1/databases/${db.uuid}/pause`, key)
  assert.equal(paused.body.data.status, 'paused', 'paused shows over read_only')
  assert.equal(paused.body.data.storage.read_only, true)
  const resumed = await atrium.api('POST', `/api/v1/databases/${db.uuid}/resume`, key)
  assert.equal(resumed.status, 200, resumed.text)
  assert.equal(resumed.body.data.status, 'read_only', 'resume does not lift the quota')
  await assert.rejects(runAs(db.connection_string, 'INSERT INTO small VALUES (1)'), (err: any) => err.code === '25006')
})
