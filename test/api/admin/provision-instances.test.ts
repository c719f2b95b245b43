import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'

/** stops by PID whatever a failed test left running (the data directory goes with the test's data dir) */
function killLeftover(pid: number | null | undefined): void {
  if (!pid) return
  try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
}

test('/admin/provision/instances: real local PostgreSQL instances', async (t) => {
  const atrium = await startTestAtrium(t)
  const pids: number[] = []
  t.after(async () => {
    for (const name of ['atrium-pg-local_one', 'second']) await atrium.request('DELETE', `/admin/provision/instances/${name}`).catch(() => undefined)
    for (const pid of pids) killLeftover(pid)
  })
  let created: any

  await t.test('starts an instance on a free port, applies the schema and registers it', async () => {
    const res = await atrium.post('/admin/provision/instances', { body: { client_name: 'local_one', db_name: 'appdb', username: 'owner' } })
    assert.equal(res.status, 200, res.text)
    created = res.body
    if (created.pid) pids.push(created.pid)
    assert.equal(created.container_name, 'atrium-pg-local_one')
    assert.equal(created.status, 'running')
    assert.equal(created.registered, true)
    assert.deepEqual(created.provisioned.tables, ['database_audit_log'])
    assert.ok(created.port > 0)
    assert.doesNotMatch(created.connection_uri_masked, new RegExp(new URL(created.connection_uri).password))
    // the returned connection string reaches the instance directly
    const client = new pg.Client({ connectionString: created.connection_uri })
    await client.connect()
    try {
      const { rows } = await client.query("SELECT current_database() AS db, current_user AS who, to_regclass('public.database_audit_log') IS NOT NULL AS audit")
      assert.deepEqual(rows[0], { db: 'appdb', who: 'owner', audit: true })
    } finally {
      await client.end()
    }
    // and the gateway serves it as a client
    const query = await atrium.post('/gateway/query', { client: 'local_one', body: { query: 'SELECT current_database() AS db' } })
    assert.equal(query.status, 200, query.text)
    assert.equal(query.body.data[0].db, 'appdb')
  })

  await t.test('inspect: running, with the client that points at it', async () => {
    const res = await atrium.get('/admin/provision/instances/atrium-pg-local_one')
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.status, 'running')
    assert.equal(res.body.pid, created.pid)
    assert.deepEqual(res.body.client, { client_name: 'local_one', registered: true })
    assert.equal(res.body.connection_uri, undefined, 'the password is shown at creation only')
    const other = await atrium.get('/admin/provision/instances/atrium-pg-local_one?client_name=someone_else')
    assert.deepEqual(other.body.client, { client_name: 'someone_else', registered: false })
  })

  await t.test('the same name again is a 409 unless reuse_existing', async () => {
    const again = await atrium.post('/admin/provision/instances', { body: { client_name: 'local_one' } })
    assert.equal(again.status, 409)
    assert.equal(again.body.code, 'instance_exists')
    const reused = await atrium.post('/admin/provision/instances', { body: { client_name: 'local_one', reuse_existing: true } })
    assert.equal(reused.status, 200, reused.text)
    assert.equal(reused.body.reused, true)
    assert.equal(reused.body.port, created.port)
    assert.equal(reused.body.connection_uri, created.connection_uri)
  })

  await t.test('an instance without registration or schema', async () => {
    const res = await atrium.post('/admin/provision/instances', { body: { client_name: 'second_client', container_name: 'second', provision_schema: false, register_runtime: false, register_catalog: false } })
    assert.equal(res.status, 200, res.text)
    if (res.body.pid) pids.push(res.body.pid)
    assert.equal(res.body.registered, false)
    assert.equal(res.body.provisioned, null)
    assert.equal((await atrium.get('/admin/provision/status?client_name=second_client')).status, 400, 'not a client')
    const del = await atrium.request('DELETE', '/admin/provision/instances/second')
    assert.equal(del.status, 200, del.text)
    assert.deepEqual(del.body, { container_name: 'second', stopped: true, client_name: 'second_client', client_removed: false })
  })

  await t.test('bad input is a 4xx', async () => {
    const docker = await atrium.post('/admin/provision/instances', { body: { client_name: 'x', image: 'postgres:16' } })
    assert.equal(docker.status, 422)
    assert.equal(docker.body.code, 'docker_unavailable')
    assert.match(docker.body.message, /Docker/)
    const badName = await atrium.post('/admin/provision/instances', { body: { client_name: 'x', container_name: '../etc' } })
    assert.equal(badName.status, 400)
    const badDb = await atrium.post('/admin/provision/instances', { body: { client_name: 'x', container_name: 'x', db_name: 'a"; DROP' } })
    assert.equal(badDb.status, 400)
    const noClient = await atrium.post('/admin/provision/instances', { body: {} })
    assert.equal(noClient.status, 400)
    const badDelete = await atrium.request('DELETE', '/admin/provision/instances/atrium-pg-local_one', { body: { remove_everything: true } })
    assert.equal(badDelete.status, 400)
    const missing = await atrium.get('/admin/provision/instances/nothing-here')
    assert.equal(missing.status, 404)
    assert.equal(missing.body.code, 'instance_not_found')
  })

  await t.test('only the admin key manages instances', async () => {
    const { key } = await createKey(atrium, { rights: ['*'] })
    for (const [method, path, body] of [['POST', '/admin/provision/instances', { client_name: 'y' }], ['GET', '/admin/provision/instances/atrium-pg-local_one', undefined], ['DELETE', '/admin/provision/instances/atrium-pg-local_one', undefined]] as const) {
      assert.equal((await atrium.request(method, path, { key: null, body })).status, 401, `${method} ${path} without a key`)
      assert.equal((await atrium.request(method, path, { key, body })).status, 403, `${method} ${path} with an API key`)
    }
    assert.equal((await atrium.get('/admin/provision/instances/atrium-pg-local_one')).body.status, 'running', 'still running')
  })

  await t.test('delete stops the process, removes its client and its record', async () => {
    const res = await atrium.request('DELETE', '/admin/provision/instances/atrium-pg-local_one')
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body, { container_name: 'atrium-pg-local_one', stopped: true, client_name: 'local_one', client_removed: true })
    assert.throws(() => process.kill(created.pid, 0), 'the postgres process is gone')
    assert.equal((await atrium.get('/admin/provision/instances/atrium-pg-local_one')).status, 404)
    const query = await atrium.post('/gateway/query', { client: 'local_one', body: { query: 'SELECT 1' } })
    assert.equal(query.status, 400, 'the client is gone')
  })
})
