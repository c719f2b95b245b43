import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'
import { supabaseFor } from '../../helpers/supabase.js'

// @supabase/supabase-js, unmodified, against Atrium's /rest/v1 on PostgreSQL.
test('supabase-js against /rest/v1 on PostgreSQL', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  await db.load('functions')
  await db.load('rest-extras')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const sb = supabaseFor(atrium.url, ADMIN_KEY, 'shop')
  const ok = <T>(res: { data: T; error: unknown; status: number }) => {
    assert.equal(res.error, null, JSON.stringify(res.error))
    return res.data
  }
  const ids = (rows: unknown) => (rows as Array<{ id: number }>).map((r) => r.id)

  await t.test('select: columns, aliases, casts, JSON paths and *', async () => {
    assert.deepEqual(ok(await sb.from('products').select('name, cost:price, price_text:price::text, colour:attrs->>color, attrs->watts').eq('id', 1)),
      [{ name: 'Lamp', cost: 19.99, price_text: '19.99', colour: 'red', watts: 40 }])
    const all = ok(await sb.from('customers').select('*').eq('id', 2)) as Array<Record<string, unknown>>
    assert.deepEqual(Object.keys(all[0]), ['id', 'name', 'email', 'tier', 'created_at'])
  })

  await t.test('embeds: many-to-one, one-to-many, aliases, FK column and constraint hints, !inner, embedded filters', async () => {
    assert.deepEqual(ok(await sb.from('orders').select('id, buyer:customers(name)').eq('id', 3)), [{ id: 3, buyer: { name: 'Grace' } }])
    assert.deepEqual(ok(await sb.from('customers').select('name, orders(id)').eq('id', 1)), [{ name: 'Ada', orders: [{ id: 1 }, { id: 2 }] }])
    assert.deepEqual(ok(await sb.from('messages').select('id, from:sender_id(name), to:customers!messages_receiver_id_fkey(name)').eq('id', 1)),
      [{ id: 1, from: { name: 'Ada' }, to: { name: 'Grace' } }])
    const ambiguous = await sb.from('messages').select('id, customers(name)')
    assert.equal(ambiguous.status, 300)
    assert.equal((ambiguous.error as { code: string }).code, 'PGRST201')
    const inner = ok(await sb.from('orders').select('id, customers!inner(name)').eq('customers.name', 'Ada').order('id'))
    assert.deepEqual(ids(inner), [1, 2])
    const notInner = ok(await sb.from('orders').select('id, customers(name)').eq('customers.name', 'Ada').order('id')) as Array<{ customers: unknown }>
    assert.equal(notInner.length, 4, 'without !inner the filter applies to the embed only')
    assert.equal(notInner.filter((o) => o.customers === null).length, 2)
    const nested = ok(await sb.from('customers').select('name, orders(id, order_items(qty, products(name)))').eq('id', 2))
    assert.deepEqual(nested, [{ name: 'Grace', orders: [{ id: 3, order_items: [{ qty: 2, products: { name: 'Pen' } }] }] }])
    const limited = ok(await sb.from('customers').select('name, orders(id)').eq('id', 1).order('id', { referencedTable: 'orders', ascending: false }).limit(1, { referencedTable: 'orders' }))
    assert.deepEqual(limited, [{ name: 'Ada', orders: [{ id: 2 }] }])
  })

  const filters: Array<[string, () => PromiseLike<{ data: unknown; error: unknown; status: number }>, number[]]> = [
    ['eq', () => sb.from('orders').select('id').eq('status', 'paid'), [1, 3]],
    ['neq', () => sb.from('orders').select('id').neq('status', 'paid'), [2, 4]],
    ['gt/lte', () => sb.from('orders').select('id').gt('total', 3).lte('total', 21.24), [1, 4]],
    ['gte/lt', () => sb.from('orders').select('id').gte('total', 19.99).lt('total', 100), [1, 4]],
    ['like with *', () => sb.from('orders').select('id').like('status', 'p*'), [1, 2, 3]],
    ['ilike', () => sb.from('orders').select('id').ilike('status', '%AID'), [1, 3]],
    ['match', () => sb.from('orders').select('id').filter('status', 'match', '^p(a|e)'), [1, 2, 3]],
    ['imatch', () => sb.from('orders').select('id').filter('status', 'imatch', '^CAN'), [4]],
    ['in', () => sb.from('orders').select('id').in('status', ['cancelled', 'pending']), [2, 4]],
    ['is null', () => sb.from('orders').select('id').is('note', null), [2, 3]],
    ['not is null', () => sb.from('orders').select('id').not('note', 'is', null), [1, 4]],
    ['isdistinct', () => sb.from('orders').select('id').filter('note', 'isdistinct', 'gift'), [2, 3, 4]],
    ['or', () => sb.from('orders').select('id').or('status.eq.cancelled,total.gt.100'), [2, 4]],
    ['nested and in or', () => sb.from('orders').select('id').or('id.eq.4,and(status.eq.paid,total.lt.10)'), [3, 4]],
    ['match object', () => sb.from('orders').select('id').match({ status: 'paid', customer_id: 2 }), [3]],
    ['JSON path', () => sb.from('products').select('id').eq('attrs->>color', 'oak'), [2]],
    ['contains array', () => sb.from('products').select('id').contains('tags', ['office']), [2, 3]],
    ['contained by array', () => sb.from('products').select('id').containedBy('tags', ['home', 'office']), [2, 3]],
    ['overlaps array', () => sb.from('products').select('id').overlaps('tags', ['light', 'office']), [1, 2, 3]],
    ['contains JSON', () => sb.from('products').select('id').contains('attrs', { color: 'red' }), [1]],
    ['range strictly left', () => sb.from('events').select('id').rangeLt('during', '[10,15)'), [1, 2]],
    ['range strictly right', () => sb.from('events').select('id').rangeGt('during', '[10,15)'), [3]],
    ['range not extending right', () => sb.from('events').select('id').rangeLte('during', '[1,6)'), [1]],
    ['range not extending left', () => sb.from('events').select('id').rangeGte('during', '[5,6)'), [2, 3]],
    ['range adjacent', () => sb.from('events').select('id').rangeAdjacent('during', '[10,20)'), [2, 3]],
    ['range overlaps', () => sb.from('events').select('id').overlaps('during', '[4,6)'), [1, 2]],
    ['fts', () => sb.from('events').select('id').textSearch('doc', 'cats & dogs', { config: 'english' }), [2]],
    ['plfts', () => sb.from('events').select('id').textSearch('doc', 'cats', { type: 'plain', config: 'english' }), [1, 2]],
    ['phfts', () => sb.from('events').select('id').textSearch('doc', 'rocket launch', { type: 'phrase', config: 'english' }), [3]],
    ['wfts', () => sb.from('events').select('id').textSearch('doc', 'cats -dogs', { type: 'websearch', config: 'english' }), [1]],
  ]
  for (const [name, query, expected] of filters) {
    await t.test(`filter ${name}`, async () => {
      const res = await query()
      assert.equal(res.error, null, JSON.stringify(res.error))
      assert.deepEqual(ids(res.data).sort((a, b) => a - b), expected)
    })
  }

  await t.test('order: several columns, nulls first/last, JSON paths, embedded to-one columns', async () => {
    assert.deepEqual(ids(ok(await sb.from('events').select('id').order('score', { ascending: false, nullsFirst: true }))), [2, 3, 1])
    assert.deepEqual(ids(ok(await sb.from('events').select('id').order('score', { ascending: true, nullsFirst: false }))), [1, 3, 2])
    assert.deepEqual(ids(ok(await sb.from('orders').select('id').order('customer_id', { ascending: false }).order('total'))), [4, 3, 1, 2])
    assert.deepEqual(ids(ok(await sb.from('products').select('id').order('attrs->>color'))), [2, 1, 3])
    const byCustomer = await atrium.get('/rest/v1/orders?select=id,customers(name)&order=customers(name).desc,id', { client: 'shop' })
    assert.deepEqual(ids(byCustomer.body), [4, 3, 1, 2])
  })

  await t.test('range, count, head, single, maybeSingle, csv', async () => {
    const page = await sb.from('orders').select('id', { count: 'exact' }).order('id').range(1, 2)
    assert.deepEqual(ids(page.data), [2, 3])
    assert.equal(page.count, 4)
    assert.equal(page.status, 206)
    const head = await sb.from('orders').select('*', { count: 'exact', head: true }).eq('status', 'paid')
    assert.equal(head.count, 2)
    assert.equal(head.data, null)
    const planned = await sb.from('orders').select('id', { count: 'planned', head: true })
    assert.ok(typeof planned.count === 'number' && planned.count >= 1)
    assert.equal((await sb.from('orders').select('id', { count: 'estimated', head: true })).count, 4)
    assert.deepEqual(ok(await sb.from('customers').select('name').eq('id', 1).single()), { name: 'Ada' })
    const many = await sb.from('customers').select('name').single()
    assert.equal(many.status, 406)
    assert.equal((many.error as { code: string }).code, 'PGRST116')
    assert.equal(ok(await sb.from('customers').select('name').eq('id', 99).maybeSingle()), null)
    assert.equal(ok(await sb.from('customers').select('id,name,tier').order('id').csv()), 'id,name,tier\n1,Ada,gold\n2,Grace,\n3,Linus,silver\n')
  })

  await t.test('insert: one, many (one statement), defaults, select, minimal, missing=default', async () => {
    assert.deepEqual(ok(await sb.from('customers').insert({ id: 10, name: 'Jean' }).select('id,name,tier,created_at')),
      [{ id: 10, name: 'Jean', tier: null, created_at: '2024-01-01T00:00:00+00:00' }])
    const minimal = await sb.from('customers').insert([{ id: 11, name: 'Kay', tier: 'gold' }, { id: 12, name: 'Lee' }])
    assert.equal(minimal.status, 201)
    assert.equal(minimal.data, null)
    const rows = await db.query<{ id: string; tier: string | null }>('SELECT id, tier FROM customers WHERE id IN (11, 12) ORDER BY id')
    assert.deepEqual(rows.map((r) => r.tier), ['gold', null], 'a key missing from one row is NULL by default')
    await sb.from('products').insert([{ name: 'Mug', price: 5, tags: ['kitchen'] }, { name: 'Cup', price: 4 }], { defaultToNull: false })
    const cup = await db.query<{ tags: string[]; in_stock: boolean }>("SELECT tags, in_stock FROM products WHERE name = 'Cup'")
    assert.deepEqual(cup[0], { tags: [], in_stock: true }, 'missing=default takes the column defaults')
  })

  await t.test('upsert: merge and ignore duplicates, on a chosen conflict target', async () => {
    assert.deepEqual(ok(await sb.from('customers').upsert({ id: 10, name: 'Jean B' }).select('id,name')), [{ id: 10, name: 'Jean B' }])
    assert.deepEqual(ok(await sb.from('customers').upsert({ id: 10, name: 'ignored' }, { ignoreDuplicates: true }).select('id')), [])
    assert.deepEqual(ok(await sb.from('order_items').upsert({ order_id: 1, product_id: 1, qty: 5 }, { onConflict: 'order_id,product_id' }).select('order_id,qty')), [{ order_id: 1, qty: 5 }])
    const notOr = await atrium.get('/rest/v1/orders?select=id&not.or=(id.eq.1,id.eq.2)&order=id', { client: 'shop' })
    assert.deepEqual(ids(notOr.body), [3, 4])
  })

  await t.test('update and delete with select, count, and never without a filter', async () => {
    const updated = await sb.from('customers').update({ tier: 'bronze' }, { count: 'exact' }).in('id', [11, 12]).select('id,tier').order('id')
    assert.deepEqual(updated.data, [{ id: 11, tier: 'bronze' }, { id: 12, tier: 'bronze' }])
    assert.equal(updated.count, 2)
    const unfiltered = await sb.from('customers').update({ tier: 'x' }).select()
    assert.equal(unfiltered.status, 400)
    assert.equal((unfiltered.error as { code: string }).code, 'PGRST106')
    const deleted = await sb.from('customers').delete({ count: 'exact' }).gte('id', 10)
    assert.equal(deleted.status, 204)
    assert.equal(deleted.count, 3)
    assert.equal((await sb.from('customers').delete()).status, 400)
    assert.equal((await db.query('SELECT count(*) AS n FROM customers'))[0].n, '3')
  })

  await t.test('rpc: scalar, set-returning with filters, RETURNS TABLE', async () => {
    assert.equal(ok(await sb.rpc('order_total' as never, { customer: 1 } as never)), 170.74)
    assert.deepEqual(ids(ok(await sb.rpc('orders_of' as never, { customer: 1 } as never).select('id').eq('status', 'pending'))), [2])
    assert.deepEqual(ok(await sb.rpc('big_spenders' as never, { minimum: 1 } as never).order('spent' as never, { ascending: true })),
      [{ customer_name: 'Grace', spent: 2.5 }, { customer_name: 'Linus', spent: 19.99 }, { customer_name: 'Ada', spent: 170.74 }])
    const get = await sb.rpc('order_total' as never, { customer: 2 } as never, { get: true })
    assert.equal(ok(get), 2.5)
  })

  await t.test('errors come back as PostgREST errors', async () => {
    const table = await sb.from('nope').select()
    assert.equal(table.status, 404)
    assert.equal((table.error as { code: string }).code, 'PGRST205')
    const column = await sb.from('orders').select('nope')
    assert.equal(column.status, 400)
    assert.deepEqual(Object.keys(column.error as object).sort(), ['code', 'details', 'hint', 'message'])
    assert.equal((column.error as { code: string }).code, '42703')
    const dup = await sb.from('customers').insert({ id: 1, name: 'dup' })
    assert.equal(dup.status, 409)
    assert.equal((dup.error as { code: string }).code, '23505')
    const badValue = await sb.from('orders').select('id').eq('total', 'abc')
    assert.equal(badValue.status, 400)
    assert.equal((badValue.error as { code: string }).code, '22P02')
  })
})
