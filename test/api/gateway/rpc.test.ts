import assert from 'node:assert/strict'
import { startTestAtrium } from '../../helpers/atrium.js'
import { forEachDialect } from '../../helpers/dialects.js'

forEachDialect('RPC routes', async (t, db) => {
  await db.load('shop')
  await db.load('functions')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const isPg = db.dialect === 'postgres'

  await t.test('POST /gateway/rpc calls a scalar function with named args', async () => {
    const res = await atrium.post('/gateway/rpc', { client: 'shop', body: { function_name: 'order_total', args: { customer: 1 } } })
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.equal(res.body.data, 170.74)
  })

  await t.test('GET /rpc/{fn} takes arguments from the query string', async () => {
    const res = await atrium.get('/rpc/order_total?customer=2', { client: 'shop' })
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.equal(res.body.data, 2.5)
  })

  await t.test('unknown functions and wrong arguments are clear errors', async () => {
    const missing = await atrium.post('/gateway/rpc', { client: 'shop', body: { function_name: 'order_totl', args: {} } })
    assert.equal(missing.status, 404)
    assert.equal(missing.body.code, 'unknown_function')
    assert.match(missing.body.hint, /order_total/)
    const wrong = await atrium.post('/gateway/rpc', { client: 'shop', body: { function_name: 'order_total', args: { who: 1 } } })
    assert.equal(wrong.status, 404)
    assert.match(wrong.body.hint, /customer/)
  })

  if (isPg) {
    await t.test('set-returning functions take filters, order, limit and embeds', async () => {
      const res = await atrium.get('/rpc/orders_of?customer=1&select=id,total,customers(name)&order=id.desc&limit=1', { client: 'shop' })
      assert.equal(res.status, 200, JSON.stringify(res.body))
      assert.deepEqual(res.body.data, [{ id: 2, total: 149.5, customers: { name: 'Ada' } }])
      const filtered = await atrium.post('/gateway/rpc', { client: 'shop', body: { function_name: 'orders_of', args: { customer: 1 }, columns: 'id', conditions: [{ eq_column: 'status', eq_value: 'paid' }] } })
      assert.deepEqual(filtered.body.data, [{ id: 1 }])
    })

    await t.test('RETURNS TABLE and SETOF scalar results', async () => {
      const table = await atrium.get('/rpc/big_spenders?order=spent.desc', { client: 'shop' })
      assert.deepEqual(table.body.data, [{ customer_name: 'Ada', spent: 170.74 }])
      const scalars = await atrium.get('/rpc/statuses', { client: 'shop' })
      assert.deepEqual(scalars.body.data, ['cancelled', 'paid', 'pending'])
    })

    await t.test('GET calls run read-only; POST may call a writing function', async () => {
      const get = await atrium.get('/rpc/set_note?order_id=1&new_note=x', { client: 'shop' })
      assert.equal(get.status, 403)
      assert.equal(get.body.code, 'read_only_transaction')
      const post = await atrium.post('/rpc/set_note', { client: 'shop', body: { order_id: 1, new_note: 'via rpc' } })
      assert.equal(post.status, 200, JSON.stringify(post.body))
      assert.equal(post.body.data, 'via rpc')
      assert.equal((await db.query('SELECT note FROM orders WHERE id = 1'))[0].note, 'via rpc')
    })
  } else {
    await t.test('stored procedures return their result set', async () => {
      const res = await atrium.post('/gateway/rpc', { client: 'shop', body: { function_name: 'orders_of', args: { customer: 1 } } })
      assert.equal(res.status, 200, JSON.stringify(res.body))
      assert.deepEqual(res.body.data, [{ id: 1, status: 'paid', total: 21.24 }, { id: 2, status: 'pending', total: 149.5 }])
    })
  }
})
