import assert from 'node:assert/strict'
import { startTestAtrium } from '../../helpers/atrium.js'
import { forEachDialect } from '../../helpers/dialects.js'

// Aggregates inside embedded resources: computed per parent row, checked against the same aggregate written
// by hand in SQL over the same data.
type Row = Record<string, unknown>
/** database drivers return counts and decimals as text or numbers depending on dialect: compare as numbers */
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v))

forEachDialect('/rest/v1 aggregates inside embeds', async (t, db) => {
  await db.load('shop')
  const pg = db.dialect === 'postgres'
  // a customer with no orders: its embed aggregates nothing
  await db.query("INSERT INTO customers (id, name) VALUES (4, 'Orphan')")
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const get = (path: string, headers?: Record<string, string>) => atrium.get(`/rest/v1/${path}`, { client: 'shop', headers })

  await t.test('one-to-many: aggregates of each parent\'s rows; no rows give one entry counting zero', async () => {
    const res = await get('customers?select=id,name,orders(total.sum(),id.count(),n:count(),total.min(),total.max(),total.avg())&order=id')
    assert.equal(res.status, 200, res.text)
    const expected = await db.query(`SELECT c.id, c.name, sum(o.total) AS s, count(o.id) AS c, count(o.id) AS n, min(o.total) AS mi, max(o.total) AS ma, avg(o.total) AS av
      FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name ORDER BY c.id`)
    assert.equal(res.body.length, 4)
    res.body.forEach((row: Row & { orders: Row[] }, i: number) => {
      const e = expected[i]
      assert.equal(row.name, e.name)
      assert.equal(row.orders.length, 1, `${row.name}: aggregates without group columns give one entry`)
      const [o] = row.orders
      assert.deepEqual(Object.keys(o), ['sum', 'count', 'n', 'min', 'max', 'avg'])
      assert.deepEqual([o.sum, o.count, o.n, o.min, o.max].map(num), [e.s, e.c, e.n, e.mi, e.ma].map(num), String(row.name))
      assert.ok(Math.abs((num(o.avg) ?? 0) - (num(e.av) ?? 0)) < 1e-6, `${row.name}: avg ${o.avg} vs ${e.av}`)
    })
    const orphan = res.body[3].orders[0]
    assert.deepEqual(orphan, { sum: null, count: 0, n: 0, min: null, max: null, avg: null }, 'as PostgREST: the aggregate of nothing')
  })

  await t.test('filters on the embed narrow the aggregated rows', async () => {
    const res = await get('customers?select=id,orders(total.sum(),count())&orders.status=eq.paid&order=id')
    assert.equal(res.status, 200, res.text)
    const expected = await db.query(`SELECT c.id, sum(o.total) AS s, count(o.id) AS n FROM customers c
      LEFT JOIN orders o ON o.customer_id = c.id AND o.status = 'paid' GROUP BY c.id ORDER BY c.id`)
    assert.deepEqual(res.body.map((r: { id: number; orders: Row[] }) => [r.id, num(r.orders[0].sum), num(r.orders[0].count)]),
      expected.map((e) => [num(e.id), num(e.s), num(e.n)]))
  })

  await t.test('many-to-one: the aggregate of the one related row is an object', async () => {
    const res = await get('orders?select=id,customers(count(),first:name.min())&order=id')
    assert.equal(res.status, 200, res.text)
    const expected = await db.query('SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.id')
    assert.deepEqual(res.body, expected.map((e) => ({ id: num(e.id), customers: { count: 1, first: e.name } })))
  })

  await t.test('!inner with aggregates only keeps every parent: the aggregate of nothing is still an entry', async () => {
    const res = await get('customers?select=id,orders!inner(count())&order=id')
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body.map((r: { id: number }) => num(r.id)), [1, 2, 3, 4])
  })

  await t.test('Prefer: count=exact counts the parent rows', async () => {
    const res = await get('customers?select=id,orders(count())', { prefer: 'count=exact' })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.headers.get('content-range'), '0-3/4')
  })

  await t.test('the embed aggregates beside a nested embed or "*" are refused', async () => {
    for (const select of ['id,orders(count(),order_items(qty))', 'id,orders(*,count())']) {
      const res = await get(`customers?select=${encodeURIComponent(select)}`)
      assert.equal(res.status, 400, `${select}: ${res.text}`)
      assert.match(res.body.message, /aggregates group by the other selected columns/)
    }
    const text = await get('customers?select=id,orders(status.sum())')
    assert.equal(text.status, 400, 'sum of a text column is refused before it runs')
  })

  await t.test('group columns beside the aggregates give one entry per group; no rows give []', async () => {
    const res = await get('customers?select=id,orders(status,n:count(),total.sum())&order=id&orders.order=status')
    assert.equal(res.status, 200, res.text)
    const groups = await db.query(`SELECT customer_id, status, count(*) AS n, sum(total) AS s FROM orders GROUP BY customer_id, status ORDER BY customer_id, status`)
    const customers = await db.query('SELECT id FROM customers ORDER BY id')
    const expected = customers.map((c) => ({
      id: num(c.id),
      orders: groups.filter((g) => num(g.customer_id) === num(c.id)).map((g) => ({ status: g.status, n: num(g.n), sum: num(g.s) })),
    }))
    const got = res.body.map((r: { id: number; orders: Row[] }) => ({ id: r.id, orders: r.orders.map((o) => ({ status: o.status, n: o.n, sum: num(o.sum) })) }))
    assert.deepEqual(got, expected)
    assert.deepEqual(res.body[3].orders, [], 'a parent without rows has no groups')
    assert.ok(res.body[0].orders.length > 1, 'the fixture gives a customer several groups')
  })

  await t.test('order and limit inside the embed apply to its groups; ordering by a column that is not a group is a 400', async () => {
    const res = await get('customers?select=id,orders(status,count())&order=id&orders.order=status.desc&orders.limit=1')
    assert.equal(res.status, 200, res.text)
    const groups = await db.query('SELECT customer_id, status, count(*) AS n FROM orders GROUP BY customer_id, status ORDER BY customer_id, status DESC')
    const customers = await db.query('SELECT id FROM customers ORDER BY id')
    const expected = customers.map((c) => ({ id: num(c.id), orders: groups.filter((g) => num(g.customer_id) === num(c.id)).slice(0, 1).map((g) => ({ status: g.status, count: num(g.n) })) }))
    assert.deepEqual(res.body, expected)
    const loose = await get('customers?select=id,orders(status,count())&orders.order=total')
    assert.equal(loose.status, 400, loose.text)
    assert.match(loose.body.message, /order by "total".*group columns/)
    const top = await get('orders?select=status,count()&order=total')
    assert.equal(top.status, 400, 'the same at the top level')
    assert.match(top.body.message, /order by "total"/)
  })

  await t.test('many-to-many through the junction: grouped per parent row', async () => {
    const res = await get('orders?select=id,products(in_stock,count(),price.sum())&order=id')
    assert.equal(res.status, 200, res.text)
    for (const r of res.body) r.products.sort((a: Row, b: Row) => Number(a.in_stock) - Number(b.in_stock))
    const expected = await db.query(`SELECT i.order_id, p.in_stock, count(*) AS n, sum(p.price) AS s FROM order_items i
      JOIN products p ON p.id = i.product_id GROUP BY i.order_id, p.in_stock ORDER BY i.order_id, p.in_stock`)
    const got = res.body.flatMap((r: { id: number; products: Row[] }) => r.products.map((p) => [r.id, p.in_stock, p.count, num(p.sum)]))
    // MariaDB stores booleans as 0/1; Atrium answers true/false on both dialects
    assert.deepEqual(got, expected.map((e) => [num(e.order_id), Boolean(e.in_stock), num(e.n), num(e.s)]))
  })

  if (!pg) return // casts are PostgreSQL's only
  await t.test('casts before and after the aggregate, and aliases, as at the top level', async () => {
    const res = await get(`customers?select=id,orders(${encodeURIComponent('t:total.sum()::text,whole:total::int.avg()::int')})&order=id`)
    assert.equal(res.status, 200, res.text)
    const expected = await db.query(`SELECT c.id, sum(o.total)::text AS t, avg(o.total::int)::int AS w FROM customers c
      LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id ORDER BY c.id`)
    assert.deepEqual(res.body, expected.map((e) => ({ id: num(e.id), orders: [{ t: e.t, whole: e.w }] })))
  })
})

forEachDialect('/rest/v1 aggregates inside embeds are refused when aggregates are turned off', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, settings: { 'rest.aggregatesEnabled': false } })
  const res = await atrium.get('/rest/v1/customers?select=id,orders(total.sum())', { client: 'shop' })
  assert.equal(res.status, 400, res.text)
  assert.equal(res.body.code, 'PGRST123')
})
