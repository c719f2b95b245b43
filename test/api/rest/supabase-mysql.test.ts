import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { createMysqlDatabase } from '../../helpers/databases.js'
import { supabaseFor } from '../../helpers/supabase.js'

// The common subset of /rest/v1 on a MariaDB client, through supabase-js.
test('supabase-js against /rest/v1 on MariaDB', async (t) => {
  const db = await createMysqlDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const sb = supabaseFor(atrium.url, ADMIN_KEY, 'shop')
  const ok = <T>(res: { data: T; error: unknown }) => {
    assert.equal(res.error, null, JSON.stringify(res.error))
    return res.data
  }
  const ids = (rows: unknown) => (rows as Array<{ id: number }>).map((r) => r.id)

  await t.test('columns, typed values, many-to-one and one-to-many embeds', async () => {
    assert.deepEqual(ok(await sb.from('products').select('name,price,attrs,in_stock').eq('id', 1)), [{ name: 'Lamp', price: 19.99, attrs: { color: 'red', watts: 40 }, in_stock: true }])
    assert.deepEqual(ok(await sb.from('orders').select('id, buyer:customers(name), placed_at').eq('id', 3)), [{ id: 3, buyer: { name: 'Grace' }, placed_at: '2024-02-02T10:00:00+00:00' }])
    assert.deepEqual(ok(await sb.from('customers').select('name, orders(id)').eq('id', 1).order('id', { referencedTable: 'orders', ascending: false })), [{ name: 'Ada', orders: [{ id: 2 }, { id: 1 }] }])
    assert.deepEqual(ids(ok(await sb.from('orders').select('id, customers!inner(name)').eq('customers.name', 'Ada').order('id'))), [1, 2])
  })

  const filters: Array<[string, () => PromiseLike<{ data: unknown; error: unknown }>, number[]]> = [
    ['eq/neq', () => sb.from('orders').select('id').neq('status', 'paid'), [2, 4]],
    ['gt/lte', () => sb.from('orders').select('id').gt('total', 3).lte('total', 21.24), [1, 4]],
    ['like/ilike', () => sb.from('customers').select('id').ilike('name', '%A%').like('email', '%@%'), [1, 2]],
    ['in', () => sb.from('orders').select('id').in('id', [1, 4]), [1, 4]],
    ['is null / not is null', () => sb.from('orders').select('id').not('note', 'is', null), [1, 4]],
    ['or and nested and', () => sb.from('orders').select('id').or('id.eq.4,and(status.eq.paid,total.lt.10)'), [3, 4]],
    ['contains JSON', () => sb.from('products').select('id').contains('attrs', { color: 'oak' }), [2]],
    ['match', () => sb.from('orders').select('id').filter('status', 'match', '^pa'), [1, 3]],
  ]
  for (const [name, query, expected] of filters) {
    await t.test(`filter ${name}`, async () => {
      assert.deepEqual(ids(ok(await query())).sort((a, b) => a - b), expected)
    })
  }

  await t.test('order, range with an exact count, single, csv', async () => {
    const page = await sb.from('orders').select('id', { count: 'exact' }).order('total', { ascending: false }).range(0, 1)
    assert.deepEqual(ids(page.data), [2, 1])
    assert.equal(page.count, 4)
    assert.deepEqual(ok(await sb.from('customers').select('name').eq('id', 3).single()), { name: 'Linus' })
    assert.equal(ok(await sb.from('customers').select('id,name').order('id').limit(1).csv()), 'id,name\n1,Ada\n')
  })

  await t.test('insert, upsert (ON DUPLICATE KEY UPDATE), update and delete with representation', async () => {
    assert.deepEqual(ok(await sb.from('customers').insert([{ id: 30, name: 'Mia' }, { id: 31, name: 'Noor' }]).select('id,name')), [{ id: 30, name: 'Mia' }, { id: 31, name: 'Noor' }])
    const auto = ok(await sb.from('products').insert({ name: 'Mug', price: 5 }).select('id,name,in_stock')) as Array<{ id: number }>
    assert.ok(auto[0].id > 3, 'AUTO_INCREMENT keys come back')
    assert.deepEqual(ok(await sb.from('customers').upsert({ id: 30, name: 'Mia B' }).select('id,name')), [{ id: 30, name: 'Mia B' }])
    assert.deepEqual(ok(await sb.from('customers').update({ tier: 'gold' }).eq('id', 31).select('id,tier')), [{ id: 31, tier: 'gold' }])
    assert.deepEqual((ok(await sb.from('customers').delete().in('id', [30, 31]).select('id')) as Array<{ id: number }>).map((r: { id: number }) => r.id).sort(), [30, 31])
    assert.equal((await sb.from('customers').delete()).status, 400)
  })

  await t.test('upsert ignoring duplicates returns only the rows it inserted, as on PostgreSQL', async () => {
    assert.deepEqual(ok(await sb.from('customers').upsert({ id: 1, name: 'ignored' }, { ignoreDuplicates: true }).select('id,name')), [])
    const mixed = await sb.from('customers').upsert([
      { id: 1, name: 'ignored', email: null },
      { id: 40, name: 'New', email: null },
      { id: 41, name: 'same email as Ada', email: 'ada@example.com' },
      { id: 40, name: 'same key as New', email: null },
    ], { ignoreDuplicates: true, count: 'exact' }).select('id,name')
    assert.deepEqual(ok(mixed), [{ id: 40, name: 'New' }])
    assert.equal(mixed.count, 1)
    const kept = await db.query<{ id: number; name: string }>('SELECT id, name FROM customers WHERE id IN (1, 40, 41) ORDER BY id')
    assert.deepEqual(kept.map((r) => [r.id, r.name]), [[1, 'Ada'], [40, 'New']])
    const merged = ok(await sb.from('customers').upsert([{ id: 40, name: 'New B' }, { id: 42, name: 'Newer' }]).select('id,name')) as Array<{ id: number }>
    assert.deepEqual(merged.sort((a, b) => a.id - b.id), [{ id: 40, name: 'New B' }, { id: 42, name: 'Newer' }], 'merging still returns updated and inserted rows')
  })

  await t.test('PostgreSQL-only operators answer 400 naming the operator', async () => {
    for (const query of [
      () => sb.from('products').select('id').filter('price', 'adj', '[1,2)'),
      () => sb.from('customers').select('id').textSearch('name', 'ada'),
      () => sb.from('customers').select('id').rangeGt('id', '[1,2)'),
    ]) {
      const res = await query()
      assert.equal(res.status, 400)
      const error = res.error as { code: string; message: string }
      assert.equal(error.code, 'PGRST127')
      assert.match(error.message, /operator "\w+" is not supported on MariaDB/)
    }
  })
})
