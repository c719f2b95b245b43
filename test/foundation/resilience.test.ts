import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../helpers/atrium.js'
import { createMysqlDatabase, createPgDatabase } from '../helpers/databases.js'
import { startTcpProxy, viaProxy } from '../helpers/tcp-proxy.js'

test('a data source that goes away answers 503 and recovers when it comes back', async (t) => {
  const pg = await createPgDatabase(t)
  const my = await createMysqlDatabase(t)
  await pg.load('shop')
  await my.load('shop')
  const pgProxy = await startTcpProxy(5432)
  const myProxy = await startTcpProxy(3306)
  t.after(() => pgProxy.close())
  t.after(() => myProxy.close())
  const atrium = await startTestAtrium(t, {
    sources: { shop: viaProxy(pg.url, pgProxy), myshop: viaProxy(my.url, myProxy) },
    env: { ATRIUM_POOL_CONNECTION_TIMEOUT_MS: '1500' },
  })
  const body = { table_name: 'customers', columns: 'id', sort_by: { field: 'id' } }

  for (const [client, proxy] of [['shop', pgProxy], ['myshop', myProxy]] as const) {
    await t.test(`${client}: up, down (503 in the gateway envelope), up again`, async () => {
      const up = await atrium.post('/gateway/fetch', { client, body, headers: { 'cache-control': 'no-cache' } })
      assert.equal(up.status, 200, JSON.stringify(up.body))

      await proxy.cut()
      const down = await atrium.post('/gateway/fetch', { client, body, headers: { 'cache-control': 'no-cache' } })
      assert.equal(down.status, 503, JSON.stringify(down.body))
      assert.equal(down.body.status, 'error')
      assert.equal(down.body.code, 'source_unavailable')
      assert.match(down.body.message, new RegExp(`"${client}" is unavailable`))
      assert.equal(down.headers.get('retry-after'), '5')
      // the admin key (used here) is told the host that failed, never the connection string; other callers
      // get neither (test/security/embedded-default.test.ts)
      const url = client === 'shop' ? viaProxy(pg.url, pgProxy) : viaProxy(my.url, myProxy)
      assert.ok(!down.text.includes(url) && !down.text.includes(new URL(url).pathname), 'the connection string is not revealed')
      const health = await atrium.get('/health', { key: null })
      assert.equal(health.status, 200, 'a data source outage is not a process outage')

      await proxy.restore()
      let back = await atrium.post('/gateway/fetch', { client, body, headers: { 'cache-control': 'no-cache' } })
      for (let i = 0; i < 20 && back.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 250))
        back = await atrium.post('/gateway/fetch', { client, body, headers: { 'cache-control': 'no-cache' } })
      }
      assert.equal(back.status, 200, JSON.stringify(back.body))
      assert.deepEqual(back.body.data, [{ id: 1 }, { id: 2 }, { id: 3 }])
    })
  }
})

test('GET /health answers 503 with per-check details while the catalog is down', async (t) => {
  const { createPgDatabase: create } = await import('../helpers/databases.js')
  const catalog = await create(t, 'atrium_catalog')
  const proxy = await startTcpProxy(5432)
  t.after(() => proxy.close())
  const atrium = await startTestAtrium(t, { env: { DATABASE_URL: viaProxy(catalog.url, proxy), ATRIUM_POOL_CONNECTION_TIMEOUT_MS: '1000' }, catalog })
  assert.equal((await atrium.get('/health', { key: null })).status, 200)
  await proxy.cut()
  const down = await atrium.get('/health', { key: null })
  assert.equal(down.status, 503)
  assert.equal(down.body.status, 'error')
  assert.equal(down.body.checks.catalog.status, 'down')
  assert.equal(typeof down.body.error, 'string')
  await proxy.restore()
  let up = await atrium.get('/health', { key: null })
  for (let i = 0; i < 20 && up.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 250))
    up = await atrium.get('/health', { key: null })
  }
  assert.equal(up.status, 200)
})

test('HTTP behaviour: graceful shutdown, body limits, CORS', async (t) => {
  const pg = await createPgDatabase(t)
  await pg.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: pg.url }, env: { ATRIUM_BODY_LIMIT_BYTES: '2048' } })

  await t.test('a body over the limit is a 413 in the gateway envelope', async () => {
    const res = await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'orders', columns: 'id,'.repeat(1000) + 'id' } })
    assert.equal(res.status, 413)
    assert.equal(res.body.code, 'body_too_large')
  })

  await t.test('CORS preflight is answered and exposes the pagination headers', async () => {
    const res = await fetch(`${atrium.url}/rest/v1/orders`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'apikey,x-athena-client' },
    })
    assert.equal(res.status, 204)
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example')
    const simple = await fetch(`${atrium.url}/ping`, { headers: { origin: 'https://app.example' } })
    assert.match(simple.headers.get('access-control-expose-headers') ?? '', /Content-Range/)
  })

  await t.test('a request without Origin gets no CORS headers, and an OPTIONS without Origin is no preflight', async () => {
    const plain = await fetch(`${atrium.url}/ping`)
    assert.equal(plain.status, 200)
    assert.equal(plain.headers.get('access-control-expose-headers'), null)
    assert.equal(plain.headers.get('access-control-allow-origin'), null)
    // caches must still keep browser and non-browser answers apart
    assert.match(plain.headers.get('vary') ?? '', /Origin/)
    const options = await fetch(`${atrium.url}/rest/v1/orders`, { method: 'OPTIONS', headers: { 'access-control-request-method': 'GET' } })
    assert.equal(options.status, 404)
    assert.equal(((await options.json()) as { code: string }).code, 'route_not_found')
  })

  await t.test('close() lets in-flight requests finish', async () => {
    const slow = atrium.post('/gateway/query', { client: 'shop', body: { query: 'SELECT true AS slept FROM pg_sleep(0.8)' } })
    // close only once the request is surely in flight: its statement is running in the database
    for (let i = 0; i < 100; i++) {
      const running = await pg.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(0.8)%' AND pid <> pg_backend_pid()`)
      if (running.length) break
      await new Promise((r) => setTimeout(r, 20))
    }
    const closing = atrium.close()
    const res = await slow
    await closing
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.deepEqual(res.body.data, [{ slept: true }])
    await assert.rejects(fetch(`${atrium.url}/ping`))
  })
})

test('a streaming read whose connection the server ends between fetches fails alone; the process keeps serving', async (t) => {
  const db = await createPgDatabase(t)
  await db.query(`CREATE TABLE big AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 200000) g`)
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_STREAM_THRESHOLD_ROWS: '100' } })
  const { ADMIN_KEY } = await import('../helpers/atrium.js')
  const res = await fetch(`${atrium.url}/rest/v1/big?order=id`, { headers: { apikey: ADMIN_KEY, 'x-athena-client': 'shop' } })
  assert.equal(res.status, 200)
  const reader = res.body!.getReader()
  await reader.read() // the cursor is open; the server now waits for this reader between fetches
  // end every connection Atrium holds on the source, the cursor's among them (it sits idle in its transaction)
  const ended = await db.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'atrium'`)
  assert.ok(ended.length >= 1, 'the cursor connection was found')
  // the response ends early (the cursor failed); reading it to the end or to an error is enough
  await (async () => { for (;;) { const step = await reader.read(); if (step.done) return } })().catch(() => {})
  const after = await atrium.get('/rest/v1/big?select=id&id=eq.7', { client: 'shop' })
  assert.equal(after.status, 200, after.text)
  assert.deepEqual(after.body, [{ id: 7 }])
})
