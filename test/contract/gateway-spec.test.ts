import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../helpers/atrium.js'
import { assertMatchesSpec } from '../helpers/athena-contract.js'
import { createPgDatabase } from '../helpers/databases.js'

// Every route whose response the gateway spec describes is called here and its body checked against
// the spec's schema, so drift from the contract fails CI.
test('responses match the schemas of the Athena gateway spec', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_CLUSTER_MIRRORS: 'http://127.0.0.1:9' } })

  const cases: Array<[string, string, string, Parameters<typeof atrium.request>[2]?]> = [
    ['GET', '/', '/'],
    ['GET', '/health/cluster', '/health/cluster'],
    ['GET', '/schema/clients', '/schema/clients'],
    ['GET', '/clients', '/clients'],
    ['GET', '/schema/tables', '/schema/tables', { client: 'shop' }],
    ['GET', '/schema/columns', '/schema/columns?table_name=orders', { client: 'shop' }],
    ['GET', '/schema/migrations', '/schema/migrations', { client: 'shop' }],
    ['GET', '/router/registry', '/router/registry'],
    ['GET', '/registry', '/registry'],
    ['GET', '/registry/{api_registry_id}', '/registry/post-gateway-fetch'],
    ['GET', '/wss/info', '/wss/info'],
    ['GET', '/admin/provision/status', '/admin/provision/status?client_name=shop'],
    ['POST', '/admin/provision', '/admin/provision', { body: { client_name: 'shop' } }],
  ]
  for (const [method, specPath, url, opts] of cases) {
    await t.test(`${method} ${specPath}`, async () => {
      const res = await atrium.request(method, url, opts)
      assert.equal(res.status, 200, JSON.stringify(res.body))
      assert.ok(await assertMatchesSpec(method, specPath, 200, res.body), `${specPath} has a response schema in the spec`)
    })
  }

  await t.test('an unreachable mirror is reported offline, within the schema', async () => {
    const res = await atrium.get('/health/cluster')
    assert.equal(res.body.mirrors[0].status, 'offline')
    assert.equal(res.body.mirrors[0].latency_ms, null)
  })
})
