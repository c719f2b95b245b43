// GET /registry, /registry/{api_registry_id} and /router/registry: every operation of every family, from the
// same route definitions as the OpenAPI document, protected like the route listing.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parse as parseYaml } from 'yaml'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { createPgDatabase } from '../../helpers/databases.js'

test('the API registry', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })

  await t.test('401 without a key, 403 for a key without schema.read, 200 with it', async () => {
    const { key: writer } = await createKey(atrium, { rights: ['gateway.insert'] })
    const { key: reader } = await createKey(atrium, { rights: ['schema.read'] })
    for (const path of ['/registry', '/registry/post-gateway-fetch', '/router/registry']) {
      const none = await atrium.get(path, { key: null })
      assert.equal(none.status, 401, `${path}: ${none.text}`)
      assert.equal(none.body.code, 'missing_api_key')
      const refused = await atrium.get(path, { key: writer })
      assert.equal(refused.status, 403, `${path}: ${refused.text}`)
      assert.equal(refused.body.code, 'missing_right')
      assert.equal((await atrium.get(path, { key: reader })).status, 200, path)
    }
  })

  await t.test('every operation is listed once, with its rights; the OpenAPI document has each of them', async () => {
    const registry = await atrium.get('/registry')
    assert.equal(registry.status, 200, registry.text)
    const entries = registry.body as Array<{ api_registry_id: string; method: string; path: string; operation: string | null; access: string; rights: string[]; summary: string }>
    const ids = entries.map((e) => e.api_registry_id)
    assert.equal(new Set(ids).size, ids.length, 'ids are unique')
    const byId = new Map(entries.map((e) => [e.api_registry_id, e]))
    assert.deepEqual(byId.get('post-gateway-fetch'), {
      api_registry_id: 'post-gateway-fetch', method: 'POST', path: '/gateway/fetch', operation: 'gateway.fetch', access: 'client', rights: ['gateway.read'], summary: 'Fetch data with conditions',
    })
    assert.deepEqual(byId.get('put-gateway-insert')?.rights, ['gateway.insert', 'gateway.update'])
    assert.deepEqual(byId.get('delete-management-tables-table_name')?.rights, ['management.tables.drop'])
    assert.deepEqual(byId.get('get-admin-jobs')?.rights, [])
    assert.equal(byId.get('get-admin-jobs')?.access, 'admin')
    assert.equal(byId.get('get-wss-gateway')?.operation, 'realtime.gateway')
    assert.ok(byId.get('get-wss-gateway')?.rights.includes('gateway.read'))
    assert.deepEqual(byId.get('get-ping')?.rights, [])
    assert.ok(byId.has('get-registry-api_registry_id'))

    // GET / and /registry come from the same catalog: every method of every listed path is an entry
    const root = await atrium.get('/')
    for (const route of root.body.routes as Array<{ path: string; methods: string[] }>) {
      for (const method of route.methods) assert.ok(entries.some((e) => e.path === route.path && e.method === method), `${method} ${route.path} is in /registry`)
    }
    // and so does the OpenAPI document (which shows a HEAD that Fastify adds beside a GET under the GET)
    const doc = parseYaml((await atrium.get('/openapi.yaml')).text)
    for (const e of entries) {
      const item = doc.paths[e.path]
      assert.ok(item?.[e.method.toLowerCase()] ?? (e.method === 'HEAD' ? item?.get : undefined), `${e.method} ${e.path} is in /openapi.yaml`)
    }
    // a data route always names the rights it needs
    for (const e of entries.filter((x) => x.access === 'client' || x.access === 'client-in-body')) {
      assert.ok(e.rights.length > 0, `${e.method} ${e.path} (${e.operation}) names its rights`)
    }
  })

  await t.test('GET /registry/{api_registry_id} answers the entry in an array, or a 404 that says where to look', async () => {
    const one = await atrium.get('/registry/post-gateway-fetch')
    assert.equal(one.status, 200)
    assert.equal(one.body.length, 1)
    assert.equal(one.body[0].path, '/gateway/fetch')
    const missing = await atrium.get('/registry/post-nowhere')
    assert.equal(missing.status, 404)
    assert.equal(missing.body.code, 'registry_entry_not_found')
    assert.match(missing.body.hint, /GET \/registry/)
  })

  await t.test('/router/registry lists each path with its operations', async () => {
    const res = await atrium.get('/router/registry')
    const rest = res.body.find((r: { path: string }) => r.path === '/rest/v1/{table}')
    assert.ok(rest, res.text)
    const methods = rest.operations.map((o: { method: string }) => o.method).sort()
    assert.deepEqual(methods, [...rest.methods].sort())
    const patch = rest.operations.find((o: { method: string }) => o.method === 'PATCH')
    assert.equal(patch.operation, 'rest.update')
    assert.deepEqual(patch.rights, ['gateway.update'])
  })
})
