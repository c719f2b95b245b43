import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ADMIN_KEY, startTestAtrium } from '../helpers/atrium.js'
import { createKey } from '../helpers/auth-grid.js'
import { assertMatchesSpec } from '../helpers/athena-contract.js'
import { createPgDatabase } from '../helpers/databases.js'

test('API keys, rights and enforcement through the admin API', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const fetchAs = (key: string | null, client = 'shop') => atrium.post('/gateway/fetch', { client, key, body: { table_name: 'customers', columns: 'id', sort_by: { field: 'id' } } })

  await t.test('creating a key shows it once; only its hash is stored', async () => {
    const res = await atrium.post('/admin/api-keys', { body: { name: 'reporting', description: 'dashboards', client_name: 'shop', rights: ['gateway.read'] } })
    assert.equal(res.status, 201, res.text)
    assert.match(res.body.api_key, /^ath_[a-z0-9]{16}\.[A-Za-z0-9_-]{43}$/)
    assert.equal(res.body.record.public_id, res.body.api_key.slice(4, 20))
    assert.deepEqual(res.body.record.rights, ['gateway.read'])
    await assertMatchesSpec('POST', '/admin/api-keys', 201, res.body)
    const secret = res.body.api_key.split('.')[1]
    const stored = await atrium.catalog.query<{ secret_hash: Buffer }>('SELECT secret_hash FROM atrium.api_keys WHERE public_id = $1', [res.body.record.public_id])
    assert.equal(stored[0].secret_hash.length, 32)
    const everything = JSON.stringify(await atrium.catalog.query('SELECT * FROM atrium.api_keys'))
    assert.ok(!everything.includes(secret), 'the secret is not in the catalog')
    const list = await atrium.get('/admin/api-keys')
    assert.equal(list.status, 200)
    await assertMatchesSpec('GET', '/admin/api-keys', 200, list.body)
    assert.ok(!list.text.includes(secret) && !list.text.includes('secret_hash'))
    assert.equal((await fetchAs(res.body.api_key)).status, 200)
  })

  await t.test('PATCH changes rights and activity at once, in this process', async () => {
    const k = await createKey(atrium, { client_name: 'shop', rights: ['gateway.read'] })
    assert.equal((await fetchAs(k.key)).status, 200)
    const patched = await atrium.request('PATCH', `/admin/api-keys/${k.id}`, { body: { rights: ['sql.read'] } })
    assert.equal(patched.status, 200, patched.text)
    await assertMatchesSpec('PATCH', '/admin/api-keys/{id}', 200, patched.body)
    assert.equal((await fetchAs(k.key)).body.code, 'missing_right')
    await atrium.request('PATCH', `/admin/api-keys/${k.id}`, { body: { rights: ['gateway.read'], is_active: false } })
    assert.equal((await fetchAs(k.key)).body.code, 'inactive_api_key')
    const removed = await atrium.request('DELETE', `/admin/api-keys/${k.id}`)
    assert.deepEqual(removed.body, { id: k.id })
    assert.equal((await fetchAs(k.key)).body.code, 'invalid_api_key')
  })

  await t.test('bad input: unknown rights, bad CIDRs, unknown or malformed ids, missing name', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/admin/api-keys', { name: 'x', rights: ['gateway.fly'] }, 400, 'invalid_request'],
      ['POST', '/admin/api-keys', { name: 'x', allowed_ips: ['10.0.0.0/33'] }, 400, 'invalid_request'],
      ['POST', '/admin/api-keys', { name: 'x', expires_at: 'tomorrow' }, 400, 'invalid_request'],
      // dates that JavaScript and PostgreSQL would silently roll over are refused
      ['POST', '/admin/api-keys', { name: 'x', expires_at: '2030-02-30' }, 400, 'invalid_request'],
      ['POST', '/admin/api-keys', { name: 'x', expires_at: '2030-01-31T25:00:00Z' }, 400, 'invalid_request'],
      ['POST', '/admin/api-keys', { name: 'x', expires_at: '2030-01-31T10:00:00+99:00' }, 400, 'invalid_request'],
      ['POST', '/admin/api-keys', { rights: [] }, 400, 'invalid_request'],
      ['PATCH', '/admin/api-keys/00000000-0000-4000-8000-000000000000', { name: 'y' }, 404, 'api_key_not_found'],
      ['PATCH', '/admin/api-keys/not-a-uuid', { name: 'y' }, 404, 'api_key_not_found'],
      ['DELETE', '/admin/api-keys/not-a-uuid', undefined, 404, 'api_key_not_found'],
      ['DELETE', '/admin/api-key-rights/00000000-0000-4000-8000-000000000000', undefined, 404, 'right_not_found'],
      ['DELETE', '/admin/api-key-clients/nobody', undefined, 404, 'enforcement_override_not_found'],
      ['PUT', '/admin/api-key-config', { enforce_api_keys: 'yes' }, 400, 'invalid_request'],
    ]
    for (const [method, path, body, status, code] of cases) {
      const res = await atrium.request(method, path, { body })
      assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)}: ${res.text}`)
      assert.equal(res.body.code, code)
    }
  })

  await t.test('expires_at takes RFC 3339 date-times with offsets, or a date meaning midnight UTC', async () => {
    const dated = await atrium.post('/admin/api-keys', { body: { name: 'dated', expires_at: '2030-01-31' } })
    assert.equal(dated.status, 201, dated.text)
    assert.equal(Date.parse(dated.body.record.expires_at), Date.UTC(2030, 0, 31))
    const offset = await atrium.post('/admin/api-keys', { body: { name: 'offset', expires_at: '2030-01-31T10:00:00+02:00' } })
    assert.equal(offset.status, 201, offset.text)
    assert.equal(Date.parse(offset.body.record.expires_at), Date.UTC(2030, 0, 31, 8))
  })

  await t.test('the rights catalogue: built-ins listed, custom rights created, renamed and deleted', async () => {
    const list = await atrium.get('/admin/api-key-rights')
    await assertMatchesSpec('GET', '/admin/api-key-rights', 200, list.body)
    const names = list.body.rights.map((r: { name: string }) => r.name)
    for (const right of ['gateway.read', 'gateway.insert', 'gateway.update', 'gateway.delete', 'gateway.rpc', 'sql.read', 'sql.write', 'sql.ddl', 'schema.read',
      'storage.read', 'storage.write', 'management.read', 'management.tables.write', 'management.tables.drop', 'management.columns.drop',
      'management.indexes.write', 'management.indexes.drop', 'management.extensions.write']) assert.ok(names.includes(right), right)
    const created = await atrium.post('/admin/api-key-rights', { body: { name: 'reports.export', description: 'export reports' } })
    assert.equal(created.status, 201, created.text)
    await assertMatchesSpec('POST', '/admin/api-key-rights', 201, created.body)
    assert.equal((await atrium.post('/admin/api-key-rights', { body: { name: 'reports.export' } })).status, 409)
    assert.equal((await atrium.post('/admin/api-key-rights', { body: { name: 'Bad Name!' } })).status, 400)
    const holder = await createKey(atrium, { rights: ['reports.export'] })
    const renamed = await atrium.request('PATCH', `/admin/api-key-rights/${created.body.right.id}`, { body: { name: 'reports.download' } })
    assert.equal(renamed.body.right.name, 'reports.download')
    const after = (await atrium.get('/admin/api-keys')).body.api_keys.find((k: { id: string }) => k.id === holder.id)
    assert.deepEqual(after.rights, ['reports.download'], 'keys keep a renamed right')
    assert.equal((await atrium.request('DELETE', `/admin/api-key-rights/${created.body.right.id}`)).status, 200)
    const builtin = list.body.rights.find((r: { name: string }) => r.name === 'gateway.read')
    assert.equal((await atrium.request('DELETE', `/admin/api-key-rights/${builtin.id}`)).status, 400)
  })

  await t.test('enforcement: on by default, off globally, back on for one client', async () => {
    assert.equal((await fetchAs(null)).status, 401)
    const config = await atrium.get('/admin/api-key-config')
    assert.equal(config.body.global.enforce_api_keys, true)
    await assertMatchesSpec('GET', '/admin/api-key-config', 200, config.body)
    const off = await atrium.request('PUT', '/admin/api-key-config', { body: { enforce_api_keys: false } })
    assert.equal(off.body.global.enforce_api_keys, false)
    assert.equal((await fetchAs(null)).status, 200, 'no key needed once enforcement is off')
    assert.equal((await fetchAs('ath_0123456789abcdef.' + 'A'.repeat(43))).status, 401, 'a presented key is still checked')
    const override = await atrium.request('PUT', '/admin/api-key-clients/shop', { body: { enforce_api_keys: true } })
    assert.equal(override.status, 200)
    await assertMatchesSpec('PUT', '/admin/api-key-clients/{client_name}', 200, override.body)
    assert.equal((await fetchAs(null)).status, 401, 'the client override wins')
    const clients = await atrium.get('/admin/api-key-clients')
    await assertMatchesSpec('GET', '/admin/api-key-clients', 200, clients.body)
    assert.deepEqual(clients.body.clients.map((c: { client_name: string }) => c.client_name), ['shop'])
    const removed = await atrium.request('DELETE', '/admin/api-key-clients/shop')
    assert.deepEqual(removed.body, { client_name: 'shop' })
    assert.equal((await fetchAs(null)).status, 200)
    await atrium.request('PUT', '/admin/api-key-config', { body: { enforce_api_keys: true } })
    assert.equal((await fetchAs(null)).status, 401)
  })

  await t.test('raw SQL needs the right for its class; a read-only key runs read-only', async () => {
    await db.query('CREATE SEQUENCE counter')
    const reader = await createKey(atrium, { client_name: 'shop', rights: ['sql.read'] })
    const sql = (query: string, key = reader.key) => atrium.post('/gateway/query', { client: 'shop', key, body: { query } })
    assert.equal((await sql('SELECT count(*) AS n FROM customers')).body.data[0].n, 3)
    const write = await sql("INSERT INTO sentinel VALUES (50, 'x')")
    assert.equal(write.status, 403)
    assert.equal(write.body.code, 'missing_right')
    assert.equal(write.body.data.required_right, 'sql.write')
    assert.equal((await sql('DROP TABLE sentinel')).body.data.required_right, 'sql.ddl')
    // a volatile function is classified as a write before anything runs
    const volatile = await sql("SELECT nextval('counter')")
    assert.equal(volatile.status, 403)
    assert.equal(volatile.body.data.required_right, 'sql.write')
    // declared STABLE, so classified as a read, but writes: the read-only transaction refuses it
    await db.query("CREATE FUNCTION sneaky_next() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT nextval('counter') $$")
    const sneaky = await sql('SELECT sneaky_next()')
    assert.equal(sneaky.status, 403)
    assert.equal(sneaky.body.code, 'read_only_transaction')
    const writer = await createKey(atrium, { client_name: 'shop', rights: ['sql.read', 'sql.write'] })
    assert.equal((await sql("SELECT nextval('counter') AS n", writer.key)).body.data[0].n, 1)
  })

  await t.test('a lock-in key binds to the client of its first use', async () => {
    const k = await createKey(atrium, { rights: ['gateway.read'], lock_in: true })
    const other = await createPgDatabase(t)
    await other.load('shop')
    await atrium.post('/admin/clients', { body: { client_name: 'lockother', pg_uri: other.url } })
    assert.equal((await fetchAs(k.key, 'shop')).status, 200)
    assert.equal((await fetchAs(k.key, 'shop')).status, 200)
    const elsewhere = await fetchAs(k.key, 'lockother')
    assert.equal(elsewhere.status, 403, elsewhere.text)
    assert.equal(elsewhere.body.code, 'key_locked_in')
    const record = (await atrium.get('/admin/api-keys')).body.api_keys.find((r: { id: string }) => r.id === k.id)
    assert.equal(record.locked_client, 'shop')
  })

  await t.test('last_used_at is recorded in batches, not on every request', async () => {
    const k = await createKey(atrium, { client_name: 'shop', rights: ['gateway.read'] })
    for (let i = 0; i < 5; i++) await fetchAs(k.key)
    const before = await atrium.catalog.query<{ last_used_at: string | null }>('SELECT last_used_at FROM atrium.api_keys WHERE id = $1', [k.id])
    assert.equal(before[0].last_used_at, null, 'not written on the request path')
    await atrium.handle.platform.auth.flushLastUsed()
    const after = await atrium.catalog.query<{ last_used_at: Date | null }>('SELECT last_used_at FROM atrium.api_keys WHERE id = $1', [k.id])
    assert.ok(after[0].last_used_at)
  })

  await t.test('protected metadata routes: schema.read keys or the admin key; /openapi.yaml public by default', async () => {
    const reader = await createKey(atrium, { rights: ['schema.read'] })
    const writer = await createKey(atrium, { rights: ['gateway.insert'] })
    assert.equal((await atrium.get('/clients', { key: null })).status, 401)
    assert.equal((await atrium.get('/clients', { key: reader.key })).status, 200)
    assert.equal((await atrium.get('/router/registry', { key: writer.key })).body.code, 'missing_right')
    assert.equal((await atrium.get('/schema/tables', { client: 'shop', key: reader.key })).status, 200)
    assert.equal((await atrium.get('/openapi.yaml', { key: null })).status, 200)
    assert.equal((await atrium.get('/docs/', { key: null })).status, 200)
  })

  await t.test('no key, secret or connection string ever reaches the log stream', async () => {
    const k = await createKey(atrium, { client_name: 'shop', rights: ['gateway.read'] })
    await atrium.get(`/clients?api_key=${encodeURIComponent(k.key)}`, { key: null })
    await fetchAs(`${k.key}x`)
    await atrium.post('/gateway/fetch', { client: 'shop', key: k.key, body: { table_name: 'nope' } })
    const logs = atrium.logs()
    for (const secret of [k.key, k.key.split('.')[1], ADMIN_KEY, db.url]) assert.ok(!logs.includes(secret), `log stream leaks ${secret.slice(0, 12)}…`)
  })
})

test('protect settings: openapi can require a key, schema metadata can be made public', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, settings: { 'security.protect': { schema: 'public', registry: 'key', openapi: 'key', clients: 'key' } } })
  assert.equal((await atrium.get('/openapi.yaml', { key: null })).status, 401)
  assert.equal((await atrium.get('/openapi.yaml')).status, 200)
  assert.equal((await atrium.get('/router/registry', { key: null })).status, 401)
  assert.equal((await atrium.get('/clients', { key: null })).status, 401)
  // schema: public opens the per-client schema routes, while key enforcement still guards the data
  const tables = await atrium.get('/schema/tables', { client: 'shop', key: null })
  assert.equal(tables.status, 200, tables.text)
  assert.ok(tables.body.tables.some((x: { table_name: string }) => x.table_name === 'customers'))
  assert.equal((await atrium.get('/schema/columns?table_name=customers', { client: 'shop', key: null })).status, 200)
  assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', key: null, body: { table_name: 'customers' } })).status, 401)
})

test('a key change in one process reaches another sharing the catalog', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const a = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_KEY_CACHE_TTL_MS: '600000' } })
  const b = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_KEY_CACHE_TTL_MS: '600000' }, catalog: a.catalog })
  const k = await createKey(a, { client_name: 'shop', rights: ['gateway.read'] })
  const fetchB = () => b.post('/gateway/fetch', { client: 'shop', key: k.key, body: { table_name: 'customers', columns: 'id' } })
  assert.equal((await fetchB()).status, 200, 'b caches the key for ten minutes')
  await a.request('PATCH', `/admin/api-keys/${k.id}`, { body: { is_active: false } })
  let res = await fetchB()
  for (let i = 0; i < 40 && res.status === 200; i++) {
    await new Promise((r) => setTimeout(r, 50))
    res = await fetchB()
  }
  assert.equal(res.body.code, 'inactive_api_key')
})
