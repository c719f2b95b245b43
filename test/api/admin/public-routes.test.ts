import assert from 'node:assert/strict'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { forEachDialect } from '../../helpers/dialects.js'

const ROUTE = {
  route_key: 'early-customers',
  client_name: 'shop',
  operation: 'fetch',
  table_name: 'customers',
  columns: ['id', 'name', 'tier'],
  conditions: [{ column: 'id', operator: 'lte', value: 2 }],
  limit: 5,
}

const ids = (rows: Array<{ id: number }>) => rows.map((r) => r.id).sort()

forEachDialect('public routes', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, settings: { 'rateLimits.publicPerIp': 1000 } })
  const call = (path: string, headers?: Record<string, string>) => atrium.get(`/public/${ROUTE.route_key}/${path}`, { key: null, headers })

  await t.test('the admin key publishes a route; its record comes back as stored', async () => {
    const res = await atrium.post('/admin/public-routes', { body: ROUTE })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.status, 'success')
    const { route } = res.body.data
    assert.deepEqual({ ...route, created_at: undefined, updated_at: undefined }, { ...ROUTE, bucket: null, s3_id: null, prefix: null, rate_limit: null, description: null, enabled: true, created_at: undefined, updated_at: undefined })
    const again = await atrium.post('/admin/public-routes', { body: ROUTE })
    assert.equal(again.status, 409)
    assert.equal(again.body.code, 'public_route_exists')
    const list = await atrium.get('/admin/public-routes')
    assert.deepEqual(list.body.data.routes.map((r: { route_key: string }) => r.route_key), [ROUTE.route_key])
    const one = await atrium.get(`/admin/public-routes/${ROUTE.route_key}`)
    assert.equal(one.body.data.route.table_name, 'customers')
  })

  await t.test('what is published is checked against the client when it is published', async () => {
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ table_name: 'nope' }, 400, 'unknown_table'],
      [{ columns: ['id', 'secret'] }, 400, 'unknown_column'],
      [{ conditions: [{ eq_column: 'nope', eq_value: 1 }] }, 400, 'unknown_column'],
      [{ client_name: 'nowhere' }, 400, 'unknown_client'],
      [{ route_key: 'Not A Key' }, 400, 'invalid_request'],
      [{ operation: 'insert' }, 400, 'invalid_request'],
      [{ columns: [] }, 400, 'invalid_request'],
      [{ limit: 5000 }, 400, 'invalid_request'],
    ]
    for (const [change, status, code] of cases) {
      const res = await atrium.post('/admin/public-routes', { body: { ...ROUTE, route_key: 'checked', ...change } })
      assert.equal(res.status, status, `${JSON.stringify(change)}: ${res.text}`)
      assert.equal(res.body.code, code, JSON.stringify(change))
    }
    assert.equal((await atrium.get('/admin/public-routes/checked')).status, 404)
  })

  await t.test('the admin routes need the admin key: 401 without a key, 403 for an API key', async () => {
    const key = await createKey(atrium, { rights: ['gateway.read', 'schema.read'] })
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/admin/public-routes'], ['POST', '/admin/public-routes', ROUTE], ['GET', `/admin/public-routes/${ROUTE.route_key}`],
      ['PATCH', `/admin/public-routes/${ROUTE.route_key}`, { limit: 1 }], ['DELETE', `/admin/public-routes/${ROUTE.route_key}`],
    ]
    for (const [method, path, body] of routes) {
      const none = await atrium.request(method, path, { key: null, body })
      assert.equal(none.status, 401, `${method} ${path}`)
      assert.equal(none.body.code, 'missing_api_key')
      const apiKey = await atrium.request(method, path, { key: key.key, body })
      assert.equal(apiKey.status, 403, `${method} ${path}`)
      assert.equal(apiKey.body.code, 'admin_key_required')
    }
    assert.equal((await atrium.get(`/admin/public-routes/${ROUTE.route_key}`)).body.data.route.limit, 5, 'nothing changed')
  })

  await t.test('anyone calls it without a key: the published columns and rows, and their count', async () => {
    const res = await call('fetch')
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.status, 'success')
    assert.deepEqual(res.body.data.sort((a: { id: number }, b: { id: number }) => a.id - b.id), [{ id: 1, name: 'Ada', tier: 'gold' }, { id: 2, name: 'Grace', tier: null }])
    const count = await call('count')
    assert.equal(count.status, 200)
    assert.deepEqual(count.body.data, { count: 2, table_name: 'customers' })
  })

  await t.test('the caller narrows: a subset of columns, filters ANDed to the published ones, order, offset', async () => {
    const res = await call('fetch?select=name&order=id.desc&offset=1')
    assert.deepEqual(res.body.data, [{ name: 'Ada' }])
    const gold = await call('fetch?tier=eq.gold')
    assert.deepEqual(ids(gold.body.data), [1])
    // an or= group on published columns is ANDed too: it cannot reach a row the publication excludes
    const any = await call('fetch?or=(id.gt.0,tier.eq.silver)')
    assert.deepEqual(ids(any.body.data), [1, 2])
    const notAda = await call('count?not.and=(id.eq.1)')
    assert.equal(notAda.body.data.count, 1)
  })

  await t.test('every attempt to widen is refused or narrowed', async () => {
    const refused = [
      'fetch?select=email', 'fetch?select=*,orders(*)', 'fetch?select=id,email', 'fetch?select=name::text',
      'fetch?email=eq.ada@example.com', 'fetch?or=(email.eq.ada@example.com,id.gt.0)', 'fetch?order=email.asc',
      'fetch?table_name=orders', 'fetch?columns=email', 'fetch?on_conflict=id', 'fetch?orders.id=eq.1',
      'count?select=id', 'count?limit=1',
    ]
    for (const path of refused) {
      const res = await call(path)
      assert.equal(res.status, 400, `${path}: ${res.text}`)
      assert.equal(res.body.code, 'public_parameter_not_allowed', path)
      assert.ok(!res.text.includes('ada@example.com') || path.includes('ada'), 'no data leaks in the refusal')
    }
    // a limit above the published one is cut to it
    await atrium.request('PATCH', `/admin/public-routes/${ROUTE.route_key}`, { body: { limit: 1 } })
    const capped = await call('fetch?limit=500')
    assert.equal(capped.status, 200)
    assert.equal(capped.body.data.length, 1)
    // headers that shape other routes' reads reach nothing here: another client, a range, a profile
    const headers = await call('fetch', { 'x-athena-client': 'other', range: '0-100', 'accept-profile': 'information_schema', prefer: 'count=exact' })
    assert.equal(headers.status, 200, headers.text)
    assert.equal(headers.body.data.length, 1)
    await atrium.request('PATCH', `/admin/public-routes/${ROUTE.route_key}`, { body: { limit: 5 } })
  })

  await t.test('writes and unpublished operations on a fetch route are 405; nothing is written', async () => {
    for (const [method, path] of [['GET', 'insert'], ['GET', 'delete'], ['PUT', 'fetch'], ['POST', 'fetch'], ['DELETE', 'fetch'], ['PATCH', 'count']]) {
      const res = await atrium.request(method!, `/public/${ROUTE.route_key}/${path}`, { key: null, body: method === 'GET' ? undefined : { id: 99, name: 'intruder' } })
      assert.equal(res.status, 405, `${method} ${path}: ${res.text}`)
      assert.equal(res.body.code, 'public_operation_not_allowed')
    }
    assert.equal(Number(Object.values((await db.query('SELECT count(*) AS n FROM customers'))[0]!)[0]), 3)
  })

  await t.test('an unknown, disabled or withdrawn route is 404', async () => {
    const unknown = await atrium.get('/public/nothing-here/fetch', { key: null })
    assert.equal(unknown.status, 404)
    assert.equal(unknown.body.code, 'public_route_not_found')
    const weird = await atrium.get('/public/..%2Fadmin/fetch', { key: null })
    assert.equal(weird.status, 404)
    await atrium.request('PATCH', `/admin/public-routes/${ROUTE.route_key}`, { body: { enabled: false } })
    assert.equal((await call('fetch')).status, 404)
    await atrium.request('PATCH', `/admin/public-routes/${ROUTE.route_key}`, { body: { enabled: true } })
    assert.equal((await call('fetch')).status, 200)
  })

  await t.test('calls are limited per address: 429 with Retry-After', async () => {
    const limited = await atrium.post('/admin/public-routes', { body: { ...ROUTE, route_key: 'limited', rate_limit: 2 } })
    assert.equal(limited.status, 201, limited.text)
    let refusal
    for (let i = 0; i < 20 && !refusal; i++) {
      const res = await atrium.get('/public/limited/count', { key: null })
      if (res.status === 429) refusal = res
      else assert.equal(res.status, 200)
    }
    assert.ok(refusal, 'a call over the limit is refused')
    assert.equal(refusal.body.code, 'rate_limited')
    assert.ok(Number(refusal.headers.get('retry-after')) >= 1)
    // another route keeps its own count
    assert.equal((await call('count')).status, 200)
  })

  await t.test('DELETE withdraws a route', async () => {
    const res = await atrium.request('DELETE', `/admin/public-routes/${ROUTE.route_key}`)
    assert.equal(res.status, 200)
    assert.equal((await call('fetch')).status, 404)
    assert.equal((await atrium.request('DELETE', `/admin/public-routes/${ROUTE.route_key}`)).status, 404)
  })
})
