import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileErrors, validate } from '@readme/openapi-parser'
import { parse as parseYaml } from 'yaml'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { createMysqlDatabase, createPgDatabase } from '../../helpers/databases.js'

test('system routes over a PostgreSQL and a MariaDB source', async (t) => {
  const pg = await createPgDatabase(t)
  const my = await createMysqlDatabase(t)
  await pg.load('shop')
  await my.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: pg.url, myshop: my.url } })

  await t.test('GET /ping answers pong as text', async () => {
    const res = await atrium.get('/ping', { key: null })
    assert.equal(res.status, 200)
    assert.equal(res.text, 'pong')
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/)
  })

  await t.test('every response carries x-request-id and honours an incoming one', async () => {
    const own = await atrium.get('/ping', { key: null })
    assert.match(own.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/)
    const given = await atrium.get('/ping', { key: null, headers: { 'x-request-id': 'trace-42' } })
    assert.equal(given.headers.get('x-request-id'), 'trace-42')
  })

  await t.test('GET / lists the routes the router really has (to callers who may read the registry)', async () => {
    const res = await atrium.get('/')
    assert.equal(res.status, 200)
    assert.equal(res.body.athena_api, 'online')
    assert.equal(res.body.athena_deadpool, 'online')
    const paths = res.body.routes.map((r: { path: string }) => r.path)
    for (const p of ['/ping', '/health', '/schema/tables', '/schema/columns', '/metrics', '/openapi.yaml']) assert.ok(paths.includes(p), `${p} listed`)
  })

  await t.test('GET /health reports the catalog', async () => {
    const res = await atrium.get('/health', { key: null })
    assert.equal(res.status, 200)
    assert.equal(res.body.status, 'ok')
    assert.equal(res.body.checks.catalog.status, 'ok')
  })

  for (const client of ['shop', 'myshop']) {
    await t.test(`GET /schema/tables and /schema/columns on ${client}`, async () => {
      const tables = await atrium.get('/schema/tables', { client })
      assert.equal(tables.status, 200)
      const names = tables.body.tables.map((x: { table_name: string }) => x.table_name).sort()
      assert.deepEqual(names, ['customers', 'messages', 'order_items', 'orders', 'paid_orders', 'products', 'sentinel'])
      assert.equal(tables.body.tables.find((x: { table_name: string }) => x.table_name === 'paid_orders').table_type, 'VIEW')

      const cols = await atrium.get('/schema/columns?table_name=customers', { client })
      assert.equal(cols.status, 200)
      const byName = Object.fromEntries(cols.body.columns.map((c: { column_name: string }) => [c.column_name, c]))
      assert.deepEqual(Object.keys(byName), ['id', 'name', 'email', 'tier', 'created_at'])
      assert.equal(byName.name.is_nullable, 'NO')
      assert.equal(byName.tier.is_nullable, 'YES')
      assert.match(byName.id.data_type, /bigint/)

      const missing = await atrium.get('/schema/columns?table_name=nope', { client })
      assert.equal(missing.status, 400)
      assert.equal(missing.body.code, 'unknown_table')
      assert.match(missing.body.message, /nope/)
    })
  }

  await t.test('X-Athena-Client missing or unknown is a 400 with the documented code', async () => {
    const missing = await atrium.get('/schema/tables')
    assert.equal(missing.status, 400)
    assert.equal(missing.body.status, 'error')
    assert.equal(missing.body.code, 'missing_client_header')
    const unknown = await atrium.get('/schema/tables', { client: 'nope' })
    assert.equal(unknown.status, 400)
    assert.equal(unknown.body.code, 'unknown_client')
    assert.match(unknown.body.message, /nope/)
  })

  await t.test('GET /schema/migrations: empty with a message when the table is absent, rows when present', async () => {
    const absent = await atrium.get('/schema/migrations', { client: 'shop' })
    assert.equal(absent.status, 200)
    assert.deepEqual(absent.body.migrations, [])
    assert.match(absent.body.message, /does not exist/)
    await pg.query(`CREATE SCHEMA supabase_migrations; CREATE TABLE supabase_migrations.schema_migrations (version text PRIMARY KEY, name text);
      INSERT INTO supabase_migrations.schema_migrations VALUES ('20240101000000', 'init'), ('20240202000000', 'orders')`)
    const present = await atrium.get('/schema/migrations', { client: 'shop' })
    assert.deepEqual(present.body.migrations, [{ version: '20240101000000', name: 'init' }, { version: '20240202000000', name: 'orders' }])
    assert.equal(present.body.message, undefined)
  })

  await t.test('/clients and /schema/clients need the admin key', async () => {
    const anonymous = await atrium.get('/clients', { key: null })
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.body.code, 'missing_api_key')
    const wrong = await atrium.get('/schema/clients', { key: 'not-the-key' })
    assert.equal(wrong.status, 401)
    const ok = await atrium.get('/clients')
    assert.equal(ok.status, 200)
    assert.deepEqual(ok.body.clients, ['myshop', 'shop'])
    const bearer = await atrium.get('/clients', { key: null, headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    assert.equal(bearer.status, 200)
  })

  await t.test('unknown routes answer a JSON 404 in the gateway envelope', async () => {
    const res = await atrium.get('/no/such/route', { key: null })
    assert.equal(res.status, 404)
    assert.equal(res.body.status, 'error')
    assert.equal(res.body.code, 'route_not_found')
  })

  await t.test('GET /metrics exposes uptime, request counters and pool gauges', async () => {
    const res = await atrium.get('/metrics')
    assert.equal(res.status, 200)
    assert.match(res.text, /^athena_uptime_seconds \d/m)
    assert.match(res.text, /athena_http_requests_total\{route="\/ping",method="GET",status="200"\} \d+/)
    assert.match(res.text, /athena_pool_connections\{source="shop",state="total"\} \d+/)
    // the latency histogram: cumulative buckets ending at +Inf, which counts what _count and the counter count
    const ping = (metric: string, extra = '') => Number(new RegExp(`^${metric}\\{route="/ping",method="GET",status="200"${extra}\\} (\\S+)$`, 'm').exec(res.text)?.[1])
    const buckets = ['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']
      .map((le) => ping('athena_http_request_duration_seconds_bucket', `,le="${le.replace('+', '\\+')}"`))
    assert.ok(buckets.every((n, i) => Number.isInteger(n) && (i === 0 || n >= buckets[i - 1])), `cumulative buckets: ${buckets}`)
    const count = ping('athena_http_request_duration_seconds_count')
    assert.ok(count >= 1)
    assert.equal(buckets.at(-1), count)
    assert.equal(ping('athena_http_requests_total'), count)
    assert.ok(ping('athena_http_request_duration_seconds_sum') > 0)
    assert.match(res.text, /^# TYPE athena_http_request_duration_seconds histogram$/m)
  })

  await t.test('each route, method and status is its own series', async () => {
    const counts = async () => {
      const text = (await atrium.get('/metrics')).text
      const count = (route: string, method: string, status: number) =>
        Number(new RegExp(`^athena_http_requests_total\\{route="${route}",method="${method}",status="${status}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0)
      return [count('/clients', 'GET', 200), count('/clients', 'GET', 401), count('/ping', 'GET', 200)]
    }
    const before = await counts()
    for (let i = 0; i < 3; i++) assert.equal((await atrium.get('/clients')).status, 200)
    for (let i = 0; i < 2; i++) assert.equal((await atrium.get('/clients', { key: null })).status, 401)
    assert.equal((await atrium.get('/ping', { key: null })).status, 200)
    const after = await counts()
    assert.deepEqual(after.map((n, i) => n - before[i]), [3, 2, 1])
  })

  await t.test('GET /openapi.yaml is valid OpenAPI 3 and lists every route', async () => {
    const res = await atrium.get('/openapi.yaml', { key: null })
    assert.equal(res.status, 200)
    const doc = parseYaml(res.text)
    assert.equal(doc.openapi, '3.0.3')
    const result = await validate(structuredClone(doc))
    assert.ok(result.valid, result.valid ? '' : compileErrors(result))
    const root = await atrium.get('/')
    for (const route of root.body.routes as Array<{ path: string; methods: string[] }>) {
      const item = doc.paths[route.path]
      assert.ok(item, `${route.path} is in the OpenAPI document`)
      for (const m of route.methods.filter((x) => x !== 'HEAD')) assert.ok(item[m.toLowerCase()], `${m} ${route.path} documented`)
    }
  })

  await t.test('GET /docs serves an API reference page', async () => {
    const res = await fetch(`${atrium.url}/docs/`, { redirect: 'follow' })
    assert.equal(res.status, 200)
    assert.match(await res.text(), /swagger-ui/i)
  })

  await t.test('GET /openapi-wss.yaml and /wss/info describe the WebSocket gateway', async () => {
    const doc = parseYaml((await atrium.get('/openapi-wss.yaml', { key: null })).text)
    assert.ok(doc.paths['/wss/gateway'])
    assert.ok(doc.components.schemas.ClientMessage.properties.action.enum.includes('gateway.fetch'))
    const info = await atrium.get('/wss/info', { key: null })
    assert.equal(info.body.data.state, 'available')
    assert.equal(info.body.data.path, '/wss/gateway')
  })
})
