import assert from 'node:assert/strict'
import { createClient } from '@xylex-group/athena'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { forEachDialect } from '../../helpers/dialects.js'

// The official Athena SDK, unmodified, against Atrium. The SDK returns the whole gateway envelope as `data`.
forEachDialect('the @xylex-group/athena SDK works unmodified', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const athena = createClient(atrium.url, ADMIN_KEY, { client: 'shop' })
  const rows = (res: { data: any }) => res.data?.data

  await t.test('select with filter helpers, range and strip nulls by default', async () => {
    const res = await athena.from('orders').gte('total', 10).neq('status', 'cancelled').range(0, 0).select('id,total,note')
    assert.equal(res.status, 200, JSON.stringify(res))
    assert.deepEqual(rows(res), [{ id: 1, total: 21.24, note: 'gift' }])
    const nulls = await athena.from('orders').eq('id', 2).select('id,note')
    assert.deepEqual(rows(nulls), [{ id: 2 }], 'the SDK asks for stripped nulls')
  })

  await t.test('embeds, in, is, ilike, like, lt, lte, gt, or, not, contains', async () => {
    const embed = await athena.from('messages').eq('id', 3).select(`
      id,
      from:sender_id(name),
      to:receiver_id(name)
    `)
    assert.deepEqual(rows(embed), [{ id: 3, from: { name: 'Linus' }, to: { name: 'Ada' } }])
    assert.deepEqual(rows(await athena.from('customers').in('id', [1, 3]).limit(5).select('id')).map((r: { id: number }) => r.id).sort(), [1, 3])
    assert.deepEqual(rows(await athena.from('customers').is('tier', null).select('id')), [{ id: 2 }])
    assert.deepEqual(rows(await athena.from('customers').ilike('name', 'li%').select('name')), [{ name: 'Linus' }])
    assert.deepEqual(rows(await athena.from('customers').like('email', '%grace%').select('name')), [{ name: 'Grace' }])
    assert.deepEqual(rows(await athena.from('orders').lt('total', 3).select('id')), [{ id: 3 }])
    assert.deepEqual(rows(await athena.from('orders').gt('total', 100).lte('total', 200).select('id')), [{ id: 2 }])
    const or = rows(await athena.from('orders').or('id.eq.1,id.eq.4').select('id'))
    assert.deepEqual(or.map((r: { id: number }) => r.id).sort(), [1, 4])
    const not = rows(await athena.from('orders').not('status', 'eq', 'paid').select('id'))
    assert.deepEqual(not.map((r: { id: number }) => r.id).sort(), [2, 4])
    const contains = rows(await athena.from('products').contains('attrs', { color: 'red' } as never).select('name'))
    assert.deepEqual(contains, [{ name: 'Lamp' }])
  })

  await t.test('single() and maybeSingle() (the SDK passes the envelope through)', async () => {
    const one = (await athena.from('customers').eq('id', 1).single('name')) as { data: any }
    assert.deepEqual(one.data, { status: 'success', message: 'Fetched 1 row', data: [{ name: 'Ada' }], cache_key: one.data.cache_key })
    const maybe = (await athena.from('customers').eq('id', 99).maybeSingle('name')) as { data: any }
    assert.deepEqual(maybe.data.data, [])
  })

  await t.test('insert(...).select() returns the inserted row', async () => {
    const res = await athena.from('customers').insert({ id: 50, name: 'Karen', email: 'karen@example.com' }).select('id,name')
    assert.equal(res.status, 200, JSON.stringify(res))
    assert.deepEqual(rows(res), [{ id: 50, name: 'Karen' }])
  })

  await t.test('insert(rows, { head: true }) inserts and sends no rows back', async () => {
    const res = await athena.from('customers').insert([{ id: 51, name: 'Head A' }, { id: 52, name: 'Head B' }], { head: true })
    assert.equal(res.status, 200, JSON.stringify(res))
    assert.equal((res.data as { message: string }).message, 'Inserted 2 rows')
    assert.deepEqual(rows(res), [])
    const stored = await db.query('SELECT name FROM customers WHERE id IN (51, 52) ORDER BY id')
    assert.deepEqual(stored.map((r) => r.name), ['Head A', 'Head B'])
    await db.query('DELETE FROM customers WHERE id IN (51, 52)')
  })

  await t.test('upsert with updateBody and onConflict', async () => {
    const res = await athena.from('customers').upsert({ id: 50, name: 'Karen S' }, { updateBody: { tier: 'silver' }, onConflict: 'id' }).select('id,name,tier')
    assert.deepEqual(rows(res), [{ id: 50, name: 'Karen', tier: 'silver' }])
  })

  await t.test('update with filters and select', async () => {
    const res = await athena.from('customers').eq('id', 50).update({ name: 'Karen Spärck' }).select('id,name')
    assert.equal(res.status, 200, JSON.stringify(res))
    assert.deepEqual(rows(res), [{ id: 50, name: 'Karen Spärck' }])
  })

  await t.test('delete with eq (sent as resource_id and conditions)', async () => {
    const res = await athena.from('customers').eq('id', 50).delete().select('id')
    assert.equal(res.status, 200, JSON.stringify(res))
    assert.deepEqual(rows(res), [{ id: 50 }])
    assert.equal((await db.query('SELECT count(*) AS n FROM customers WHERE id = 50'))[0].n, db.dialect === 'postgres' ? '0' : 0)
  })

  await t.test('errors surface in the SDK as error strings', async () => {
    const res = await athena.from('nope').select('id')
    assert.equal(res.status, 400)
    assert.match(String(res.error), /nope/)
    const dup = await athena.from('customers').insert({ id: 1, name: 'dup' })
    assert.equal(dup.status, 409)
    assert.ok(dup.error)
  })
})
