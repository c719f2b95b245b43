// /api/connections, /api/auth/me and /api/settings: each user's own connections (sources in the one registry,
// credentials sealed and never returned) and settings; another user's are a 404 or simply not seen.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'
import { asUser, connectionConfig, JWT_SECRET, sessionToken } from '../../helpers/assistant.js'
import { createPgDatabase } from '../../helpers/databases.js'

test('Assistant connections, identity and settings', async (t) => {
  const pg = await createPgDatabase(t)
  await pg.load('shop')
  await pg.query(`CREATE ROLE assistant_reader_${pg.name.slice(-6)} LOGIN PASSWORD 's3cret-pa$$word'`)
  t.after(() => pg.query(`DROP ROLE IF EXISTS assistant_reader_${pg.name.slice(-6)}`).catch(() => {}))
  const atrium = await startTestAtrium(t, { env: { ATRIUM_JWT_SECRET: JWT_SECRET, ATRIUM_ASSISTANT_ALLOW_PRIVATE: 'true' } })
  const ada = asUser(atrium, await sessionToken('ada', 'ada@example.test'))
  const bob = asUser(atrium, await sessionToken('bob'))

  await t.test('create, then get with a live status; the password is sealed and never returned', async () => {
    const body = { name: 'warehouse', ...connectionConfig(pg) }
    body.config = { ...body.config, user: `assistant_reader_${pg.name.slice(-6)}`, password: 's3cret-pa$$word' } as never
    const created = await ada('POST', '/api/connections', body)
    assert.equal(created.status, 201, created.text)
    assert.deepEqual(created.body, { name: 'warehouse', provider: 'postgres', allow_writes: false, status: { state: 'ready' } })
    const got = await ada('GET', '/api/connections/warehouse')
    assert.equal(got.status, 200, got.text)
    assert.deepEqual(got.body, { name: 'warehouse', provider: 'PostgresConnection', allow_writes: false, status: { state: 'ready' } })
    for (const res of [created, got]) assert.ok(!res.text.includes('s3cret'), 'the password is never returned')
    // sealed in the catalog: the connection string is stored encrypted
    const rows = await atrium.catalog.query<{ pg_uri_encrypted: string }>(
      'SELECT c.pg_uri_encrypted FROM atrium.clients c JOIN atrium.assistant_connections a ON a.client_name = c.client_name WHERE a.name = $1', ['warehouse'])
    assert.equal(rows.length, 1)
    assert.match(rows[0].pg_uri_encrypted, /^v1\./)
    assert.ok(!rows[0].pg_uri_encrypted.includes('s3cret'))
    assert.ok(!atrium.logs().includes('s3cret'), 'nor logged')
  })

  await t.test('names are per user: the same name twice is a 409, another user may use it, and never sees ada\'s', async () => {
    const again = await ada('POST', '/api/connections', { name: 'warehouse', ...connectionConfig(pg) })
    assert.equal(again.status, 409, again.text)
    assert.equal(again.body.code, 'assistant_connection_exists')
    const bobsGet = await bob('GET', '/api/connections/warehouse')
    assert.equal(bobsGet.status, 404)
    assert.equal(bobsGet.body.code, 'assistant_connection_not_found')
    assert.equal((await bob('DELETE', '/api/connections/warehouse')).status, 404)
    const bobs = await bob('POST', '/api/connections', { name: 'warehouse', ...connectionConfig(pg) })
    assert.equal(bobs.status, 201, bobs.text)
    assert.equal((await ada('GET', '/api/connections/warehouse')).body.status.state, 'ready', 'ada\'s is untouched')
  })

  await t.test('a database that does not answer is status error with the reason', async () => {
    const body = { name: 'broken', ...connectionConfig(pg) }
    body.config = { ...body.config, database: 'no_such_database_here' } as never
    const res = await ada('POST', '/api/connections', body)
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.status.state, 'error')
    assert.match(res.body.status.reason, /no_such_database_here|does not exist/)
  })

  await t.test('bad input is a 400 naming the field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ name: 'x', provider: 'oracle', config: { host: 'h', database: 'd', user: 'u' } }, /provider/],
      [{ name: 'x', provider: 'postgres', config: { host: 'bad host/../', database: 'd', user: 'u' } }, /host/],
      [{ name: '../x', provider: 'postgres', config: { host: 'h', database: 'd', user: 'u' } }, /name/],
      [{ name: 'x', provider: 'postgres', config: { host: 'h', user: 'u' } }, /database/],
      [{ name: 'x', provider: 'postgres', config: { host: 'h', database: 'd', user: 'u', port: 70000 } }, /port/],
    ]
    for (const [body, field] of cases) {
      const res = await ada('POST', '/api/connections', body)
      assert.equal(res.status, 400, res.text)
      assert.match(res.text, field)
    }
  })

  await t.test('delete disconnects: the source leaves the registry and the name is free again', async () => {
    const res = await ada('DELETE', '/api/connections/broken')
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body, { status: 'disconnected' })
    assert.equal((await ada('GET', '/api/connections/broken')).status, 404)
    assert.equal((await ada('DELETE', '/api/connections/broken')).status, 404)
    const left = await atrium.catalog.query('SELECT 1 FROM atrium.assistant_connections WHERE name = $1', ['broken'])
    assert.equal(left.length, 0)
  })

  await t.test('GET /api/auth/me answers from the token', async () => {
    const res = await ada('GET', '/api/auth/me')
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body, { id: 'ada', email: 'ada@example.test', role: 'authenticated' })
    assert.equal((await asUser(atrium, null)('GET', '/api/auth/me')).status, 401)
  })

  await t.test('settings are per user', async () => {
    assert.deepEqual((await ada('GET', '/api/settings')).body, { user_id: 'ada', settings: {} })
    const put = await ada('PUT', '/api/settings', { settings: { theme: 'dark', rows: 50 } })
    assert.equal(put.status, 200, put.text)
    assert.deepEqual(put.body, { user_id: 'ada', settings: { theme: 'dark', rows: 50 } })
    assert.deepEqual((await ada('GET', '/api/settings')).body.settings, { theme: 'dark', rows: 50 })
    assert.deepEqual((await bob('GET', '/api/settings')).body, { user_id: 'bob', settings: {} })
    const replaced = await ada('PUT', '/api/settings', { settings: { theme: 'light' } })
    assert.deepEqual(replaced.body.settings, { theme: 'light' })
    assert.equal((await ada('PUT', '/api/settings', { settings: 'dark' })).status, 400)
    assert.equal((await ada('PUT', '/api/settings', { settings: { big: 'x'.repeat(20_000) } })).status, 400)
  })

  await t.test('unknown paths under /api answer in the family\'s shape; /api/v1 stays the Databases API\'s', async () => {
    const res = await ada('GET', '/api/nowhere')
    assert.equal(res.status, 404)
    assert.equal(res.body.code, 'route_not_found')
    assert.equal(typeof res.body.detail, 'string')
    const v1 = await atrium.get('/api/v1/me', { key: null })
    assert.equal(v1.status, 401)
    assert.equal(v1.body.error.code, 'missing_api_key')
  })
})
