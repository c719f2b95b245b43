import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../helpers/atrium.js'
import { createKey } from '../helpers/auth-grid.js'
import { createPgDatabase } from '../helpers/databases.js'

const fetchBody = { table_name: 'customers', columns: 'id' }

test('inbound limits per key (with a per-key override) answer 429 with Retry-After', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_RATE_LIMIT_PER_KEY: '3', ATRIUM_RATE_LIMIT_WINDOW_SECONDS: '30' } })
  const normal = await createKey(atrium, { client_name: 'shop', rights: ['gateway.read'] })
  const tight = await createKey(atrium, { client_name: 'shop', rights: ['gateway.read'], rate_limit: 1 })
  const call = (key: string) => atrium.post('/gateway/fetch', { client: 'shop', key, body: fetchBody })
  // a window's points, then the same again as burst allowance
  const statuses = []
  for (let i = 0; i < 7; i++) statuses.push((await call(normal.key)).status)
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429])
  const limited = await call(normal.key)
  assert.equal(limited.status, 429)
  assert.equal(limited.body.status, 'error')
  assert.equal(limited.body.code, 'rate_limited')
  assert.ok(Number(limited.headers.get('retry-after')) >= 1)
  assert.equal((await call(tight.key)).status, 200)
  assert.equal((await call(tight.key)).status, 200)
  assert.equal((await call(tight.key)).status, 429, 'the key override allows 1 (+1 burst)')
  assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', body: fetchBody })).status, 200, 'the admin key is not limited')
  const metrics = await atrium.get('/metrics')
  assert.match(metrics.text, /athena_rate_limited_total\{scope="key"\} [1-9]/)
})

test('the per-address limit counts requests with wrong keys, before any key is looked up', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_RATE_LIMIT_PER_IP: '2', ATRIUM_RATE_LIMIT_WINDOW_SECONDS: '30' } })
  const guess = (i: number) => atrium.post('/gateway/fetch', { client: 'shop', key: `ath_${'a'.repeat(15)}${i}.${'b'.repeat(43)}`, body: fetchBody })
  const statuses = []
  for (let i = 0; i < 5; i++) statuses.push((await guess(i)).status)
  // 2 per window + 2 burst: key guessing from one address is slowed like any other traffic
  assert.deepEqual(statuses, [401, 401, 401, 401, 429])
  const limited = await guess(9)
  assert.equal(limited.body.code, 'rate_limited')
  assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', body: fetchBody })).status, 200, 'the admin key is not limited')
})

test('with REDIS_URL two processes share one per-client limit', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  // the client name is unique to this run, so other runs' counters in Redis do not interfere
  const client = `rl_${db.name.slice(-10)}`
  const env = { REDIS_URL: 'redis://127.0.0.1:6379', ATRIUM_RATE_LIMIT_PER_CLIENT: '4', ATRIUM_RATE_LIMIT_WINDOW_SECONDS: '30' }
  const a = await startTestAtrium(t, { sources: { [client]: db.url }, env })
  const b = await startTestAtrium(t, { sources: { [client]: db.url }, env, catalog: a.catalog })
  const k = await createKey(a, { client_name: client, rights: ['gateway.read'] })
  const statuses: number[] = []
  for (let i = 0; i < 9; i++) {
    const atrium = i % 2 === 0 ? a : b
    statuses.push((await atrium.post('/gateway/fetch', { client, key: k.key, body: fetchBody })).status)
  }
  // 4 per window + 4 burst = 8 across both processes, then refused in whichever process is asked
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 429])
  assert.equal((await a.post('/gateway/fetch', { client, key: k.key, body: fetchBody })).status, 429)
})
