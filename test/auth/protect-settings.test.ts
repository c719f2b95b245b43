import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ADMIN_KEY, startTestAtrium } from '../helpers/atrium.js'
import { createKey } from '../helpers/auth-grid.js'
import { createPgDatabase } from '../helpers/databases.js'

// security.protect.schema governs the per-client /schema/* routes and security.protect.registry the route
// listing (GET /router/registry and the `routes` of GET /), whatever the clients' key enforcement says.
const SCHEMA_ROUTES: Array<[string, string]> = [
  ['GET', '/schema/tables'],
  ['GET', '/schema/columns?table_name=customers'],
  ['GET', '/schema/migrations'],
  ['POST', '/schema/refresh'],
]

test('security.protect.schema: key (the default) needs a key with schema.read even where enforcement is off', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const other = await createPgDatabase(t)
  const atrium = await startTestAtrium(t, { sources: { shop: db.url, other: other.url } })
  const off = await atrium.request('PUT', '/admin/api-key-config', { body: { enforce_api_keys: false } })
  assert.equal(off.status, 200, off.text)
  assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', key: null, body: { table_name: 'customers' } })).status, 200, 'data routes are open')

  const reader = await createKey(atrium, { client_name: 'shop', rights: ['schema.read'] })
  const unbound = await createKey(atrium, { rights: ['schema.read'] })
  const elsewhere = await createKey(atrium, { client_name: 'other', rights: ['schema.read'] })
  const noRight = await createKey(atrium, { client_name: 'shop', rights: ['gateway.read'] })
  const cases: Array<[string, string | null, number, string?]> = [
    ['no key', null, 401, 'missing_api_key'],
    ['a malformed key', 'not-a-key', 401, 'invalid_api_key'],
    ['a key without schema.read', noRight.key, 403, 'missing_right'],
    ['a key bound to another client', elsewhere.key, 403, 'client_not_allowed'],
    ['a key bound to the client', reader.key, 200],
    ['an unbound key', unbound.key, 200],
    ['the admin key', ADMIN_KEY, 200],
  ]
  for (const [method, path] of SCHEMA_ROUTES) {
    await t.test(`${method} ${path}`, async () => {
      for (const [what, key, status, code] of cases) {
        const res = await atrium.request(method, path, { client: 'shop', key })
        assert.equal(res.status, status, `${what}: ${res.text}`)
        if (code) assert.equal(res.body.code, code, what)
      }
    })
  }

  await t.test('an unknown client is reported only to a caller with a valid key', async () => {
    assert.equal((await atrium.get('/schema/tables', { client: 'nope', key: null })).status, 401)
    const known = await atrium.get('/schema/tables', { client: 'nope', key: unbound.key })
    assert.equal(known.status, 400)
    assert.equal(known.body.code, 'unknown_client')
  })
})

test('security.protect.schema: public serves /schema/* without a key, even where enforcement is on', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_PROTECT_SCHEMA: 'public' } })
  assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', key: null, body: { table_name: 'customers' } })).status, 401, 'data routes still need a key')
  const writer = await createKey(atrium, { client_name: 'shop', rights: ['gateway.insert'] })
  for (const [method, path] of SCHEMA_ROUTES) {
    const anonymous = await atrium.request(method, path, { client: 'shop', key: null })
    assert.equal(anonymous.status, 200, `${method} ${path}: ${anonymous.text}`)
    assert.equal((await atrium.request(method, path, { client: 'shop', key: writer.key })).status, 200, 'keys are not looked at')
  }
  const tables = await atrium.get('/schema/tables', { client: 'shop', key: null })
  assert.ok(tables.body.tables.some((x: { table_name: string }) => x.table_name === 'customers'))
  const unknown = await atrium.get('/schema/tables', { client: 'nope', key: null })
  assert.equal(unknown.status, 400)
  assert.equal(unknown.body.code, 'unknown_client')
  const missing = await atrium.get('/schema/tables', { key: null })
  assert.equal(missing.body.code, 'missing_client_header')
})

test('GET / lists the routes only to callers who may read the registry', async (t) => {
  const atrium = await startTestAtrium(t)
  const reader = await createKey(atrium, { rights: ['schema.read'] })
  const writer = await createKey(atrium, { rights: ['gateway.insert'] })
  const cases: Array<[string, string | null, boolean]> = [
    ['no key', null, false],
    ['a key without schema.read', writer.key, false],
    ['an unknown key', 'ath_0123456789abcdef.' + 'C'.repeat(43), false],
    ['a key with schema.read', reader.key, true],
    ['the admin key', ADMIN_KEY, true],
  ]
  for (const [what, key, listed] of cases) {
    const res = await atrium.get('/', { key })
    assert.equal(res.status, 200, `${what}: GET / always answers`)
    assert.equal(res.body.athena_api, 'online')
    assert.equal(Array.isArray(res.body.routes), listed, `${what}: ${JSON.stringify(res.body).slice(0, 200)}`)
    const registry = await atrium.get('/router/registry', { key })
    assert.equal(registry.status === 200, listed, `${what}: /router/registry agrees (${registry.status})`)
  }
  const full = await atrium.get('/', { key: reader.key })
  assert.ok(full.body.routes.some((r: { path: string }) => r.path === '/gateway/fetch'))
})

test('GET / lists the routes to anyone when security.protect.registry is public', async (t) => {
  const atrium = await startTestAtrium(t, { env: { ATRIUM_PROTECT_REGISTRY: 'public' } })
  const res = await atrium.get('/', { key: null })
  assert.ok(res.body.routes.some((r: { path: string }) => r.path === '/router/registry'))
  assert.equal((await atrium.get('/router/registry', { key: null })).status, 200)
})

// The pool gauges of /metrics name every client, so by default it is guarded like the client list.
test('security.protect.metrics: key (the default) needs the admin key or a key with schema.read', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  // the pool gauge appears once the client's pool has connected
  assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'customers' } })).status, 200)
  const scraper = await createKey(atrium, { rights: ['schema.read'] })
  const bound = await createKey(atrium, { client_name: 'shop', rights: ['schema.read'] })
  const writer = await createKey(atrium, { rights: ['gateway.insert'] })
  const cases: Array<[string, string | null, number, string?]> = [
    ['no key', null, 401, 'missing_api_key'],
    ['a malformed key', 'not-a-key', 401, 'invalid_api_key'],
    ['an unknown key', 'ath_0123456789abcdef.' + 'C'.repeat(43), 401, 'invalid_api_key'],
    ['a key without schema.read', writer.key, 403, 'missing_right'],
    ['a key with schema.read', scraper.key, 200],
    ['a client-bound key with schema.read', bound.key, 200],
    ['the admin key', ADMIN_KEY, 200],
  ]
  for (const [what, key, status, code] of cases) {
    const res = await atrium.get('/metrics', { key })
    assert.equal(res.status, status, `${what}: ${res.text.slice(0, 200)}`)
    if (code) assert.equal(res.body.code, code, what)
    else assert.match(res.text, /athena_pool_connections\{source="shop",state="total"\} \d+/, what)
  }
  // Prometheus sends its credentials as a bearer token
  const bearer = await fetch(`${atrium.url}/metrics`, { headers: { authorization: `Bearer ${scraper.key}` } })
  assert.equal(bearer.status, 200)
  assert.match(await bearer.text(), /^athena_uptime_seconds \d/m)
})

test('security.protect.metrics: public serves /metrics without a key', async (t) => {
  const atrium = await startTestAtrium(t, { env: { ATRIUM_PROTECT_METRICS: 'public' } })
  const res = await atrium.get('/metrics', { key: null })
  assert.equal(res.status, 200, res.text)
  assert.match(res.text, /^athena_uptime_seconds \d/m)
  const writer = await createKey(atrium, { rights: ['gateway.insert'] })
  assert.equal((await atrium.get('/metrics', { key: writer.key })).status, 200, 'keys are not looked at')
})
