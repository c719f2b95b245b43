import assert from 'node:assert/strict'
import { startTestAtrium } from '../../helpers/atrium.js'
import { forEachDialect } from '../../helpers/dialects.js'

// Expected values are worked out by hand from test/fixtures/shop.*.sql:
//   order 1  2024-02-01 08:00  paid       21.24  customer 1
//   order 2  2024-02-01 09:30  pending   149.50  customer 1
//   order 3  2024-02-02 10:00  paid        2.50  customer 2
//   order 4  2024-02-03 12:00  cancelled  19.99  customer 3
forEachDialect('group_by and aggregation on /gateway/fetch', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const grouped = async (body: Record<string, unknown>) => {
    const res = await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'orders', ...body } })
    assert.equal(res.status, 200, JSON.stringify(res.body))
    return res.body.data
  }

  await t.test('group_by a column: one row per value with its count', async () => {
    assert.deepEqual(await grouped({ group_by: 'status' }), [
      { status: 'cancelled', count: 1 },
      { status: 'paid', count: 2 },
      { status: 'pending', count: 1 },
    ])
  })

  await t.test('aggregation_column adds the per-bucket sum', async () => {
    assert.deepEqual(await grouped({ group_by: 'status', aggregation_column: 'total' }), [
      { status: 'cancelled', count: 1, sum: 19.99 },
      { status: 'paid', count: 2, sum: 23.74 },
      { status: 'pending', count: 1, sum: 149.5 },
    ])
  })

  await t.test('time_granularity day with a cumulative_sum running total', async () => {
    assert.deepEqual(await grouped({ group_by: 'placed_at', time_granularity: 'day', aggregation_column: 'total', aggregation_strategy: 'cumulative_sum' }), [
      { placed_at: '2024-02-01T00:00:00+00:00', count: 2, sum: 170.74, cumulative_sum: 170.74 },
      { placed_at: '2024-02-02T00:00:00+00:00', count: 1, sum: 2.5, cumulative_sum: 173.24 },
      { placed_at: '2024-02-03T00:00:00+00:00', count: 1, sum: 19.99, cumulative_sum: 193.23 },
    ])
  })

  await t.test('hour buckets, conditions before grouping, and the running total spans skipped buckets', async () => {
    const hours = await grouped({ group_by: 'placed_at', time_granularity: 'hour', conditions: [{ operator: 'neq', column: 'status', value: 'cancelled' }] })
    assert.deepEqual(hours.map((r: { placed_at: string }) => r.placed_at), ['2024-02-01T08:00:00+00:00', '2024-02-01T09:00:00+00:00', '2024-02-02T10:00:00+00:00'])
    const page = await grouped({ group_by: 'placed_at', time_granularity: 'day', aggregation_column: 'total', aggregation_strategy: 'cumulative_sum', limit: 1, offset: 1 })
    assert.deepEqual(page, [{ placed_at: '2024-02-02T00:00:00+00:00', count: 1, sum: 2.5, cumulative_sum: 173.24 }])
    const desc = await grouped({ group_by: 'status', sort_by: { field: 'status', direction: 'desc' } })
    assert.equal(desc[0].status, 'pending')
  })

  await t.test('aggregation_dedup counts and sums each distinct value once per bucket', async () => {
    await db.query("INSERT INTO orders (id, customer_id, status, total, placed_at) VALUES (5, 2, 'paid', 2.50, '2024-02-04 10:00:00')")
    assert.deepEqual(await grouped({ group_by: 'customer_id', aggregation_column: 'total', conditions: [{ eq_column: 'customer_id', eq_value: '2' }] }), [{ customer_id: 2, count: 2, sum: 5 }])
    assert.deepEqual(await grouped({ group_by: 'customer_id', aggregation_column: 'total', aggregation_dedup: true, conditions: [{ eq_column: 'customer_id', eq_value: '2' }] }), [{ customer_id: 2, count: 1, sum: 2.5 }])
  })

  await t.test('invalid combinations are 400s that say why', async () => {
    for (const [body, pattern] of [
      [{ aggregation_column: 'total' }, /group_by/],
      [{ group_by: 'status', time_granularity: 'day' }, /granularity/],
      [{ group_by: 'status', aggregation_column: 'status' }, /numeric/],
      [{ group_by: 'status', aggregation_strategy: 'cumulative_sum' }, /aggregation_column/],
      [{ group_by: 'nope' }, /nope/],
      [{ group_by: 'status', time_granularity: 'week' }, /time_granularity/],
    ] as const) {
      const res = await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'orders', ...body } })
      assert.equal(res.status, 400, JSON.stringify(body))
      assert.match(`${res.body.message} ${res.body.error}`, pattern)
    }
  })
})
