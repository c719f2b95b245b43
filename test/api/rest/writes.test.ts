import assert from 'node:assert/strict'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { forEachDialect } from '../../helpers/dialects.js'
import { supabaseFor } from '../../helpers/supabase.js'

const OBJECT = 'application/vnd.pgrst.object+json'

// Writes with return=representation: the Accept header is honoured (nulls=stripped, single object) and
// checked before anything is written; a single-object write that affects 0 or several rows is undone.
// An empty insert goes through the same checks as any other.
forEachDialect('/rest/v1 write representations and checks', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const sb = supabaseFor(atrium.url, ADMIN_KEY, 'shop')
  const send = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
    atrium.request(method, `/rest/v1/${path}`, { client: 'shop', body, headers })
  const count = async (where: string) => Number((await db.query<{ n: number | string }>(`SELECT count(*) AS n FROM customers WHERE ${where}`))[0].n)
  const tiers = async (ids: number[]) => (await db.query<{ tier: string | null }>(`SELECT tier FROM customers WHERE id IN (${ids.join(',')}) ORDER BY id`)).map((r) => r.tier)

  await t.test('nulls=stripped applies to insert, update and delete representations', async () => {
    const stripped = { prefer: 'return=representation', accept: 'application/json;nulls=stripped' }
    const inserted = await send('POST', 'customers?select=id,name,tier', [{ id: 60, name: 'Nul' }], stripped)
    assert.equal(inserted.status, 201, inserted.text)
    assert.deepEqual(inserted.body, [{ id: 60, name: 'Nul' }])
    const updated = await send('PATCH', 'customers?id=eq.60&select=id,email,tier', { name: 'Nul2' }, { prefer: 'return=representation', accept: `${OBJECT};nulls=stripped` })
    assert.equal(updated.status, 200, updated.text)
    assert.deepEqual(updated.body, { id: 60 })
    const deleted = await send('DELETE', 'customers?id=eq.60&select=id,name,tier', undefined, stripped)
    assert.deepEqual(deleted.body, [{ id: 60, name: 'Nul2' }])
    const plain = await send('POST', 'customers?select=id,tier', { id: 61, name: 'Kept' }, { prefer: 'return=representation' })
    assert.deepEqual(plain.body, [{ id: 61, tier: null }], 'without the parameter nulls stay')
  })

  await t.test('an Accept that cannot be produced is refused before writing', async () => {
    const res = await send('POST', 'customers', { id: 62, name: 'Xml' }, { prefer: 'return=representation', accept: 'application/xml' })
    assert.equal(res.status, 406)
    assert.equal(res.body.code, 'PGRST107')
    assert.equal(await count('id = 62'), 0, 'nothing was inserted')
    const patch = await send('PATCH', 'customers?id=eq.1', { tier: 'xml' }, { prefer: 'return=representation', accept: 'application/xml' })
    assert.equal(patch.status, 406)
    assert.deepEqual(await tiers([1]), ['gold'])
    const del = await send('DELETE', 'customers?id=eq.61', undefined, { prefer: 'return=representation', accept: 'text/html' })
    assert.equal(del.status, 406)
    assert.equal(await count('id = 61'), 1)
  })

  await t.test('single object: one row written is sent as an object', async () => {
    const one = await send('POST', 'customers?select=id,name', { id: 63, name: 'One' }, { prefer: 'return=representation', accept: OBJECT })
    assert.equal(one.status, 201, one.text)
    assert.deepEqual(one.body, { id: 63, name: 'One' })
    const single = await sb.from('customers').update({ tier: 'solo' }).eq('id', 63).select('id,tier').single()
    assert.equal(single.error, null, JSON.stringify(single.error))
    assert.deepEqual(single.data, { id: 63, tier: 'solo' })
  })

  await t.test('single object: several or no rows answer 406 and the write is rolled back', async () => {
    const many = await sb.from('customers').insert([{ id: 64, name: 'A' }, { id: 65, name: 'B' }]).select('id').single()
    assert.equal(many.status, 406)
    assert.equal((many.error as { code: string }).code, 'PGRST116')
    assert.equal(await count('id IN (64, 65)'), 0, 'the insert was rolled back')
    const patched = await sb.from('customers').update({ tier: 'bulk' }).in('id', [1, 2]).select('id').single()
    assert.equal(patched.status, 406)
    assert.deepEqual(await tiers([1, 2]), ['gold', null], 'the update was rolled back')
    const deleted = await send('DELETE', 'customers?id=in.(61,63)', undefined, { prefer: 'return=representation', accept: OBJECT })
    assert.equal(deleted.status, 406)
    assert.match(deleted.body.details, /2 rows/)
    assert.equal(await count('id IN (61, 63)'), 2, 'the delete was rolled back')
    const none = await send('PATCH', 'customers?id=eq.999', { tier: 'x' }, { prefer: 'return=representation', accept: OBJECT })
    assert.equal(none.status, 406)
    assert.match(none.body.details, /0 rows/)
    const upserted = await sb.from('customers').upsert([{ id: 1, name: 'Ada' }, { id: 66, name: 'C' }]).select('id').single()
    assert.equal(upserted.status, 406)
    assert.equal(await count('id = 66'), 0, 'the upsert was rolled back')
  })

  await t.test('POST []: unknown table 404, missing right 403, frozen client 423; otherwise 201', async () => {
    const unknown = await send('POST', 'nope', [], { prefer: 'return=representation' })
    assert.equal(unknown.status, 404, unknown.text)
    assert.equal(unknown.body.code, 'PGRST205')
    const reader = await createKey(atrium, { name: 'reader', client_name: 'shop', rights: ['gateway.read'] })
    const denied = await atrium.request('POST', '/rest/v1/customers', { client: 'shop', key: reader.key, body: [] })
    assert.equal(denied.status, 403, denied.text)
    assert.equal(denied.body.code, '42501')
    const inserter = await createKey(atrium, { name: 'inserter', client_name: 'shop', rights: ['gateway.insert'] })
    const merge = await atrium.request('POST', '/rest/v1/customers', { client: 'shop', key: inserter.key, body: [], headers: { prefer: 'resolution=merge-duplicates' } })
    assert.equal(merge.status, 403, 'merging upserts need gateway.update, even with no rows')
    assert.equal((await atrium.request('POST', '/rest/v1/customers', { client: 'shop', key: inserter.key, body: [] })).status, 201)
    const empty = await send('POST', 'customers', [], { prefer: 'return=representation' })
    assert.equal(empty.status, 201)
    assert.deepEqual(empty.body, [])
    const emptyObject = await send('POST', 'customers', [], { prefer: 'return=representation', accept: OBJECT })
    assert.equal(emptyObject.status, 406, 'no row is not one row')
    assert.equal(await count('1 = 1'), 5, 'no row of defaults was inserted')

    const created = await atrium.post('/admin/clients', { body: { client_name: 'extra', pg_uri: db.url } })
    assert.equal(created.status, 201, created.text)
    assert.equal((await atrium.request('PUT', '/admin/clients/extra/freeze', { body: { is_frozen: true } })).status, 200)
    const frozen = await atrium.request('POST', '/rest/v1/customers', { client: 'extra', body: [] })
    assert.equal(frozen.status, 423, frozen.text)
    const frozenOne = await atrium.request('POST', '/rest/v1/customers', { client: 'extra', body: { id: 67, name: 'F' } })
    assert.equal(frozenOne.status, 423, 'as for any other write')
  })
})
