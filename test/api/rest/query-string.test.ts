import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'
import { supabaseFor } from '../../helpers/supabase.js'

// The query string of /rest/v1: parameters that are not filters, quoting of filter values, aggregates.
test('/rest/v1 query-string parsing', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  await db.query(`INSERT INTO customers (id, name) VALUES (50, 'a,b'), (51, 'say "hi"'), (52, 'v1.2:(x)'), (53, 'back\\slash')`)
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const sb = supabaseFor(atrium.url, ADMIN_KEY, 'shop')
  const get = (path: string) => atrium.get(`/rest/v1/${path}`, { client: 'shop' })
  const q = encodeURIComponent
  const ids = (rows: unknown) => (rows as Array<{ id: number }>).map((r) => r.id)

  await t.test('?api_key= presents the key and is not read as a filter', async () => {
    const only = await atrium.get(`/rest/v1/customers?select=id&id=lt.3&order=id&api_key=${q(ADMIN_KEY)}`, { client: 'shop', key: null })
    assert.equal(only.status, 200, only.text)
    assert.deepEqual(ids(only.body), [1, 2])
    const both = await atrium.get(`/rest/v1/customers?select=id&id=eq.1&api_key=${q(ADMIN_KEY)}`, { client: 'shop' })
    assert.deepEqual(ids(both.body), [1])
    const head = await fetch(`${atrium.url}/rest/v1/customers?api_key=${q(ADMIN_KEY)}`, { method: 'HEAD', headers: { 'x-athena-client': 'shop', prefer: 'count=exact' } })
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('content-range'), '0-6/7')
    const write = await atrium.request('PATCH', `/rest/v1/customers?id=eq.53&api_key=${q(ADMIN_KEY)}`, { client: 'shop', key: null, body: { tier: 'k' } })
    assert.equal(write.status, 204, write.text)
  })

  await t.test('a top-level value is taken as written, quotes and reserved characters included (as supabase-js sends .eq())', async () => {
    assert.deepEqual(ids((await get(`customers?select=id&name=eq.${q('a,b')}`)).body), [50])
    assert.deepEqual(ids((await get(`customers?select=id&name=eq.${q('say "hi"')}`)).body), [51])
    assert.deepEqual(ids((await get(`customers?select=id&name=eq.${q('v1.2:(x)')}`)).body), [52])
    assert.deepEqual(ids((await get(`customers?select=id&name=eq.${q('"a,b"')}`)).body), [], 'quotes are part of the value')
    assert.deepEqual(ids((await sb.from('customers').select('id').eq('name', 'say "hi"')).data), [51])
    assert.deepEqual(ids((await sb.from('customers').select('id').in('name', ['a,b', 'v1.2:(x)']).order('id')).data), [50, 52])
    assert.deepEqual(ids((await get(`customers?select=id&name=not.eq.${q('a,b')}&id=gte.50&order=id`)).body), [51, 52, 53])
  })

  await t.test('quoted values inside or=/and= are unquoted too', async () => {
    const res = await sb.from('customers').select('id').or('name.eq."a,b",name.eq."v1.2:(x)",name.eq."say \\"hi\\""').order('id')
    assert.equal(res.error, null, JSON.stringify(res.error))
    assert.deepEqual(ids(res.data), [50, 51, 52])
    const nested = await sb.from('customers').select('id').or('id.eq.1,and(name.eq."a,b",id.gt.10)').order('id')
    assert.equal(nested.error, null, JSON.stringify(nested.error))
    assert.deepEqual(ids(nested.data), [1, 50])
    const negated = await sb.from('customers').select('id').gte('id', 50).or('name.not.eq."a,b"').order('id')
    assert.deepEqual(ids(negated.data), [51, 52, 53])
  })

  await t.test('aggregates are select items, also inside embeds', async () => {
    assert.deepEqual((await sb.from('orders').select('total:count()')).data, [{ total: 4 }])
    const nested = await sb.from('orders').select('id,customers(count())').eq('id', 1)
    assert.deepEqual(nested.data, [{ id: 1, customers: { count: 1 } }], JSON.stringify(nested.error))
    // an embed written with empty parentheses filters but is not part of the rows
    const empty = await get('orders?select=id,customers()&limit=1')
    assert.equal(empty.status, 200)
    assert.deepEqual(Object.keys(empty.body[0]), ['id'])
  })
})
