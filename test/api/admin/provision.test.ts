import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { forEachDialect } from '../../helpers/dialects.js'
import { createDatabase, createPgDatabase } from '../../helpers/databases.js'

const auditTable = (dialect: string) => dialect === 'postgres'
  ? "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'database_audit_log'"
  : "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'database_audit_log'"

forEachDialect('POST /admin/provision and GET /admin/provision/status', async (t, db) => {
  const atrium = await startTestAtrium(t, { sources: { target: db.url } })

  await t.test('a fresh client is not provisioned; the status names the missing table', async () => {
    const res = await atrium.get('/admin/provision/status?client_name=target')
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body, { client_name: 'target', provisioned: false, present_tables: [], missing_tables: ['database_audit_log'] })
  })

  await t.test('provisioning a registered client creates the table; doing it again is harmless', async () => {
    const res = await atrium.post('/admin/provision', { body: { client_name: 'target' } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.client, 'target')
    assert.equal(res.body.registered, null)
    assert.deepEqual(res.body.tables, ['database_audit_log'])
    assert.ok(res.body.statements_executed >= 1)
    assert.equal(Number((await db.query<{ n: number }>(auditTable(db.dialect)))[0]!.n), 1)
    assert.equal((await atrium.post('/admin/provision', { body: { client_name: 'target' } })).status, 200)
    const status = await atrium.get('/admin/provision/status?client_name=target')
    assert.deepEqual(status.body, { client_name: 'target', provisioned: true, present_tables: ['database_audit_log'], missing_tables: [] })
  })

  await t.test('the management API works on the provisioned client (its audit table is there)', async () => {
    const res = await atrium.get('/management/capabilities', { client: 'target' })
    assert.equal(res.status, 200, res.text)
  })

  await t.test('a database given by uri is provisioned, then registered', async () => {
    const other = await createDatabase(t, db.dialect)
    const res = await atrium.post('/admin/provision', { body: { uri: other.url, register: true, register_name: 'by_uri' } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.registered, 'by_uri')
    assert.equal(Number((await other.query<{ n: number }>(auditTable(other.dialect)))[0]!.n), 1)
    assert.equal((await atrium.get('/admin/provision/status?client_name=by_uri')).body.provisioned, true)
  })
})

test('POST /admin/provision with a uri, registering it', async (t) => {
  const db = await createPgDatabase(t)
  const other = await createPgDatabase(t)
  const atrium = await startTestAtrium(t)

  await t.test('without register: provisioned but no client', async () => {
    const res = await atrium.post('/admin/provision', { body: { uri: other.url } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.registered, null)
    assert.equal((await other.query<{ n: number }>(auditTable('postgres')))[0]!.n, 1)
    const clients = await atrium.get('/admin/clients')
    assert.ok(!clients.body.clients.some((c: { client_name: string }) => c.client_name === 'provisioned'))
  })

  await t.test('with register: provisioned, then served as a client', async () => {
    const res = await atrium.post('/admin/provision', { body: { uri: db.url, register: true, register_name: 'fresh_db' } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.registered, 'fresh_db')
    const status = await atrium.get('/admin/provision/status?client_name=fresh_db')
    assert.equal(status.body.provisioned, true)
    const query = await atrium.post('/gateway/query', { client: 'fresh_db', body: { query: 'SELECT count(*)::int AS n FROM database_audit_log' } })
    assert.equal(query.status, 200, query.text)
  })

  await t.test('registering a name already taken is a 409, and nothing is run', async () => {
    const res = await atrium.post('/admin/provision', { body: { uri: other.url, register: true, register_name: 'fresh_db' } })
    assert.equal(res.status, 409)
    assert.equal(res.body.code, 'client_exists')
  })

  await t.test('bad targets are 4xx that say what to send', async () => {
    const both = await atrium.post('/admin/provision', { body: { uri: db.url, client_name: 'fresh_db' } })
    assert.equal(both.status, 400)
    assert.match(both.body.message, /either uri or client_name/)
    const none = await atrium.post('/admin/provision', { body: {} })
    assert.equal(none.status, 400)
    assert.match(none.body.message, /give uri/)
    const unknown = await atrium.post('/admin/provision', { body: { client_name: 'nope' } })
    assert.equal(unknown.status, 400)
    assert.equal(unknown.body.code, 'unknown_client')
    const notUrl = await atrium.post('/admin/provision', { body: { uri: 'http://example.com/x' } })
    assert.equal(notUrl.status, 400)
    const catalog = await atrium.post('/admin/provision', { body: { uri: atrium.catalog.url } })
    assert.equal(catalog.status, 400)
    assert.equal(catalog.body.code, 'client_is_catalog')
    const badName = await atrium.post('/admin/provision', { body: { uri: other.url, register: true, register_name: 'Bad Name!' } })
    assert.equal(badName.status, 400)
    const status = await atrium.get('/admin/provision/status')
    assert.equal(status.status, 400)
  })

  await t.test('an unreachable database is a 503', async () => {
    const res = await atrium.post('/admin/provision', { body: { uri: 'postgres://postgres@127.0.0.1:9/nowhere' } })
    assert.equal(res.status, 503, res.text)
  })

  await t.test('only the admin key provisions', async () => {
    const { key } = await createKey(atrium, { rights: ['*'] })
    for (const [method, path, body] of [['POST', '/admin/provision', { client_name: 'fresh_db' }], ['GET', '/admin/provision/status?client_name=fresh_db', undefined]] as const) {
      assert.equal((await atrium.request(method, path, { key: null, body })).status, 401, `${method} ${path} without a key`)
      assert.equal((await atrium.request(method, path, { key, body })).status, 403, `${method} ${path} with an API key`)
    }
  })
})
