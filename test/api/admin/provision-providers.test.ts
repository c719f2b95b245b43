import assert from 'node:assert/strict'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { createPgDatabase } from '../../helpers/databases.js'

interface Seen { method: string; path: string; auth: string | undefined; body: any }
type Handler = (req: Seen) => { status?: number; body: unknown }

/** a local HTTP server standing in for a provider's API: records each call, answers through `handle` */
async function startProvider(t: { after(fn: () => Promise<void>): void }, token: string, handle: Handler) {
  const seen: Seen[] = []
  const server = createServer((req: IncomingMessage, res) => {
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => { text += c })
    req.on('end', () => {
      const call: Seen = { method: req.method!, path: req.url!, auth: req.headers.authorization, body: text ? JSON.parse(text) : undefined }
      seen.push(call)
      const answer = call.auth === `Bearer ${token}` ? handle(call) : { status: 401, body: { message: 'authentication failed' } }
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(answer.body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections() }))
  return { seen, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

const auditExists = async (db: { query: (sql: string) => Promise<any[]> }) =>
  (await db.query("SELECT to_regclass('public.database_audit_log') IS NOT NULL AS ok"))[0].ok as boolean

test('provider routes speak Neon, Railway, Render and Supabase APIs', async (t) => {
  const [neonDb, neonDb2, railwayDb, renderDb] = await Promise.all([createPgDatabase(t), createPgDatabase(t), createPgDatabase(t), createPgDatabase(t)])

  // Neon API v2: projects, branches, databases, connection_uri
  const neon = await startProvider(t, 'neon-token', ({ method, path, body }) => {
    if (method === 'POST' && path === '/api/v2/projects') {
      return { status: 201, body: { project: { id: 'proj-new', name: body.project.name }, branch: { id: 'br-new' }, endpoints: [{ id: 'ep-new' }], connection_uris: [{ connection_uri: neonDb.url, connection_parameters: { database: 'neondb', role: 'neondb_owner' } }] } }
    }
    if (method === 'GET' && path === '/api/v2/projects/proj-old/branches') return { body: { branches: [{ id: 'br-dev', default: false }, { id: 'br-main', default: true }] } }
    if (method === 'GET' && path === '/api/v2/projects/proj-old/branches/br-main/databases') return { body: { databases: [{ id: 1, name: 'neondb', owner_name: 'neondb_owner' }] } }
    if (method === 'GET' && path === '/api/v2/projects/proj-old/connection_uri?branch_id=br-main&database_name=neondb&role_name=neondb_owner') return { body: { uri: neonDb2.url } }
    return { status: 404, body: { message: `not found: ${path}` } }
  })
  // Railway public GraphQL API: one endpoint, operations by name
  const railway = await startProvider(t, 'railway-token', ({ method, path, body }) => {
    if (method !== 'POST' || path !== '/graphql/v2') return { status: 404, body: { message: 'not found' } }
    const op = String(body.query).match(/^(?:query|mutation) (\w+)/)?.[1]
    if (op === 'projectCreate') return { body: { data: { projectCreate: { id: 'prj-1', environments: { edges: [{ node: { id: 'env-stage', name: 'staging' } }, { node: { id: 'env-prod', name: 'production' } }] } } } } }
    if (op === 'serviceCreate' && body.variables.input.source?.image && body.variables.input.projectId === 'prj-1') return { body: { data: { serviceCreate: { id: 'svc-1', name: body.variables.input.name } } } }
    if (op === 'variables' && body.variables.serviceId === 'svc-1' && body.variables.environmentId === 'env-prod') {
      return { body: { data: { variables: { DATABASE_URL: 'postgresql://postgres:x@postgres.railway.internal:5432/railway', DATABASE_PUBLIC_URL: railwayDb.url } } } }
    }
    if (op === 'project') return { body: { data: { project: { id: body.variables.id, environments: { edges: [{ node: { id: 'env-prod', name: 'production' } }] } } } } }
    return { body: { errors: [{ message: 'Not Authorized' }], data: null } }
  })
  // Render REST API v1: owners, postgres, connection-info
  const render = await startProvider(t, 'render-token', ({ method, path, body }) => {
    if (method === 'GET' && path === '/v1/owners?limit=1') return { body: [{ owner: { id: 'tea-1', name: 'team' }, cursor: 'c1' }] }
    if (method === 'POST' && path === '/v1/postgres' && body.ownerId === 'tea-1') return { status: 201, body: { id: 'dpg-1', name: body.name, plan: body.plan, version: body.version } }
    if (method === 'GET' && path === '/v1/postgres/dpg-1/connection-info') return { body: { password: 'x', internalConnectionString: 'postgresql://internal/x', externalConnectionString: renderDb.url, psqlCommand: 'psql' } }
    return { status: 404, body: { message: 'not found' } }
  })
  // Supabase Management API: ssl-enforcement
  const supabase = await startProvider(t, 'sbp-token', ({ method, path, body }) => {
    if (method === 'PUT' && path === '/v1/projects/abcdefghijklmnop/ssl-enforcement') return { body: { currentConfig: { database: body.requestedConfig.database }, appliedSuccessfully: true } }
    return { status: 404, body: { message: 'project not found' } }
  })

  const atrium = await startTestAtrium(t, {
    env: {
      ATRIUM_WEBHOOKS_ALLOW_PRIVATE: 'true',
      RENDER_API_KEY: 'render-token',
      ATRIUM_RAILWAY_GRAPHQL_URL: `${railway.base}/graphql/v2`,
      ATRIUM_SUPABASE_API_URL: supabase.base,
      SUPABASE_ACCESS_TOKEN: 'sbp-token',
    },
  })

  await t.test('Neon: a new project; its connection URI is provisioned and registered', async () => {
    const res = await atrium.post('/admin/provision/providers/neon', { body: { client_name: 'neon_new', api_key: 'neon-token', api_base_url: `${neon.base}/api/v2`, create_project_if_missing: true, project_name: 'shop' } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.provider, 'neon')
    assert.equal(res.body.registered, true)
    assert.equal(res.body.connection_uri, neonDb.url)
    assert.deepEqual(res.body.resources, { project_id: 'proj-new', branch_id: 'br-new', database_name: 'neondb', role_name: 'neondb_owner', endpoint_id: 'ep-new' })
    assert.deepEqual(neon.seen.at(-1)!.body, { project: { name: 'shop' } })
    assert.equal(await auditExists(neonDb), true)
    const q = await atrium.post('/gateway/query', { client: 'neon_new', body: { query: 'SELECT current_database() AS db' } })
    assert.equal(q.body.data[0].db, neonDb.name)
  })

  await t.test("Neon: an existing project's default branch, first database and its owner", async () => {
    const before = neon.seen.length
    const res = await atrium.post('/admin/provision/providers/neon', { body: { client_name: 'neon_old', api_key: 'neon-token', api_base_url: `${neon.base}/api/v2`, project_id: 'proj-old' } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.connection_uri, neonDb2.url)
    assert.deepEqual(neon.seen.slice(before).map((s) => s.path), ['/api/v2/projects/proj-old/branches', '/api/v2/projects/proj-old/branches/br-main/databases', '/api/v2/projects/proj-old/connection_uri?branch_id=br-main&database_name=neondb&role_name=neondb_owner'])
    assert.equal((await atrium.get('/admin/provision/status?client_name=neon_old')).body.provisioned, true)
  })

  await t.test("Neon: the provider's refusal is a 502 that names it; a missing token is a 400", async () => {
    const bad = await atrium.post('/admin/provision/providers/neon', { body: { client_name: 'neon_bad', api_key: 'wrong', api_base_url: `${neon.base}/api/v2`, project_id: 'proj-old' } })
    assert.equal(bad.status, 502)
    assert.equal(bad.body.code, 'provider_error')
    assert.match(bad.body.message, /Neon answered GET .* with 401: authentication failed/)
    assert.doesNotMatch(bad.text, /wrong/, 'the token is not echoed')
    const none = await atrium.post('/admin/provision/providers/neon', { body: { client_name: 'neon_bad', api_base_url: `${neon.base}/api/v2`, project_id: 'proj-old' } })
    assert.equal(none.status, 400)
    assert.equal(none.body.code, 'provider_credentials_missing')
    const nothing = await atrium.post('/admin/provision/providers/neon', { body: { client_name: 'neon_bad', api_key: 'neon-token', api_base_url: `${neon.base}/api/v2` } })
    assert.equal(nothing.status, 400)
    assert.match(nothing.body.message, /project_id/)
    const down = await atrium.post('/admin/provision/providers/neon', { body: { client_name: 'neon_bad', api_key: 'neon-token', api_base_url: 'http://127.0.0.1:9/api/v2', project_id: 'p' } })
    assert.equal(down.status, 503)
    assert.equal(down.body.code, 'provider_unavailable')
    assert.equal((await atrium.get('/admin/provision/status?client_name=neon_bad')).status, 400, 'nothing was registered')
  })

  await t.test('Railway: project, production environment and Postgres service created; DATABASE_PUBLIC_URL used (GraphQL URL from config)', async () => {
    const res = await atrium.post('/admin/provision/providers/railway', { body: { client_name: 'railway_db', api_key: 'railway-token', create_project_if_missing: true, create_service_if_missing: true, service_name: 'pg' } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.connection_uri, railwayDb.url)
    assert.deepEqual(res.body.resources, { project_id: 'prj-1', environment_id: 'env-prod', service_id: 'svc-1', plugin_id: null })
    const ops = railway.seen.map((s) => String(s.body.query).match(/^(?:query|mutation) (\w+)/)?.[1])
    assert.deepEqual(ops, ['projectCreate', 'serviceCreate', 'variables'])
    assert.equal(railway.seen[1]!.body.variables.input.name, 'pg')
    assert.equal(await auditExists(railwayDb), true)
  })

  await t.test('Railway: GraphQL errors are a 502 with the provider message', async () => {
    const res = await atrium.post('/admin/provision/providers/railway', { body: { client_name: 'railway_x', api_key: 'railway-token', graphql_url: `${railway.base}/graphql/v2`, project_id: 'prj-1', environment_id: 'env-prod', plugin_id: 'plg-unknown' } })
    assert.equal(res.status, 502, res.text)
    assert.match(res.body.message, /Not Authorized/)
  })

  await t.test('Render: a new Postgres in the first workspace; token from config', async () => {
    const res = await atrium.post('/admin/provision/providers/render', { body: { client_name: 'render_db', api_base_url: `${render.base}/v1`, create_service_if_missing: true, plan: 'basic_256mb', region: 'frankfurt', provision_schema: false, register_catalog: true } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.connection_uri, renderDb.url)
    assert.equal(res.body.provisioned, null)
    assert.deepEqual(res.body.resources, { service_id: 'dpg-1', owner_id: 'tea-1' })
    const created = render.seen.find((s) => s.method === 'POST')!
    assert.deepEqual(created.body, { name: 'render_db', ownerId: 'tea-1', plan: 'basic_256mb', version: '16', region: 'frankfurt' })
    assert.equal(created.auth, 'Bearer render-token')
    assert.equal(await auditExists(renderDb), false, 'provision_schema: false')
    assert.equal((await atrium.get('/admin/provision/status?client_name=render_db')).body.provisioned, false)
  })

  await t.test('connection_uri skips the provider API', async () => {
    const before = render.seen.length
    const res = await atrium.post('/admin/provision/providers/render', { body: { client_name: 'render_direct', connection_uri: renderDb.url } })
    assert.equal(res.status, 200, res.text)
    assert.equal(render.seen.length, before)
    assert.equal(await auditExists(renderDb), true)
  })

  await t.test('Supabase: SSL enforcement on and off, token and base URL from config', async () => {
    const on = await atrium.post('/api/v2/supabase/ssl_enforcement', { body: { enabled: true, project_ref: 'abcdefghijklmnop' } })
    assert.equal(on.status, 200, on.text)
    assert.equal(on.body.status, 'success')
    assert.deepEqual(on.body.data, { project_ref: 'abcdefghijklmnop', currentConfig: { database: true }, appliedSuccessfully: true })
    assert.deepEqual(supabase.seen.at(-1)!.body, { requestedConfig: { database: true } })
    const off = await atrium.post('/api/v2/supabase/ssl_enforcement', { body: { enabled: false, project_ref: 'abcdefghijklmnop', access_token: 'sbp-token' } })
    assert.equal(off.body.data.currentConfig.database, false)
    const noRef = await atrium.post('/api/v2/supabase/ssl_enforcement', { body: { enabled: true } })
    assert.equal(noRef.status, 400)
    assert.equal(noRef.body.code, 'provider_credentials_missing')
    const unknown = await atrium.post('/api/v2/supabase/ssl_enforcement', { body: { enabled: true, project_ref: 'zzzzzzzzzzzzzzzz' } })
    assert.equal(unknown.status, 502)
    const badRef = await atrium.post('/api/v2/supabase/ssl_enforcement', { body: { enabled: true, project_ref: '../../v1/x' } })
    assert.equal(badRef.status, 400)
    const noEnabled = await atrium.post('/api/v2/supabase/ssl_enforcement', { body: {} })
    assert.equal(noEnabled.status, 400)
  })

  await t.test('only the admin key calls providers', async () => {
    const { key } = await createKey(atrium, { rights: ['*'] })
    for (const path of ['/admin/provision/providers/neon', '/admin/provision/providers/railway', '/admin/provision/providers/render', '/api/v2/supabase/ssl_enforcement']) {
      const body = path.includes('supabase') ? { enabled: true } : { client_name: 'x' }
      assert.equal((await atrium.post(path, { key: null, body })).status, 401, `${path} without a key`)
      assert.equal((await atrium.post(path, { key, body })).status, 403, `${path} with an API key`)
    }
  })
})

test('provider URLs follow the webhook rule: internal addresses are refused unless allowed', async (t) => {
  const atrium = await startTestAtrium(t)
  const res = await atrium.post('/admin/provision/providers/neon', { body: { client_name: 'n', api_key: 'k', api_base_url: 'http://127.0.0.1:9/api/v2', project_id: 'p' } })
  assert.equal(res.status, 400)
  assert.equal(res.body.code, 'webhook_url_not_allowed')
  assert.match(res.body.message, /^api_base_url: /)
  const railway = await atrium.post('/admin/provision/providers/railway', { body: { client_name: 'n', api_key: 'k', graphql_url: 'http://10.1.2.3/graphql', project_id: 'p' } })
  assert.equal(railway.status, 400)
  assert.equal(railway.body.code, 'webhook_url_not_allowed')
  const scheme = await atrium.post('/admin/provision/providers/render', { body: { client_name: 'n', api_key: 'k', api_base_url: 'file:///etc/passwd', service_id: 'x' } })
  assert.equal(scheme.status, 400)
})
