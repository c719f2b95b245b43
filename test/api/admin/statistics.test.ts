import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertMatchesSpec } from '../../helpers/athena-contract.js'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'

// Client statistics are built from the request log: per client, and per table and operation.
test('/admin/clients/statistics', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  // a long flush interval: the statistics routes must write this process's pending entries themselves
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, settings: { 'gateway.requestLogFlushMs': 600_000 } })
  const fetchOrders = () => atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'orders', columns: 'id', conditions: [{ eq_column: 'status', eq_value: 'paid' }] } })

  await t.test('a client with no requests yet has no statistics (404)', async () => {
    const res = await atrium.get('/admin/clients/shop/statistics')
    assert.equal(res.status, 404)
    assert.equal(res.body.code, 'client_statistics_not_found')
    const list = await atrium.get('/admin/clients/statistics')
    assert.deepEqual(list.body, { statistics: [] })
  })

  const started = new Date()
  await t.test('requests are counted per client and per table and operation, as JSON numbers', async () => {
    assert.equal((await fetchOrders()).status, 200)
    assert.equal((await fetchOrders()).status, 200) // the same read again comes from the fetch cache
    assert.equal((await atrium.request('PUT', '/gateway/insert', { client: 'shop', body: { table_name: 'sentinel', insert_body: { id: 50, label: 'x' } } })).status, 200)
    assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'orders', columns: 'nope' } })).status, 400)
    assert.equal((await atrium.post('/gateway/query', { client: 'shop', body: { query: 'SELECT 1' } })).status, 200)

    const res = await atrium.get('/admin/clients/shop/statistics')
    assert.equal(res.status, 200, res.text)
    await assertMatchesSpec('GET', '/admin/clients/{client_name}/statistics', 200, res.body)
    const s = res.body.statistics
    assert.deepEqual(
      [s.client_name, s.total_requests, s.successful_requests, s.failed_requests, s.total_cached_requests, s.total_operations],
      ['shop', 5, 4, 1, 1, 4],
    )
    assert.ok(new Date(s.last_request_at) >= new Date(started.getTime() - 1000))
    const tables = res.body.tables.map((r: Record<string, unknown>) => [r.table_name, r.operation, r.total_operations, r.error_operations, r.cached_operations])
    assert.deepEqual(tables, [
      ['orders', 'gateway.fetch', 3, 1, 1],
      ['sentinel', 'gateway.insert', 1, 0, 0],
    ])
    for (const r of res.body.tables) assert.equal(typeof r.total_operations, 'number')
  })

  await t.test('GET /admin/clients/statistics lists every client', async () => {
    const res = await atrium.get('/admin/clients/statistics')
    assert.equal(res.status, 200)
    await assertMatchesSpec('GET', '/admin/clients/statistics', 200, res.body)
    assert.deepEqual(res.body.statistics.map((s: { client_name: string; total_requests: number }) => [s.client_name, s.total_requests]), [['shop', 5]])
  })

  await t.test('refresh rebuilds the same numbers from the request log, and repairs drifted ones', async () => {
    await atrium.catalog.query("UPDATE atrium.client_statistics SET total_requests = 999; DELETE FROM atrium.client_table_statistics WHERE table_name = 'sentinel'")
    const res = await atrium.post('/admin/clients/statistics/refresh')
    assert.equal(res.status, 200, res.text)
    await assertMatchesSpec('POST', '/admin/clients/statistics/refresh', 200, res.body)
    assert.equal(res.body.statistics[0].total_requests, 5)
    const detail = await atrium.get('/admin/clients/shop/statistics')
    assert.deepEqual(detail.body.tables.map((r: { table_name: string; total_operations: number }) => [r.table_name, r.total_operations]), [['orders', 3], ['sentinel', 1]])
  })

  await t.test('two processes sharing the catalog add up, and the admin routes themselves are not counted', async () => {
    const other = await startTestAtrium(t, { catalog: atrium.catalog, sources: { shop: db.url } })
    assert.equal((await other.post('/gateway/fetch', { client: 'shop', body: { table_name: 'customers', columns: 'id' } })).status, 200)
    await other.handle.platform.requestLog.flush()
    const res = await atrium.get('/admin/clients/shop/statistics')
    assert.equal(res.body.statistics.total_requests, 6)
    assert.ok(res.body.tables.some((r: { table_name: string }) => r.table_name === 'customers'))
  })

  await t.test('tenant headers reach the request log exactly, tabs and backslashes included', async () => {
    const odd = { 'x-user-id': 'tab\there \\N back\\slash', 'x-company-id': '\\', 'x-organization-id': 'ünï' }
    assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', headers: odd, body: { table_name: 'orders', columns: 'id' } })).status, 200)
    await atrium.handle.platform.requestLog.flush()
    const rows = await atrium.catalog.query<Record<string, string>>(
      "SELECT user_id, company_id, organization_id FROM atrium.request_log WHERE user_id LIKE 'tab%'")
    assert.deepEqual(rows, [{ user_id: odd['x-user-id'], company_id: odd['x-company-id'], organization_id: odd['x-organization-id'] }])
  })

  await t.test('each request is logged with its own id, status, duration, route and tenant headers', async () => {
    // consecutive requests that differ in one value only, and back: every row must carry its own values
    const sent: Array<{ user: string; columns: string; id: string; status: number; ms: number }> = []
    for (const [user, columns] of [['u1', 'id'], ['u1', '*'], ['u2', 'id'], ['u1', 'nope'], ['u1', 'id']]) {
      const t0 = performance.now()
      const res = await atrium.post('/gateway/fetch', { client: 'shop', headers: { 'x-user-id': user }, body: { table_name: 'customers', columns } })
      sent.push({ user, columns, id: res.headers.get('x-request-id')!, status: res.status, ms: performance.now() - t0 })
    }
    await atrium.handle.platform.requestLog.flush()
    const rows = await atrium.catalog.query<Record<string, unknown>>(
      'SELECT request_id, status, duration_ms, cached, client_name, table_name, operation, method, path, user_id, company_id FROM atrium.request_log WHERE request_id = ANY($1)',
      [sent.map((s) => s.id)])
    assert.equal(rows.length, sent.length)
    for (const s of sent) {
      const row = rows.find((r) => r.request_id === s.id)!
      assert.deepEqual(
        [row.status, row.client_name, row.table_name, row.operation, row.method, row.path, row.user_id, row.company_id],
        [s.status, 'shop', 'customers', 'gateway.fetch', 'POST', '/gateway/fetch', s.user, null], s.columns)
      const ms = row.duration_ms as number
      assert.ok(ms > 0 && ms <= s.ms, `duration ${ms} ms of a request that took ${s.ms} ms end to end`)
    }
    assert.deepEqual(sent.map((s) => s.status), [200, 200, 200, 400, 200])
  })

  await t.test('durations are written to the microsecond', async () => {
    const log = atrium.handle.platform.requestLog
    const durations = [0, 0.0004, 0.0015, 0.05, 1.5, 12.0456, 999.9996, 65432.1]
    durations.forEach((durationMs, i) => log.record({
      at: new Date(), requestId: `duration-${i}`, client: 'durations', table: null, operation: 'gateway.fetch', method: 'POST',
      path: '/gateway/fetch', status: 200, durationMs, cached: false, apiKeyId: null, userId: null, companyId: null, organizationId: null, sqlClass: null,
    }))
    await log.flush()
    const rows = await atrium.catalog.query<{ request_id: string; ms: string }>(
      "SELECT request_id, duration_ms::numeric::text AS ms FROM atrium.request_log WHERE client_name = 'durations' ORDER BY request_id")
    const byId = Object.fromEntries(rows.map((r) => [r.request_id, Number(r.ms)]))
    assert.deepEqual(durations.map((_, i) => byId[`duration-${i}`]), [0, 0, 0.002, 0.05, 1.5, 12.046, 1000, 65432.1])
  })

  await t.test('entries logged while the catalog cannot take them are kept and written by a later flush, in batches', async () => {
    const log = atrium.handle.platform.requestLog
    const entry = (i: number) => ({
      at: new Date(), requestId: `bulk-${i}`, client: 'bulk', table: i % 2 ? 'odd' : 'even', operation: 'gateway.fetch', method: 'POST',
      path: '/gateway/fetch', status: i % 10 === 0 ? 500 : 200, durationMs: 1.5, cached: false, apiKeyId: null,
      userId: `user ${i} ${'x'.repeat(i % 300)}`, companyId: null, organizationId: null, sqlClass: null,
    })
    await atrium.catalog.query('ALTER TABLE atrium.request_log RENAME TO request_log_away')
    try {
      for (let i = 0; i < 2_500; i++) log.record(entry(i))
      await log.flush() // fails: nothing is written, nothing is lost
    } finally {
      await atrium.catalog.query('ALTER TABLE atrium.request_log_away RENAME TO request_log')
    }
    for (let i = 2_500; i < 2_600; i++) log.record(entry(i))
    await log.flush()
    const [row] = await atrium.catalog.query<{ n: string; users: string; longest: number }>(
      "SELECT count(*) AS n, count(DISTINCT user_id) AS users, max(length(user_id)) AS longest FROM atrium.request_log WHERE client_name = 'bulk'")
    assert.deepEqual([row.n, row.users, row.longest], ['2600', '2600', 'user 2399 '.length + 299]) // the longest: i % 300 = 299, a four-digit i
    const res = await atrium.get('/admin/clients/bulk/statistics')
    assert.equal(res.status, 200, res.text)
    const s = res.body.statistics
    assert.deepEqual([s.total_requests, s.successful_requests, s.failed_requests, s.total_operations], [2600, 2340, 260, 2600])
    assert.deepEqual(res.body.tables.map((r: { table_name: string; total_operations: number; error_operations: number }) => [r.table_name, r.total_operations, r.error_operations]),
      [['even', 1300, 260], ['odd', 1300, 0]])
  })

  await t.test('an unknown client name is a 404, odd names are not a 500', async () => {
    for (const name of ['nobody', encodeURIComponent("x'; DROP TABLE atrium.request_log; --"), 'a'.repeat(200)]) {
      const res = await atrium.get(`/admin/clients/${name}/statistics`)
      assert.equal(res.status, 404, name)
    }
    assert.equal((await atrium.get(`/admin/clients/${'a'.repeat(300)}/statistics`)).status, 400)
    const [row] = await atrium.catalog.query<{ n: string }>('SELECT count(*) AS n FROM atrium.request_log')
    assert.ok(Number(row.n) >= 6)
  })
})
