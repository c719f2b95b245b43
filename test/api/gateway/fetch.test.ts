import assert from 'node:assert/strict'
import { startTestAtrium } from '../../helpers/atrium.js'
import { forEachDialect } from '../../helpers/dialects.js'

forEachDialect('POST /gateway/fetch', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const fetchRows = (body: Record<string, unknown>, headers?: Record<string, string>) => atrium.post('/gateway/fetch', { client: 'shop', body, headers })

  await t.test('filters, orders and embeds a many-to-one relation by FK column', async () => {
    const res = await fetchRows({
      table_name: 'orders',
      columns: 'id,total,customer:customer_id(name)',
      conditions: [{ eq_column: 'status', eq_value: 'paid' }],
      sort_by: { field: 'id', direction: 'descending' },
    })
    assert.equal(res.status, 200)
    assert.equal(res.body.status, 'success')
    assert.equal(res.body.message, 'Fetched 2 rows')
    assert.deepEqual(res.body.data, [{ id: 3, total: 2.5, customer: { name: 'Grace' } }, { id: 1, total: 21.24, customer: { name: 'Ada' } }])
    assert.match(res.body.cache_key, /^[0-9a-f]{32}$/)
  })

  await t.test('columns as an array, one-to-many embeds and two FKs to the same table', async () => {
    const res = await fetchRows({ table_name: 'messages', columns: ['id', 'from:sender_id(name)', 'to:receiver_id(name)'], sortBy: { field: 'id' } })
    assert.deepEqual(res.body.data, [
      { id: 1, from: { name: 'Ada' }, to: { name: 'Grace' } },
      { id: 2, from: { name: 'Grace' }, to: { name: 'Ada' } },
      { id: 3, from: { name: 'Linus' }, to: { name: 'Ada' } },
    ])
    const many = await fetchRows({ table_name: 'customers', columns: 'name,orders(id)', conditions: [{ operator: 'in', column: 'id', value: [1, 3] }], sort_by: { field: 'id' } })
    assert.deepEqual(many.body.data, [{ name: 'Ada', orders: [{ id: 1 }, { id: 2 }] }, { name: 'Linus', orders: [{ id: 4 }] }])
  })

  await t.test('values keep their JSON types: numbers, booleans, JSON, timestamps', async () => {
    const res = await fetchRows({ table_name: 'products', columns: 'name,price,attrs,in_stock', conditions: [{ eq_column: 'name', eq_value: 'Lamp' }] })
    assert.deepEqual(res.body.data, [{ name: 'Lamp', price: 19.99, attrs: { color: 'red', watts: 40 }, in_stock: true }])
    const orders = await fetchRows({ table_name: 'orders', columns: 'id,placed_at', conditions: [{ eq_column: 'id', eq_value: '1' }] })
    assert.equal(orders.body.data[0].placed_at, '2024-02-01T08:00:00+00:00')
  })

  const cases: Array<[string, Record<string, unknown>, number[]]> = [
    ['eq', { operator: 'eq', column: 'status', value: 'paid' }, [1, 3]],
    ['neq', { operator: 'neq', column: 'status', value: 'paid' }, [2, 4]],
    ['gt', { operator: 'gt', column: 'total', value: 20 }, [1, 2]],
    ['gte', { operator: 'gte', column: 'total', value: 21.24 }, [1, 2]],
    ['lt', { operator: 'lt', column: 'total', value: 3 }, [3]],
    ['lte', { operator: 'lte', column: 'total', value: 19.99 }, [3, 4]],
    ['like', { operator: 'like', column: 'status', value: 'p%' }, [1, 2, 3]],
    ['ilike', { operator: 'ilike', column: 'status', value: 'PAI%' }, [1, 3]],
    ['is null', { operator: 'is', column: 'note', value: null }, [2, 3]],
    ['in (array)', { operator: 'in', column: 'id', value: [2, 4] }, [2, 4]],
    ['in (PostgREST text)', { operator: 'in', column: 'status', value: '(cancelled,pending)' }, [2, 4]],
    ['or', { operator: 'or', value: '(status.eq.cancelled,total.gt.100)' }, [2, 4]],
    ['or without parentheses', { operator: 'or', value: 'id.eq.1,id.eq.3' }, [1, 3]],
    ['nested and inside or', { operator: 'or', value: '(id.eq.4,and(status.eq.paid,total.lt.10))' }, [3, 4]],
    ['not', { operator: 'not', value: 'status.eq.paid' }, [2, 4]],
  ]
  for (const [name, condition, ids] of cases) {
    await t.test(`condition ${name}`, async () => {
      const res = await fetchRows({ table_name: 'orders', columns: 'id', conditions: [condition], sort_by: { field: 'id' } })
      assert.equal(res.status, 200, JSON.stringify(res.body))
      assert.deepEqual(res.body.data.map((r: { id: number }) => r.id), ids)
    })
  }

  await t.test('contains on JSON (both dialects) and arrays (PostgreSQL)', async () => {
    const json = await fetchRows({ table_name: 'products', columns: 'name', conditions: [{ operator: 'contains', column: 'attrs', value: { color: 'oak' } }] })
    assert.deepEqual(json.body.data, [{ name: 'Desk' }])
    const tags = await fetchRows({ table_name: 'products', columns: 'name', conditions: [{ operator: 'contains', column: 'tags', value: ['office'] }], sort_by: { field: 'id' } })
    assert.equal(tags.status, 200, JSON.stringify(tags.body))
    assert.deepEqual(tags.body.data, [{ name: 'Desk' }, { name: 'Pen' }])
    const within = await fetchRows({ table_name: 'products', columns: 'name', conditions: [{ operator: 'containedBy', column: 'tags', value: ['office', 'home'] }], sort_by: { field: 'id' } })
    assert.deepEqual(within.body.data, [{ name: 'Desk' }, { name: 'Pen' }])
  })

  await t.test('limit/offset, and current_page + page_size with total_pages', async () => {
    const res = await fetchRows({ table_name: 'orders', columns: 'id', limit: 2, offset: 1, sort_by: { field: 'id' } })
    assert.deepEqual(res.body.data, [{ id: 2 }, { id: 3 }])
    const page = await fetchRows({ table_name: 'orders', columns: 'id', current_page: 2, page_size: 3, sort_by: { field: 'id' } })
    assert.deepEqual(page.body.data, [{ id: 4 }])
    assert.equal(page.body.total_pages, 2)
  })

  await t.test('strip_nulls in the body and X-Strip-Nulls header drop null keys', async () => {
    const body = { table_name: 'customers', columns: 'name,email,tier', conditions: [{ eq_column: 'id', eq_value: '2' }] }
    assert.deepEqual((await fetchRows(body)).body.data, [{ name: 'Grace', email: 'grace@example.com', tier: null }])
    assert.deepEqual((await fetchRows({ ...body, strip_nulls: true })).body.data, [{ name: 'Grace', email: 'grace@example.com' }])
    assert.deepEqual((await fetchRows(body, { 'x-strip-nulls': 'true' })).body.data, [{ name: 'Grace', email: 'grace@example.com' }])
  })

  await t.test('view_name reads views, /gateway/data is an alias and GET /data is the query-string form', async () => {
    const view = await fetchRows({ view_name: 'paid_orders', columns: 'id', sort_by: { field: 'id' } })
    assert.deepEqual(view.body.data, [{ id: 1 }, { id: 3 }])
    const alias = await atrium.post('/gateway/data', { client: 'shop', body: { table_name: 'customers', columns: 'name', conditions: [{ eq_column: 'id', eq_value: '3' }] } })
    assert.deepEqual(alias.body.data, [{ name: 'Linus' }])
    const get = await atrium.get('/data?view=orders&eq_column=customer_id&eq_value=1&columns=id,total&sort_by=id&sort_direction=desc', { client: 'shop' })
    assert.equal(get.status, 200, JSON.stringify(get.body))
    assert.deepEqual(get.body.data, [{ id: 2, total: 149.5 }, { id: 1, total: 21.24 }])
  })

  await t.test('unknown table and column are 400s that name them', async () => {
    const table = await fetchRows({ table_name: 'ordres', conditions: [] })
    assert.equal(table.status, 400)
    assert.equal(table.body.code, 'unknown_table')
    assert.match(table.body.message, /ordres/)
    assert.match(table.body.hint, /orders/)
    const column = await fetchRows({ table_name: 'orders', conditions: [{ eq_column: 'stauts', eq_value: 'x' }] })
    assert.equal(column.status, 400)
    assert.equal(column.body.code, 'unknown_column')
    assert.match(column.body.message, /stauts/)
    assert.equal(column.body.data.operation, 'gateway.fetch')
  })

  await t.test('bad payloads are 400s, never 500s', async () => {
    for (const body of [
      { conditions: [] },
      { table_name: 'orders', conditions: 'nope' },
      { table_name: 'orders', conditions: [{ operator: 'between', column: 'id', value: 1 }] },
      { table_name: 'orders', conditions: [{ operator: 'or', value: '(id.eq.1' }] },
      { table_name: 'orders', limit: -1 },
      { table_name: 'orders', sort_by: { field: 'id', direction: 'sideways' } },
      { table_name: 'orders', columns: 'id,customers(name' },
      { table_name: 'orders', conditions: [{ operator: 'gt', column: 'total', value: 'abc' }] },
    ]) {
      const res = await fetchRows(body)
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`)
      assert.equal(res.body.status, 'error')
      assert.equal(typeof res.body.message, 'string')
    }
    const notJson = await atrium.request('POST', '/gateway/fetch', { client: 'shop', raw: '{"table_name":', headers: { 'content-type': 'application/json' } })
    assert.equal(notJson.status, 400)
    assert.equal(notJson.body.code, 'invalid_json')
  })
})
