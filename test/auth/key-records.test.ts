import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../helpers/atrium.js'
import { assertMatchesSpec } from '../helpers/athena-contract.js'
import { createKey } from '../helpers/auth-grid.js'
import { createPgDatabase } from '../helpers/databases.js'

// Per-client enforcement overrides are about a client, and client names are case-insensitive: `Shop` and
// `shop` are one override, however it was written.
test('enforcement overrides: client names are case-insensitive', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const fetchAnonymously = () => atrium.post('/gateway/fetch', { client: 'shop', key: null, body: { table_name: 'customers', columns: 'id' } })
  const overrides = async () => (await atrium.get('/admin/api-key-clients')).body.clients as Array<{ client_name: string; enforce_api_keys: boolean }>
  assert.equal((await fetchAnonymously()).status, 401, 'enforced by default')

  await t.test('an override set as Shop applies to shop and is stored as shop', async () => {
    const set = await atrium.request('PUT', '/admin/api-key-clients/Shop', { body: { enforce_api_keys: false } })
    assert.equal(set.status, 200, set.text)
    assert.equal(set.body.client.client_name, 'shop')
    await assertMatchesSpec('PUT', '/admin/api-key-clients/{client_name}', 200, set.body)
    assert.equal((await fetchAnonymously()).status, 200, 'the override applies to the client')
    assert.deepEqual((await overrides()).map((c) => [c.client_name, c.enforce_api_keys]), [['shop', false]])
  })

  await t.test('PUT in another case changes the same override, never a second one', async () => {
    assert.equal((await atrium.request('PUT', '/admin/api-key-clients/SHOP', { body: { enforce_api_keys: true } })).status, 200)
    const list = await overrides()
    assert.equal(list.length, 1, JSON.stringify(list))
    assert.equal(list[0].enforce_api_keys, true)
    assert.equal((await fetchAnonymously()).status, 401)
  })

  await t.test('DELETE in another case removes it', async () => {
    const removed = await atrium.request('DELETE', '/admin/api-key-clients/sHoP')
    assert.equal(removed.status, 200, removed.text)
    assert.deepEqual(removed.body, { client_name: 'shop' })
    assert.deepEqual(await overrides(), [])
    const again = await atrium.request('DELETE', '/admin/api-key-clients/Shop')
    assert.equal(again.status, 404)
    assert.equal(again.body.code, 'enforcement_override_not_found')
  })

  await t.test('the catalog migration folds rows written in other cases into one lower-case row', async () => {
    // recreate the state before the migration: no case check, two spellings of one client
    const { catalog } = atrium
    await catalog.query('ALTER TABLE atrium.api_key_clients DROP CONSTRAINT api_key_clients_name_lower_case')
    // migrations apply in order from the latest recorded version: forget 4 and every later one (they are idempotent)
    await catalog.query('DELETE FROM atrium.schemaversion WHERE version >= 4')
    await catalog.query(`INSERT INTO atrium.api_key_clients (client_name, enforce_api_keys, updated_at) VALUES
      ('Shop', true, now() - interval '1 hour'), ('SHOP', false, now()), ('Other', true, now())`)
    await atrium.handle.platform.catalog.migrate()
    const rows = await catalog.query<{ client_name: string; enforce_api_keys: boolean }>('SELECT client_name, enforce_api_keys FROM atrium.api_key_clients ORDER BY client_name')
    assert.deepEqual(rows.map((r) => ({ ...r })), [{ client_name: 'other', enforce_api_keys: true }, { client_name: 'shop', enforce_api_keys: false }], 'the latest change wins')
    await assert.rejects(catalog.query("INSERT INTO atrium.api_key_clients (client_name, enforce_api_keys) VALUES ('Mixed', true)"), /api_key_clients_name_lower_case/)
    await atrium.handle.platform.auth.reloadEnforcement()
    assert.equal((await fetchAnonymously()).status, 200)
    assert.equal((await atrium.request('DELETE', '/admin/api-key-clients/Shop')).status, 200)
  })
})

test('a key bound to a client in another case serves that client, management routes included', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const k = await createKey(atrium, { client_name: 'Shop', rights: ['gateway.read', 'management.read'] })
  const fetched = await atrium.post('/gateway/fetch', { client: 'shop', key: k.key, body: { table_name: 'customers', columns: 'id' } })
  assert.equal(fetched.status, 200, fetched.text)
  const capabilities = await atrium.get('/management/capabilities', { client: 'SHOP', key: k.key })
  assert.equal(capabilities.status, 200, capabilities.text)
})

test('key records show where and when a lock-in key was locked', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_LOCK_IN_SOURCE_ADDRESS: 'true' } })
  const k = await createKey(atrium, { rights: ['gateway.read'], lock_in: true })
  const record = async () => (await atrium.get('/admin/api-keys')).body.api_keys.find((r: { id: string }) => r.id === k.id)

  const fresh = await record()
  assert.equal(fresh.lock_in, true)
  assert.equal(fresh.locked_client, null)
  assert.equal(fresh.locked_address, null)
  assert.equal(fresh.locked_at, null, 'locked_at is part of the record before the first use too')

  const before = Date.now()
  const used = await atrium.post('/gateway/fetch', { client: 'shop', key: k.key, body: { table_name: 'customers', columns: 'id' } })
  assert.equal(used.status, 200, used.text)
  const list = await atrium.get('/admin/api-keys')
  await assertMatchesSpec('GET', '/admin/api-keys', 200, list.body)
  const locked = await record()
  assert.equal(locked.locked_client, 'shop')
  assert.equal(locked.locked_address, '127.0.0.1')
  assert.ok(typeof locked.locked_at === 'string' && Math.abs(Date.parse(locked.locked_at) - before) < 60_000, `locked_at ${locked.locked_at}`)

  // a PATCH that sends lock_in forgets the binding, and its time
  const patched = await atrium.request('PATCH', `/admin/api-keys/${k.id}`, { body: { lock_in: true } })
  assert.equal(patched.status, 200, patched.text)
  await assertMatchesSpec('PATCH', '/admin/api-keys/{id}', 200, patched.body)
  assert.deepEqual([patched.body.record.locked_client, patched.body.record.locked_address, patched.body.record.locked_at], [null, null, null])
})
