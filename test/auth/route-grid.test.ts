import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ADMIN_KEY, startTestAtrium } from '../helpers/atrium.js'
import { GATEWAY_ROUTES, REST_ROUTES, createKey } from '../helpers/auth-grid.js'
import type { ErrorCode } from '../../src/errors/codes.js'
import { postgrestCodeOf } from '../../src/api/rest/postgrest-codes.js'
import { createPgDatabase } from '../helpers/databases.js'

// Every protected data route, every way a key can be wrong: each answers the documented status and code.
test('every protected route refuses every bad credential with the documented status', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  await db.load('functions')
  const other = await createPgDatabase(t)
  await other.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url, other: other.url } })
  const ROUTES = [...GATEWAY_ROUTES, ...REST_ROUTES]
  const allRights = [...new Set(ROUTES.map((r) => r.right))]

  const good = await createKey(atrium, { client_name: 'shop', rights: allRights })
  const expired = await createKey(atrium, { client_name: 'shop', rights: allRights, expires_at: '2020-01-01T00:00:00Z' })
  const inactive = await createKey(atrium, { client_name: 'shop', rights: allRights })
  await atrium.request('PATCH', `/admin/api-keys/${inactive.id}`, { body: { is_active: false } })
  const otherClient = await createKey(atrium, { client_name: 'other', rights: allRights })
  const noRights = await createKey(atrium, { client_name: 'shop', rights: [] })
  const farAway = await createKey(atrium, { client_name: 'shop', rights: allRights, allowed_ips: ['203.0.113.0/24'] })
  const lockedElsewhere = await createKey(atrium, { rights: allRights, lock_in: true })
  const first = await atrium.post('/gateway/fetch', { client: 'other', key: lockedElsewhere.key, body: { table_name: 'customers', columns: 'id' } })
  assert.equal(first.status, 200, 'the first use locks the key in to "other"')
  const wrongSecret = `${good.key.slice(0, good.key.indexOf('.') + 1)}${'A'.repeat(43)}`
  const malformedSecret = `${good.key.slice(0, good.key.indexOf('.') + 1)}short!`

  const cases: Array<[string, string | null, number, string]> = [
    ['no key', null, 401, 'missing_api_key'],
    ['a malformed key', 'not-a-key', 401, 'invalid_api_key'],
    ['a wrong secret', wrongSecret, 401, 'invalid_api_key'],
    ['an unknown key', 'ath_0123456789abcdef.' + 'B'.repeat(43), 401, 'invalid_api_key'],
    ['a known public id with a malformed secret', malformedSecret, 401, 'invalid_api_key'],
    ['a public id of the wrong shape', 'ath_NOT-AN-ID.' + 'B'.repeat(43), 401, 'invalid_api_key'],
    ['an expired key', expired.key, 401, 'expired_api_key'],
    ['an inactive key', inactive.key, 403, 'inactive_api_key'],
    ['a key bound to another client', otherClient.key, 403, 'client_not_allowed'],
    ['a key without the right', noRights.key, 403, 'missing_right'],
    ['an address outside the allow list', farAway.key, 403, 'ip_not_allowed'],
    ['a key locked in elsewhere', lockedElsewhere.key, 403, 'key_locked_in'],
  ]
  for (const route of ROUTES) {
    await t.test(`${route.method} ${route.path}`, async () => {
      for (const [what, key, status, code] of cases) {
        const res = await atrium.request(route.method, route.path, { client: 'shop', key, body: route.body })
        assert.equal(res.status, status, `${what}: ${res.status} ${res.text}`)
        if (route.family === 'rest') {
          assert.equal(res.body.code, postgrestCodeOf(code as ErrorCode).code, what)
          assert.deepEqual(Object.keys(res.body).sort(), ['code', 'details', 'hint', 'message'])
        } else {
          assert.equal(res.body.status, 'error')
          assert.equal(res.body.code, code, what)
        }
        assert.equal(typeof res.body.message, 'string')
        if (key) assert.ok(!res.text.includes(key), 'the key is never echoed')
      }
      const ok = await atrium.request(route.method, route.path, { client: 'shop', key: good.key, body: route.body })
      assert.ok((route.ok ?? [200]).includes(ok.status), `a good key: ${ok.status} ${ok.text}`)
    })
  }

  await t.test('a malformed key is told apart from a wrong secret, whether or not its public id is known', async () => {
    const fetchWith = (key: string) => atrium.post('/gateway/fetch', { client: 'shop', key, body: { table_name: 'customers', columns: 'id' } })
    assert.equal((await fetchWith(good.key)).status, 200) // the public id is now known from memory
    for (const key of [malformedSecret, 'ath_NOT-AN-ID.' + 'B'.repeat(43), 'ath_0123456789abcdef']) {
      const res = await fetchWith(key)
      assert.deepEqual([res.status, res.body.message, res.body.hint], [401, 'the presented key is not a valid API key', 'API keys look like ath_<public id>.<secret>'], key)
    }
    const wrong = await fetchWith(wrongSecret)
    assert.deepEqual([wrong.status, wrong.body.message], [401, 'the presented API key is not valid'])
  })

  await t.test('POST /query/sql checks the client named in the body', async () => {
    const body = { query: 'SELECT 1 AS one', driver: 'postgresql', db_name: 'shop' }
    assert.equal((await atrium.post('/query/sql', { key: null, body })).body.code, 'missing_api_key')
    assert.equal((await atrium.post('/query/sql', { key: wrongSecret, body })).body.code, 'invalid_api_key')
    assert.equal((await atrium.post('/query/sql', { key: otherClient.key, body })).body.code, 'client_not_allowed')
    assert.equal((await atrium.post('/query/sql', { key: noRights.key, body })).body.code, 'missing_right')
    assert.equal((await atrium.post('/query/sql', { key: good.key, body })).status, 200)
  })

  await t.test('admin routes: no key 401, wrong key 401, an API key 403 admin_key_required', async () => {
    for (const path of ['/admin/api-keys', '/admin/clients', '/admin/api-key-config', '/admin/vacuum-health']) {
      assert.equal((await atrium.get(path, { key: null })).body.code, 'missing_api_key')
      assert.equal((await atrium.get(path, { key: 'wrong-admin-key' })).status, 401)
      const apiKey = await atrium.get(path, { key: good.key })
      assert.equal(apiKey.status, 403, `${path}: ${apiKey.text}`)
      assert.equal(apiKey.body.code, 'admin_key_required')
      assert.equal((await atrium.get(path, { key: ADMIN_KEY })).status, 200)
    }
  })
})
