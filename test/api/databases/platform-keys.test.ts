// Platform keys (pk_live_…): shown once and stored hashed; GET /api/v1/me; the 401/403 grid (no key, bad key,
// missing scope, blocked IP, key expired by inactivity), requests_per_minute and monthly_quota (429).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createKey } from '../../helpers/auth-grid.js'
import { startDatabasesAtrium } from './helpers.js'

const ROUTES: Array<{ method: string; path: string; scope: string | null; body?: unknown }> = [
  { method: 'GET', path: '/api/v1/me', scope: null },
  { method: 'GET', path: '/api/v1/database_types', scope: 'databases:read' },
  { method: 'GET', path: '/api/v1/databases', scope: 'databases:read' },
  { method: 'GET', path: '/api/v1/databases/00000000-0000-4000-8000-000000000000', scope: 'databases:read' },
  { method: 'POST', path: '/api/v1/databases', scope: 'databases:write', body: { name: 'refused' } },
  { method: 'PATCH', path: '/api/v1/databases/00000000-0000-4000-8000-000000000000', scope: 'databases:write', body: { name: 'x' } },
  { method: 'PATCH', path: '/api/v1/databases/00000000-0000-4000-8000-000000000000/quotas', scope: 'databases:write', body: {} },
  { method: 'DELETE', path: '/api/v1/databases/00000000-0000-4000-8000-000000000000', scope: 'databases:write' },
]

test('platform keys: creation, /me, and the refusals', async (t) => {
  const atrium = await startDatabasesAtrium(t)

  await t.test('POST /admin/platform-keys needs the admin key', async () => {
    const body = { email: 'nobody@example.test' }
    const none = await atrium.post('/admin/platform-keys', { key: null, body })
    assert.equal(none.status, 401)
    const apiKey = await createKey(atrium, { rights: ['gateway.read'] })
    const keyed = await atrium.post('/admin/platform-keys', { key: apiKey.key, body })
    assert.equal(keyed.status, 403)
    assert.equal(keyed.body.code, 'admin_key_required')
    const bad = await atrium.post('/admin/platform-keys', { body: { email: 'x@example.test', scopes: ['databases:admin'] } })
    assert.equal(bad.status, 400)
  })

  const email = 'ada@example.test'
  const created = await atrium.post('/admin/platform-keys', { body: { email, user_name: 'Ada', name: 'ci', scopes: ['databases:read'], requests_per_minute: 100, monthly_quota: 1000, inactive_ttl_days: 30 } })
  assert.equal(created.status, 201, created.text)
  const key: string = created.body.data.key
  assert.match(key, /^pk_live_[0-9a-f]{64}$/)

  await t.test('the key is stored only as a hash, and the same e-mail keeps its user and team', async () => {
    const rows = await atrium.catalog.query<{ public_id: string; secret_hash: Buffer }>('SELECT public_id, secret_hash FROM atrium.platform_keys')
    assert.ok(rows.every((r) => !key.endsWith(r.secret_hash.toString('hex')) && r.secret_hash.length === 32))
    const dump = JSON.stringify(await atrium.catalog.query('SELECT * FROM atrium.platform_keys'))
    assert.ok(!dump.includes(key.slice(24)), 'no part of the secret is in the catalog')
    const again = await atrium.post('/admin/platform-keys', { body: { email: 'ADA@example.test' } })
    assert.equal(again.body.data.user.id, created.body.data.user.id)
    assert.equal(again.body.data.user.primary_team_id, created.body.data.user.primary_team_id)
  })

  await t.test('GET /api/v1/me shows the user and the key\'s controls, never the key', async () => {
    const res = await atrium.api('GET', '/api/v1/me', key)
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body.data.user, { object: 'user', name: 'Ada', email })
    const k = res.body.data.api_key
    assert.equal(k.name, 'ci')
    assert.deepEqual(k.permissions, ['databases:read'])
    assert.deepEqual(k.controls, { requests_per_minute: 100, monthly_quota: 1000, allowed_ip_list: [], inactive_ttl_days: 30 })
    assert.ok(!res.text.includes(key.slice(24)))
    assert.ok(key.startsWith(k.preview.replace('…', '')))
  })

  await t.test('no key is 401 missing_api_key and a wrong key 401 invalid_api_key, on every route', async () => {
    const gatewayKey = await createKey(atrium, { rights: ['*'] })
    for (const route of ROUTES) {
      const none = await atrium.api(route.method, route.path, null, { body: route.body })
      assert.equal(none.status, 401, `${route.method} ${route.path}`)
      assert.equal(none.body.error.code, 'missing_api_key')
      for (const wrong of [`${key.slice(0, -4)}0000`, 'pk_live_short', gatewayKey.key]) {
        const res = await atrium.api(route.method, route.path, wrong, { body: route.body })
        assert.equal(res.status, 401, `${route.method} ${route.path} with ${wrong.slice(0, 12)}`)
        assert.equal(res.body.error.code, 'invalid_api_key')
      }
    }
  })

  await t.test('a key without the route\'s scope is 403 missing_scope', async () => {
    const readOnly = (await atrium.createPlatformKey({ scopes: ['databases:read'] })).key
    const none = (await atrium.createPlatformKey({ scopes: ['blueprints:read'] })).key
    for (const route of ROUTES.filter((r) => r.scope)) {
      const res = await atrium.api(route.method, route.path, none, { body: route.body })
      assert.equal(res.status, 403, `${route.method} ${route.path}`)
      assert.equal(res.body.error.code, 'missing_scope')
      assert.equal(res.body.error.details.required_scope, route.scope)
      const withRead = await atrium.api(route.method, route.path, readOnly, { body: route.body })
      if (route.scope === 'databases:write') assert.equal(withRead.status, 403, `${route.method} ${route.path}`)
      else assert.notEqual(withRead.status, 403, `${route.method} ${route.path}`)
    }
  })

  await t.test('a key used from an address outside its allowed_ip_list is 403 ip_not_allowed', async () => {
    const blocked = (await atrium.createPlatformKey({ allowed_ip_list: ['10.9.8.7', '192.168.0.0/16'] })).key
    const res = await atrium.api('GET', '/api/v1/me', blocked)
    assert.equal(res.status, 403)
    assert.equal(res.body.error.code, 'ip_not_allowed')
    const allowed = (await atrium.createPlatformKey({ allowed_ip_list: ['127.0.0.0/8', '::1'] })).key
    assert.equal((await atrium.api('GET', '/api/v1/me', allowed)).status, 200)
  })

  await t.test('a key unused for longer than inactive_ttl_days is 403 inactive_key_expired', async () => {
    const stale = await atrium.createPlatformKey({ inactive_ttl_days: 2 })
    await atrium.catalog.query("UPDATE atrium.platform_keys SET created_at = now() - interval '3 days', last_used_at = now() - interval '3 days' WHERE public_id = $1", [stale.key.slice(8, 24)])
    const res = await atrium.api('GET', '/api/v1/me', stale.key)
    assert.equal(res.status, 403)
    assert.equal(res.body.error.code, 'inactive_key_expired')
    const fresh = await atrium.createPlatformKey({ inactive_ttl_days: 2 })
    assert.equal((await atrium.api('GET', '/api/v1/me', fresh.key)).status, 200)
  })

  await t.test('requests_per_minute: the request after the last allowed one is 429 with Retry-After', async () => {
    const limited = (await atrium.createPlatformKey({ requests_per_minute: 3 })).key
    const statuses: number[] = []
    let last
    for (let i = 0; i < 4; i++) {
      last = await atrium.api('GET', '/api/v1/me', limited)
      statuses.push(last.status)
    }
    assert.deepEqual(statuses, [200, 200, 200, 429])
    assert.equal(last!.body.error.code, 'rate_limited')
    const retryAfter = Number(last!.headers.get('retry-after'))
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`)
    // another key is not affected
    assert.equal((await atrium.api('GET', '/api/v1/me', key)).status, 200)
  })

  await t.test('monthly_quota: requests past it are 429 monthly_quota_exceeded until the month turns', async () => {
    const quota = (await atrium.createPlatformKey({ monthly_quota: 2 })).key
    assert.equal((await atrium.api('GET', '/api/v1/me', quota)).status, 200)
    assert.equal((await atrium.api('GET', '/api/v1/me', quota)).status, 200)
    const over = await atrium.api('GET', '/api/v1/me', quota)
    assert.equal(over.status, 429)
    assert.equal(over.body.error.code, 'monthly_quota_exceeded')
    assert.ok(Number(over.headers.get('retry-after')) >= 1)
  })

  await t.test('the refusals are admission events: scope, inactivity and quota, with the key\'s public id', async () => {
    const kinds = ['missing_scope', 'inactive_key_expired', 'monthly_quota_exceeded']
    let events: Array<{ kind: string; key_id: string | null; route: string; status: number }> = []
    for (let i = 0; i < 100; i++) {
      events = (await atrium.get(`/admin/admission-events?limit=500`)).body.data.events
      if (kinds.every((k) => events.some((e) => e.kind === k))) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    for (const kind of kinds) {
      const event = events.find((e) => e.kind === kind)
      assert.ok(event, `${kind} is recorded`)
      assert.match(event.key_id ?? '', /^[A-Za-z0-9]{16}$/, `${kind} names the key by its public id`)
      assert.equal(event.status, kind === 'monthly_quota_exceeded' ? 429 : 403)
    }
  })

  await t.test('the key never appears in the logs', async () => {
    assert.ok(!atrium.logs().includes(key.slice(24)))
  })
})
