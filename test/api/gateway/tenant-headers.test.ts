import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'

// gateway.requireTenantHeaders: every structured write (insert, update with update_body, delete) needs
// X-Company-Id and X-Organization-Id, and is refused before anything is written; reads never do.
test('gateway.requireTenantHeaders is enforced on every structured gateway write', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_REQUIRE_TENANT_HEADERS: 'true' } })
  const tenant = { 'x-company-id': 'c1', 'x-organization-id': 'o1' }
  const label = async () => (await db.query<{ label: string }>('SELECT label FROM sentinel WHERE id = 1'))[0]?.label
  const count = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM sentinel'))[0].n)

  const writes: Array<[string, string, unknown]> = [
    ['PUT', '/gateway/insert', { table_name: 'sentinel', insert_body: { id: 2, label: 'new' } }],
    ['POST', '/gateway/update', { table_name: 'sentinel', conditions: [{ eq_column: 'id', eq_value: '1' }], update_body: { label: 'changed' } }],
    ['DELETE', '/gateway/delete', { table_name: 'sentinel', resource_id: 1 }],
  ]
  for (const [method, path, body] of writes) {
    await t.test(`${method} ${path} without the tenant headers is 400 and writes nothing`, async () => {
      const partial: Array<Record<string, string>> = [{}, { 'x-company-id': 'c1' }, { 'x-organization-id': 'o1' }, { 'x-company-id': ' ', 'x-organization-id': 'o1' }]
      for (const headers of partial) {
        const res = await atrium.request(method, path, { client: 'shop', body, headers })
        assert.equal(res.status, 400, `${JSON.stringify(headers)}: ${res.text}`)
        assert.equal(res.body.status, 'error')
        assert.equal(res.body.code, 'missing_tenant_header')
        assert.match(res.body.message, /X-(Company|Organization)-Id header is required/)
      }
      assert.equal(await label(), 'still here')
      assert.equal(await count(), 1)
    })
  }

  await t.test('a forwarded custom_supabase update is checked before anything is forwarded', async () => {
    const res = await atrium.post('/gateway/update', { client: 'custom_supabase', body: writes[1][2] })
    assert.equal(res.body.code, 'missing_tenant_header')
  })

  await t.test('with the headers every write goes through', async () => {
    for (const [method, path, body] of writes) {
      const res = await atrium.request(method, path, { client: 'shop', body, headers: tenant })
      assert.equal(res.status, 200, `${method} ${path}: ${res.text}`)
    }
    assert.deepEqual(await db.query('SELECT id, label FROM sentinel ORDER BY id'), [{ id: 2, label: 'new' }])
  })

  await t.test('reads need no tenant headers, including POST /gateway/update without update_body', async () => {
    const read = { table_name: 'sentinel', conditions: [{ eq_column: 'id', eq_value: '2' }] }
    const viaUpdate = await atrium.post('/gateway/update', { client: 'shop', body: read })
    assert.equal(viaUpdate.status, 200, viaUpdate.text)
    assert.deepEqual(viaUpdate.body.data, [{ id: 2, label: 'new' }])
    assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', body: read })).status, 200)
    assert.equal((await atrium.get('/data?view=sentinel', { client: 'shop' })).status, 200)
  })
})

test('without gateway.requireTenantHeaders writes need no tenant headers', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const res = await atrium.post('/gateway/update', { client: 'shop', body: { table_name: 'sentinel', conditions: [{ eq_column: 'id', eq_value: '1' }], update_body: { label: 'x' } } })
  assert.equal(res.status, 200, res.text)
  assert.equal((await atrium.request('PUT', '/gateway/insert', { client: 'shop', body: { table_name: 'sentinel', insert_body: { id: 3, label: 'y' } } })).status, 200)
})
