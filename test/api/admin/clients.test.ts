import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertMatchesSpec } from '../../helpers/athena-contract.js'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createMysqlDatabase, createPgDatabase } from '../../helpers/databases.js'

// Catalog clients through /admin/clients: create, list (with the runtime view), update, freeze, soft delete.
test('/admin/clients', async (t) => {
  const configured = await createPgDatabase(t)
  await configured.load('shop')
  const extra = await createPgDatabase(t)
  await extra.load('shop')
  const maria = await createMysqlDatabase(t)
  await maria.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: configured.url } })
  // trust authentication ignores the password, which lets the test check it never comes back
  const extraUrl = extra.url.replace('postgres@', 'postgres:s3cret-pw@')
  const fetchCustomers = (client: string) => atrium.post('/gateway/fetch', { client, body: { table_name: 'customers', columns: 'id', conditions: [{ eq_column: 'id', eq_value: 1 }] } })
  const insertSentinel = (client: string, id: number) => atrium.request('PUT', '/gateway/insert', { client, body: { table_name: 'sentinel', insert_body: { id, label: 'x' } } })

  await t.test('every admin catalog route answers 401 without the admin key', async () => {
    const routes: Array<[string, string]> = [
      ['GET', '/admin/clients'], ['POST', '/admin/clients'], ['PATCH', '/admin/clients/extra'], ['DELETE', '/admin/clients/extra'],
      ['PUT', '/admin/clients/extra/freeze'], ['GET', '/admin/clients/statistics'], ['POST', '/admin/clients/statistics/refresh'],
      ['GET', '/admin/clients/extra/statistics'], ['GET', '/admin/vacuum-health'], ['GET', '/admin/vacuum-health/extra'],
      ['POST', '/admin/vacuum-health/collect'], ['POST', '/admin/clients/extra/audit-log'],
    ]
    for (const [method, path] of routes) {
      const body = method === 'GET' ? undefined : {}
      const none = await atrium.request(method, path, { key: null, body })
      assert.equal(none.status, 401, `${method} ${path} without a key`)
      assert.equal(none.body.code, 'missing_api_key')
      const wrong = await atrium.request(method, path, { key: 'not-the-admin-key-at-all', body })
      assert.equal(wrong.status, 401, `${method} ${path} with a wrong key`)
    }
  })

  await t.test('POST creates a client that serves requests at once; the password is never returned or stored in clear', async () => {
    const res = await atrium.post('/admin/clients', { body: { client_name: 'extra', description: 'second shop', pg_uri: extraUrl } })
    assert.equal(res.status, 201, res.text)
    await assertMatchesSpec('POST', '/admin/clients', 201, res.body)
    assert.equal(res.body.client.client_name, 'extra')
    assert.equal(res.body.client.source, 'database')
    assert.equal(res.body.client.is_frozen, false)
    assert.ok(!res.text.includes('s3cret-pw'), 'the password is masked')
    assert.match(res.body.client.pg_uri, /^postgres:\/\/postgres:\*\*\*\*@127\.0\.0\.1:5432\//)
    const [row] = await atrium.catalog.query<{ pg_uri_encrypted: string }>("SELECT pg_uri_encrypted FROM atrium.clients WHERE client_name = 'extra'")
    assert.ok(row.pg_uri_encrypted.startsWith('v1.'))
    assert.ok(!row.pg_uri_encrypted.includes('s3cret') && !row.pg_uri_encrypted.includes('127.0.0.1'))
    const fetched = await fetchCustomers('extra')
    assert.equal(fetched.status, 200, fetched.text)
    assert.deepEqual(fetched.body.data, [{ id: 1 }])
  })

  await t.test('a MySQL client works the same way', async () => {
    const res = await atrium.post('/admin/clients', { body: { client_name: 'maria', pg_uri: maria.url } })
    assert.equal(res.status, 201, res.text)
    const fetched = await fetchCustomers('maria')
    assert.equal(fetched.status, 200, fetched.text)
    assert.deepEqual(fetched.body.data, [{ id: 1 }])
  })

  await t.test('a client can point at an environment variable instead of a stored URL', async () => {
    process.env.ATRIUM_TEST_CLIENT_URL = extra.url
    t.after(() => { delete process.env.ATRIUM_TEST_CLIENT_URL })
    const res = await atrium.post('/admin/clients', { body: { client_name: 'from_env', pg_uri_env_var: 'ATRIUM_TEST_CLIENT_URL' } })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.client.pg_uri, null)
    assert.equal(res.body.client.pg_uri_env_var, 'ATRIUM_TEST_CLIENT_URL')
    assert.equal((await fetchCustomers('from_env')).status, 200)
    const unset = await atrium.post('/admin/clients', { body: { client_name: 'env_unset', pg_uri_env_var: 'ATRIUM_TEST_NOT_SET_ANYWHERE' } })
    assert.equal(unset.status, 400)
    assert.match(unset.body.message, /ATRIUM_TEST_NOT_SET_ANYWHERE is not set/)
  })

  await t.test('GET lists catalog records and the runtime view, configured sources as source "config"', async () => {
    const res = await atrium.get('/admin/clients')
    assert.equal(res.status, 200)
    await assertMatchesSpec('GET', '/admin/clients', 200, res.body)
    assert.deepEqual(res.body.clients.map((c: { client_name: string }) => c.client_name), ['extra', 'from_env', 'maria'])
    const runtime = new Map(res.body.runtime.map((r: { client_name: string }) => [r.client_name, r]))
    assert.equal((runtime.get('shop') as { source: string }).source, 'config')
    assert.equal((runtime.get('extra') as { source: string }).source, 'database')
    assert.equal((runtime.get('extra') as { pool_connected: boolean }).pool_connected, true, 'extra has served a request')
    assert.ok(!res.text.includes('s3cret-pw'))
  })

  await t.test('invalid input is a 400 that names the problem, never a 500', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ client_name: 'Bad Name', pg_uri: extra.url }, /client_name/],
      [{ client_name: 'x'.repeat(70), pg_uri: extra.url }, /client_name|body/],
      [{ client_name: 'nourl' }, /pg_uri or pg_uri_env_var/],
      [{ client_name: 'badurl', pg_uri: 'http://secret-host/db' }, /pg_uri must be/],
      [{ client_name: 'badurl', pg_uri: 'not a url' }, /pg_uri must be/],
      [{ client_name: 'both', pg_uri: extra.url, pg_uri_env_var: 'X' }, /either/],
      [{ client_name: 'envbad', pg_uri_env_var: 'NOT-A-NAME' }, /environment variable name/],
      [{ client_name: 'extra2', pg_uri: extra.url, unknown_field: 1 }, /unknown_field/],
      [{ client_name: { a: 1 }, pg_uri: extra.url }, /client_name/],
    ]
    for (const [body, message] of cases) {
      const res = await atrium.post('/admin/clients', { body })
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`)
      assert.match(res.body.message, message)
      assert.ok(!res.text.includes('secret-host'), 'a rejected URL is not echoed')
    }
    assert.equal((await atrium.post('/admin/clients', { raw: '{not json', headers: { 'content-type': 'application/json' } })).status, 400)
  })

  await t.test('names already taken are 409 client_exists', async () => {
    const again = await atrium.post('/admin/clients', { body: { client_name: 'extra', pg_uri: extra.url } })
    assert.equal(again.status, 409)
    assert.equal(again.body.code, 'client_exists')
    const configuredName = await atrium.post('/admin/clients', { body: { client_name: 'shop', pg_uri: extra.url } })
    assert.equal(configuredName.status, 409)
    assert.equal(configuredName.body.code, 'client_exists')
  })

  await t.test('configured sources are read-only through this API (409 read_only_client)', async () => {
    for (const [method, path, body] of [
      ['PATCH', '/admin/clients/shop', { description: 'x' }],
      ['DELETE', '/admin/clients/shop', undefined],
      ['PUT', '/admin/clients/shop/freeze', { is_frozen: true }],
    ] as const) {
      const res = await atrium.request(method, path, { body })
      assert.equal(res.status, 409, `${method} ${path}`)
      assert.equal(res.body.code, 'read_only_client')
    }
    assert.equal((await insertSentinel('shop', 900)).status, 200, 'shop still accepts writes')
  })

  await t.test('PATCH updates the record; renames are refused; unknown clients are 404', async () => {
    const res = await atrium.request('PATCH', '/admin/clients/extra', { body: { description: 'renamed shop' } })
    assert.equal(res.status, 200, res.text)
    await assertMatchesSpec('PATCH', '/admin/clients/{client_name}', 200, res.body)
    assert.equal(res.body.client.description, 'renamed shop')
    assert.ok(res.body.client.updated_at > res.body.client.created_at)
    const rename = await atrium.request('PATCH', '/admin/clients/extra', { body: { client_name: 'other' } })
    assert.equal(rename.status, 400)
    assert.match(rename.body.message, /renamed/)
    const missing = await atrium.request('PATCH', '/admin/clients/nobody', { body: { description: 'x' } })
    assert.equal(missing.status, 404)
    assert.equal(missing.body.code, 'client_not_found')
    const badName = await atrium.request('PATCH', '/admin/clients/NOT%20VALID', { body: { description: 'x' } })
    assert.equal(badName.status, 400)
  })

  await t.test('PATCH with is_active false takes the client out of service; true brings it back', async () => {
    assert.equal((await atrium.request('PATCH', '/admin/clients/from_env', { body: { is_active: false } })).status, 200)
    const off = await fetchCustomers('from_env')
    assert.equal(off.status, 400)
    assert.equal(off.body.code, 'unknown_client')
    assert.equal((await atrium.request('PATCH', '/admin/clients/from_env', { body: { is_active: true } })).status, 200)
    assert.equal((await fetchCustomers('from_env')).status, 200)
  })

  await t.test('freeze: reads are served, writes, raw SQL writes and DDL are refused with 423; unfreeze restores writes', async () => {
    const frozen = await atrium.request('PUT', '/admin/clients/extra/freeze', { body: { is_frozen: true } })
    assert.equal(frozen.status, 200, frozen.text)
    await assertMatchesSpec('PUT', '/admin/clients/{client_name}/freeze', 200, frozen.body)
    assert.equal(frozen.body.client.is_frozen, true)
    assert.equal((await fetchCustomers('extra')).status, 200)
    const write = await insertSentinel('extra', 901)
    assert.equal(write.status, 423)
    assert.equal(write.body.code, 'client_frozen')
    const sql = await atrium.post('/gateway/query', { client: 'extra', body: { query: 'DELETE FROM sentinel' } })
    assert.equal(sql.status, 423)
    const ddl = await atrium.post('/management/tables', { client: 'extra', body: { table_name: 'while_frozen' } })
    assert.equal(ddl.status, 423)
    assert.equal(ddl.body.code, 'client_frozen')
    const listed = await atrium.get('/admin/clients')
    assert.equal(listed.body.runtime.find((r: { client_name: string }) => r.client_name === 'extra').is_frozen, true)
    assert.equal((await atrium.request('PUT', '/admin/clients/extra/freeze', { body: { is_frozen: false } })).body.client.is_frozen, false)
    assert.equal((await insertSentinel('extra', 902)).status, 200)
    const bad = await atrium.request('PUT', '/admin/clients/extra/freeze', { body: { is_frozen: 'yes please' } })
    assert.equal(bad.status, 400)
    assert.equal((await atrium.request('PUT', '/admin/clients/nobody/freeze', { body: { is_frozen: true } })).status, 404)
  })

  await t.test('DELETE soft-deletes: the record keeps deleted_at, the client stops serving, the name can be reused', async () => {
    const res = await atrium.request('DELETE', '/admin/clients/extra')
    assert.equal(res.status, 200, res.text)
    await assertMatchesSpec('DELETE', '/admin/clients/{client_name}', 200, res.body)
    assert.ok(res.body.client.deleted_at)
    const [row] = await atrium.catalog.query<{ n: string }>("SELECT count(*) AS n FROM atrium.clients WHERE client_name = 'extra' AND deleted_at IS NOT NULL")
    assert.equal(Number(row.n), 1)
    assert.equal((await fetchCustomers('extra')).body.code, 'unknown_client')
    assert.equal((await atrium.request('DELETE', '/admin/clients/extra')).status, 404)
    const listed = await atrium.get('/admin/clients')
    assert.ok(!listed.body.clients.some((c: { client_name: string }) => c.client_name === 'extra'))
    const again = await atrium.post('/admin/clients', { body: { client_name: 'extra', pg_uri: extra.url } })
    assert.equal(again.status, 201)
    assert.notEqual(again.body.client.id, res.body.client.id)
    assert.equal((await fetchCustomers('extra')).status, 200)
  })

  await t.test('a restart loads catalog clients with their frozen state', async () => {
    assert.equal((await atrium.request('PUT', '/admin/clients/maria/freeze', { body: { is_frozen: true } })).status, 200)
    const second = await startTestAtrium(t, { catalog: atrium.catalog, sources: { shop: configured.url } })
    assert.equal((await second.post('/gateway/fetch', { client: 'maria', body: { table_name: 'customers', columns: 'id', conditions: [{ eq_column: 'id', eq_value: 1 }] } })).status, 200)
    const write = await second.request('PUT', '/gateway/insert', { client: 'maria', body: { table_name: 'sentinel', insert_body: { id: 903, label: 'x' } } })
    assert.equal(write.status, 423)
  })
})
