import assert from 'node:assert/strict'
import { request } from 'node:http'
import { test, type TestContext } from 'node:test'
import { startTestAtrium } from '../helpers/atrium.js'
import { createKey } from '../helpers/auth-grid.js'
import { createPgDatabase } from '../helpers/databases.js'
import { startTcpProxy, viaProxy } from '../helpers/tcp-proxy.js'

async function withCatalogOutage(t: TestContext, failOpenMinutes: number) {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const catalog = await createPgDatabase(t, 'atrium_catalog')
  const proxy = await startTcpProxy(5432)
  t.after(() => proxy.close())
  const atrium = await startTestAtrium(t, {
    sources: { shop: db.url },
    catalog,
    env: {
      DATABASE_URL: viaProxy(catalog.url, proxy),
      ATRIUM_KEY_CACHE_TTL_MS: '100',
      ATRIUM_KEY_FAIL_OPEN_MINUTES: String(failOpenMinutes),
      ATRIUM_POOL_CONNECTION_TIMEOUT_MS: '1000',
    },
  })
  const used = await createKey(atrium, { client_name: 'shop', rights: ['gateway.read'] })
  const unused = await createKey(atrium, { client_name: 'shop', rights: ['gateway.read'] })
  const fetchAs = (key: string) => atrium.post('/gateway/fetch', { client: 'shop', key, body: { table_name: 'customers', columns: 'id' }, headers: { 'cache-control': 'no-cache' } })
  assert.equal((await fetchAs(used.key)).status, 200)
  await proxy.cut()
  await new Promise((r) => setTimeout(r, 250)) // past the key cache lifetime
  return { fetchAs, used, unused, proxy }
}

test('with the catalog down, key checks fail closed by default (503)', async (t) => {
  const { fetchAs, used, proxy } = await withCatalogOutage(t, 0)
  const res = await fetchAs(used.key)
  assert.equal(res.status, 503, res.text)
  assert.equal(res.body.code, 'catalog_unavailable')
  assert.ok(res.headers.get('retry-after'))
  await proxy.restore()
  let back = await fetchAs(used.key)
  for (let i = 0; i < 20 && back.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 250))
    back = await fetchAs(used.key)
  }
  assert.equal(back.status, 200)
})

test('with failOpenMinutes, keys validated recently keep working while the catalog is down', async (t) => {
  const { fetchAs, used, unused } = await withCatalogOutage(t, 5)
  assert.equal((await fetchAs(used.key)).status, 200, 'validated a moment ago: served from memory')
  const never = await fetchAs(unused.key)
  assert.equal(never.status, 503, 'a key never validated by this process is still refused')
})

test('authentication happens before the body is read: an unauthenticated 100 MB upload is refused early', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const url = new URL('/gateway/fetch', atrium.url)
  const chunk = Buffer.alloc(1024 * 1024, 0x20)
  const total = 100 * 1024 * 1024
  const outcome = await new Promise<{ status: number; sent: number; body: string }>((resolve, reject) => {
    let sent = 0
    let done = false
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(total), 'x-athena-client': 'shop' } }, (res) => {
      let body = ''
      res.on('data', (d) => { body += d })
      res.on('end', () => { done = true; resolve({ status: res.statusCode!, sent, body }) })
    })
    req.on('error', (err) => (done ? undefined : sent > 0 ? resolve({ status: 0, sent, body: String(err) }) : reject(err)))
    const pump = () => {
      while (!done && sent < total) {
        sent += chunk.length
        if (!req.write(chunk)) return req.once('drain', pump)
      }
      if (sent >= total) req.end()
    }
    pump()
  })
  assert.equal(outcome.status, 401, outcome.body)
  assert.equal(JSON.parse(outcome.body).code, 'missing_api_key')
  assert.ok(outcome.sent < total, `answered after ${outcome.sent} of ${total} bytes`)
})
