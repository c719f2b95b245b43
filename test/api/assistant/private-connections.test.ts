// An Assistant connection is its owner's alone: the catalog client behind it answers as an unknown client to
// every other principal (an unbound API key with every right, the admin key) on every surface, and is left out
// of the client lists they see. And a connection may not point at an internal address unless allowed.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { asUser, connectionConfig, JWT_SECRET, sessionToken } from '../../helpers/assistant.js'
import { createKey } from '../../helpers/auth-grid.js'
import { createPgDatabase } from '../../helpers/databases.js'
import { GatewaySocket } from '../../helpers/gateway-socket.js'

test('an Assistant connection is reached only by its owner', async (t) => {
  const pg = await createPgDatabase(t)
  await pg.load('shop')
  const atrium = await startTestAtrium(t, { env: { ATRIUM_JWT_SECRET: JWT_SECRET, ATRIUM_ASSISTANT_ALLOW_PRIVATE: 'true' } })
  const ada = asUser(atrium, await sessionToken('ada'))
  assert.equal((await ada('POST', '/api/connections', { name: 'shop', ...connectionConfig(pg) })).status, 201)
  const rows = await atrium.catalog.query<{ client_name: string; owner_sub: string }>(
    'SELECT c.client_name, c.owner_sub FROM atrium.clients c JOIN atrium.assistant_connections a ON a.client_name = c.client_name WHERE a.name = $1', ['shop'])
  assert.equal(rows.length, 1)
  assert.equal(rows[0].owner_sub, 'ada', 'the client record names its owner')
  const client = rows[0].client_name
  const { key } = await createKey(atrium, { rights: ['*'] })

  await t.test('an unbound key with every right: /gateway/fetch, /gateway/query and /rest/v1 answer unknown_client', async () => {
    for (const [method, path, body] of [
      ['POST', '/gateway/fetch', { table_name: 'customers', columns: 'id' }],
      ['POST', '/gateway/query', { query: 'SELECT 1 AS one' }],
      ['GET', '/rest/v1/customers?select=id', undefined],
    ] as const) {
      for (const name of [client, client.toUpperCase()]) {
        const res = await atrium.request(method, path, { key, client: name, body })
        assert.equal(res.status, 400, `${method} ${path} as ${name}: ${res.text}`)
        assert.match(res.text, /unknown_client|unknown X-Athena-Client/, `${method} ${path}: ${res.text}`)
        assert.ok(!res.text.includes('Ada'), 'no row of the connection is returned')
      }
    }
  })

  await t.test('the admin key is refused too: it manages the client, it does not read the user\'s data', async () => {
    const res = await atrium.post('/gateway/fetch', { key: ADMIN_KEY, client, body: { table_name: 'customers', columns: 'id' } })
    assert.equal(res.status, 400, res.text)
    assert.match(res.text, /unknown_client|unknown X-Athena-Client/)
  })

  await t.test('a realtime subscribe for the connection\'s client is refused as for an unknown client', async () => {
    const socket = await GatewaySocket.open(atrium.url, { headers: { apikey: key } })
    t.after(() => socket.close())
    assert.equal((await socket.next((m) => m.type === 'ready', 'ready')).authenticated, true)
    const refused = await socket.request('subscribe', { table: 'customers' }, { client })
    assert.equal(refused.status, 400, JSON.stringify(refused))
    assert.equal(refused.body.code, 'unknown_client', JSON.stringify(refused))
    const fetched = await socket.request('gateway.fetch', { table_name: 'customers', limit: 10 }, { client })
    assert.equal(fetched.status, 400, JSON.stringify(fetched))
    assert.equal(fetched.body.code, 'unknown_client', JSON.stringify(fetched))
  })

  await t.test('client lists leave it out; /admin/clients shows it to the admin key, marked private', async () => {
    const listed = await atrium.get('/clients', { key })
    assert.equal(listed.status, 200, listed.text)
    assert.ok(!listed.body.clients.includes(client), JSON.stringify(listed.body))
    const admin = await atrium.get('/admin/clients')
    assert.equal(admin.status, 200, admin.text)
    assert.equal(admin.body.clients.find((c: any) => c.client_name === client)?.visibility, 'private')
    assert.equal(admin.body.runtime.find((c: any) => c.client_name === client)?.visibility, 'private')
    assert.ok(admin.body.runtime.every((c: any) => c.client_name === client || c.visibility === 'shared'))
  })

  await t.test('the owner still reaches it through /api', async () => {
    const res = await ada('POST', '/api/execute', { connection_id: 'shop', sql: 'SELECT count(*)::int AS n FROM customers' })
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body.results.rows, [[3]], res.text)
    const got = await ada('GET', '/api/connections/shop')
    assert.equal(got.status, 200, got.text)
    assert.equal(got.body.status.state, 'ready')
  })
})

test('a connection to an internal address is refused unless assistant.allowPrivateConnections', async (t) => {
  const pg = await createPgDatabase(t)
  const atrium = await startTestAtrium(t, { env: { ATRIUM_JWT_SECRET: JWT_SECRET } })
  const ada = asUser(atrium, await sessionToken('ada'))
  for (const host of ['127.0.0.1', 'localhost', '10.1.2.3', '169.254.169.254', '[::1]']) {
    const body = { name: 'probe', ...connectionConfig(pg) }
    body.config = { ...body.config, host }
    const res = await ada('POST', '/api/connections', body)
    assert.equal(res.status, 400, `${host}: ${res.text}`)
    assert.equal(res.body.code, 'assistant_connection_not_allowed', res.text)
    assert.match(res.body.detail ?? res.body.message, /loopback, private or link-local/)
  }
  const missing = await ada('POST', '/api/connections', { name: 'probe', ...connectionConfig(pg), config: { ...connectionConfig(pg).config, host: 'no-such-host.invalid' } })
  assert.equal(missing.status, 400, missing.text)
  assert.equal(missing.body.code, 'assistant_connection_not_allowed')
  // nothing was registered for the refused attempts
  assert.equal((await atrium.catalog.query('SELECT 1 FROM atrium.assistant_connections')).length, 0)
  assert.equal((await atrium.catalog.query('SELECT 1 FROM atrium.clients WHERE owner_sub IS NOT NULL')).length, 0)
})

test('a connection made while internal hosts were allowed is refused on use once they are not', async (t) => {
  const pg = await createPgDatabase(t)
  await pg.load('shop')
  const allowed = await startTestAtrium(t, { env: { ATRIUM_JWT_SECRET: JWT_SECRET, ATRIUM_ASSISTANT_ALLOW_PRIVATE: 'true' } })
  const ada = asUser(allowed, await sessionToken('ada'))
  assert.equal((await ada('POST', '/api/connections', { name: 'shop', ...connectionConfig(pg) })).status, 201)
  // a second server on the same catalog, with the default setting
  const strict = await startTestAtrium(t, { env: { ATRIUM_JWT_SECRET: JWT_SECRET }, catalog: allowed.catalog })
  const again = asUser(strict, await sessionToken('ada'))
  for (const [method, path, body] of [
    ['GET', '/api/connections/shop', undefined],
    ['POST', '/api/execute', { connection_id: 'shop', sql: 'SELECT 1 AS one' }],
  ] as const) {
    const res = await again(method, path, body)
    assert.equal(res.status, 400, `${method} ${path}: ${res.text}`)
    assert.equal(res.body.code, 'assistant_connection_not_allowed')
  }
})
