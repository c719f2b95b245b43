import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'

const ALL_RIGHTS = [
  'management.read', 'management.tables.write', 'management.tables.drop', 'management.columns.drop',
  'management.indexes.write', 'management.indexes.drop', 'management.extensions.write',
]

// Management routes need an API key bound to the client with the operation's right (or the admin key).
test('management rights and client binding', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const other = await createPgDatabase(t)
  const atrium = await startTestAtrium(t, { sources: { shop: db.url, other: other.url } })
  assert.equal((await atrium.post('/admin/clients/shop/audit-log')).status, 200)

  const probe = await atrium.get('/admin/api-keys')
  if (probe.status === 404) {
    t.skip('POST /admin/api-keys is not available in this build; the key-based cases cannot run yet')
    return
  }
  const createKey = async (name: string, clientName: string | null, rights: string[]) => {
    const res = await atrium.post('/admin/api-keys', { body: { name, client_name: clientName, rights } })
    assert.equal(res.status, 201, res.text)
    return res.body as { api_key: string; record: { public_id: string } }
  }
  const full = await createKey('full', 'shop', ALL_RIGHTS)
  const readOnly = await createKey('read only', 'shop', ['management.read'])
  const unbound = await createKey('unbound', null, ALL_RIGHTS)
  const elsewhere = await createKey('elsewhere', 'other', ALL_RIGHTS)
  const call = (key: string, method: string, path: string, body?: unknown) => atrium.request(method, path, { client: 'shop', key, body })

  // operation → the right it needs; every request here would succeed with the right key
  const grid: Array<[string, string, unknown, string]> = [
    ['GET', '/management/capabilities', undefined, 'management.read'],
    ['POST', '/management/tables', { table_name: 'r_table' }, 'management.tables.write'],
    ['PATCH', '/management/tables/customers', { operations: [{ type: 'add_column', column: { name: 'r_col', data_type: 'text' } }] }, 'management.tables.write'],
    ['DELETE', '/management/tables/sentinel', {}, 'management.tables.drop'],
    ['DELETE', '/management/tables/customers/columns/tier', {}, 'management.columns.drop'],
    ['POST', '/management/indexes', { table_name: 'customers', columns: ['name'] }, 'management.indexes.write'],
    ['DELETE', '/management/indexes/customers_email_key', {}, 'management.indexes.drop'],
    ['POST', '/management/extensions/install', { extension_name: 'pgcrypto' }, 'management.extensions.write'],
  ]

  await t.test('a client-bound key without the right gets 403 missing_right naming it', async () => {
    for (const [method, path, body, right] of grid) {
      if (right === 'management.read') continue
      const res = await call(readOnly.api_key, method, path, body)
      assert.equal(res.status, 403, `${method} ${path}: ${res.text}`)
      assert.equal(res.body.code, 'missing_right')
      assert.equal(res.body.data.required_right, right)
    }
    assert.equal((await call(readOnly.api_key, 'GET', '/management/capabilities')).status, 200)
  })

  await t.test('a key that is not bound to a client gets 403 even with every right', async () => {
    for (const [method, path, body] of grid) {
      const res = await call(unbound.api_key, method, path, body)
      assert.equal(res.status, 403, `${method} ${path}: ${res.text}`)
      assert.equal(res.body.code, 'key_not_client_bound')
    }
  })

  await t.test('a key bound to another client gets 403', async () => {
    for (const [method, path, body] of grid) {
      const res = await call(elsewhere.api_key, method, path, body)
      assert.equal(res.status, 403, `${method} ${path}: ${res.text}`)
      assert.equal(res.body.code, 'client_not_allowed')
    }
  })

  await t.test('nothing changed so far; the right key succeeds and is named in the audit row', async () => {
    assert.equal((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM public.database_audit_log WHERE operation <> 'management.audit_log.install'"))[0].n, 0)
    const res = await call(full.api_key, 'POST', '/management/tables', { table_name: 'r_table' })
    assert.equal(res.status, 201, res.text)
    const [row] = await db.query<{ actor: string; api_key_id: string }>('SELECT actor, api_key_id FROM public.database_audit_log ORDER BY id DESC LIMIT 1')
    assert.equal(row.actor, `api_key:${full.record.public_id}`)
    assert.ok(row.api_key_id)
  })
})
