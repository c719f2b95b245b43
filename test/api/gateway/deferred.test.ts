import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { SignJWT } from 'jose'
import { startTestAtrium, type TestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { forEachDialect } from '../../helpers/dialects.js'

const ASYNC = { prefer: 'respond-async' }

/** polls a deferred request until it is no longer queued or running (bounded: about 30 s) */
/** `key` undefined polls with the admin key */
async function settle(atrium: TestAtrium, location: string, key?: string): Promise<any> {
  for (let i = 0; i < 300; i++) {
    const res = await atrium.get(location, { key })
    assert.equal(res.status, 200, res.text)
    if (res.body.data.status !== 'queued' && res.body.data.status !== 'running') return res.body.data
    await sleep(100)
  }
  throw new Error(`${location} did not finish`)
}

forEachDialect('deferred gateway requests', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const reader = await createKey(atrium, { name: 'reader', rights: ['gateway.read', 'gateway.insert'] })
  const other = await createKey(atrium, { name: 'other', rights: ['gateway.read'] })
  const fetchBody = { table_name: 'customers', columns: 'id,name,tier', conditions: [{ eq_column: 'tier', eq_value: 'gold' }] }

  await t.test('Prefer: respond-async answers 202 with a request id and a Location; the answer is the synchronous body', async () => {
    const sync = await atrium.post('/gateway/fetch', { client: 'shop', key: reader.key, body: fetchBody })
    assert.equal(sync.status, 200)
    const res = await atrium.post('/gateway/fetch', { client: 'shop', key: reader.key, body: fetchBody, headers: ASYNC })
    assert.equal(res.status, 202, res.text)
    const id = res.body.data.request_id
    assert.match(id, /^[0-9a-f-]{36}$/)
    assert.equal(res.headers.get('location'), `/gateway/deferred/${id}`)
    assert.equal(res.headers.get('preference-applied'), 'respond-async')
    assert.equal(res.body.data.status, 'queued')
    const done = await settle(atrium, res.headers.get('location')!, reader.key)
    assert.equal(done.status, 'succeeded', JSON.stringify(done))
    assert.equal(done.result_status, 200)
    assert.deepEqual(done.result, sync.body)
    assert.deepEqual(done.result.data, [{ id: 1, name: 'Ada', tier: 'gold' }])
    assert.equal(done.operation, 'gateway.fetch')
    assert.equal(done.client, 'shop')
    assert.ok(Date.parse(done.expires_at) > Date.now())
  })

  await t.test('X-Athena-Deferred: true defers a write; it commits when the job runs', async () => {
    const res = await atrium.request('PUT', '/gateway/insert', {
      client: 'shop', key: reader.key, headers: { 'x-athena-deferred': 'true' },
      body: { table_name: 'customers', insert_body: { id: 70, name: 'Deferred' }, columns: 'id,name' },
    })
    assert.equal(res.status, 202, res.text)
    assert.equal(res.headers.get('preference-applied'), null)
    const done = await settle(atrium, res.headers.get('location')!, reader.key)
    assert.equal(done.status, 'succeeded', JSON.stringify(done))
    assert.deepEqual(done.result, { status: 'success', message: 'Inserted 1 row', data: [{ id: 70, name: 'Deferred' }] })
    assert.equal((await db.query('SELECT name FROM customers WHERE id = 70'))[0]?.name, 'Deferred')
  })

  await t.test('Prefer: respond-async, return=minimal keeps return=minimal for the run', async () => {
    const res = await atrium.request('PUT', '/gateway/insert', {
      client: 'shop', key: reader.key, headers: { prefer: 'respond-async, return=minimal' },
      body: { table_name: 'customers', insert_body: { id: 71, name: 'Deferred minimal' } },
    })
    assert.equal(res.status, 202, res.text)
    assert.equal(res.headers.get('preference-applied'), 'respond-async, return=minimal')
    const done = await settle(atrium, res.headers.get('location')!, reader.key)
    assert.equal(done.status, 'succeeded', JSON.stringify(done))
    assert.deepEqual(done.result, { status: 'success', message: 'Inserted 1 row', data: [] })
    assert.equal((await db.query('SELECT name FROM customers WHERE id = 71'))[0]?.name, 'Deferred minimal')
  })

  await t.test('a deferred count answers what /query/count answers', async () => {
    const sync = await atrium.post('/query/count', { client: 'shop', key: reader.key, body: { table_name: 'orders', conditions: [{ eq_column: 'status', eq_value: 'paid' }] } })
    const res = await atrium.post('/query/count', { client: 'shop', key: reader.key, headers: ASYNC, body: { table_name: 'orders', conditions: [{ eq_column: 'status', eq_value: 'paid' }] } })
    assert.equal(res.status, 202)
    const done = await settle(atrium, res.headers.get('location')!, reader.key)
    assert.deepEqual(done.result, sync.body)
    assert.equal(done.result.data.count, 2)
  })

  await t.test('a call that fails when it runs stores the error envelope the synchronous call would have sent', async () => {
    const body = { table_name: 'no_such_table', columns: 'id' }
    const sync = await atrium.post('/gateway/fetch', { client: 'shop', key: reader.key, body })
    const res = await atrium.post('/gateway/fetch', { client: 'shop', key: reader.key, body, headers: ASYNC })
    assert.equal(res.status, 202)
    const done = await settle(atrium, res.headers.get('location')!, reader.key)
    assert.equal(done.status, 'failed')
    assert.equal(done.result_status, sync.status)
    assert.deepEqual(done.result, sync.body)
    assert.deepEqual(done.error, { code: 'unknown_table', message: sync.body.message })
  })

  await t.test('a malformed body or a missing right is refused at submission, and nothing is queued', async () => {
    const bad = await atrium.post('/gateway/fetch', { client: 'shop', key: reader.key, headers: ASYNC, body: { columns: 'id' } })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.code, 'invalid_request')
    const forbidden = await atrium.request('PUT', '/gateway/insert', { client: 'shop', key: other.key, headers: ASYNC, body: { table_name: 'sentinel', insert_body: { id: 5, label: 'x' } } })
    assert.equal(forbidden.status, 403)
    assert.equal(forbidden.body.code, 'missing_right')
    assert.equal(forbidden.headers.get('location'), null)
  })

  await t.test('routes that cannot be deferred: Prefer is ignored, X-Athena-Deferred is refused', async () => {
    const preferred = await atrium.post('/gateway/query', { client: 'shop', headers: ASYNC, body: { query: 'SELECT 1 AS one' } })
    assert.equal(preferred.status, 200)
    const flagged = await atrium.post('/gateway/query', { client: 'shop', headers: { 'x-athena-deferred': 'true' }, body: { query: 'SELECT 1 AS one' } })
    assert.equal(flagged.status, 400)
    assert.equal(flagged.body.code, 'deferred_not_supported')
    const wrong = await atrium.post('/gateway/fetch', { client: 'shop', headers: { 'x-athena-deferred': 'soon' }, body: fetchBody })
    assert.equal(wrong.status, 400)
    assert.equal(wrong.body.code, 'invalid_request')
  })

  await t.test('only the sender (or the admin key) sees a request: 401 without a key, 404 for another key', async () => {
    const res = await atrium.post('/gateway/fetch', { client: 'shop', key: reader.key, body: fetchBody, headers: ASYNC })
    const location = res.headers.get('location')!
    await settle(atrium, location, reader.key)
    const anonymous = await atrium.get(location, { key: null })
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.body.code, 'missing_api_key')
    const stranger = await atrium.get(location, { key: other.key })
    assert.equal(stranger.status, 404)
    assert.equal(stranger.body.code, 'deferred_request_not_found')
    const requeueByStranger = await atrium.post(`${location}/requeue`, { key: other.key })
    assert.equal(requeueByStranger.status, 404)
    const admin = await atrium.get(location)
    assert.equal(admin.status, 200)
    assert.equal(admin.body.data.status, 'succeeded')
    for (const id of ['not-a-uuid', '00000000-0000-0000-0000-000000000000']) {
      const missing = await atrium.get(`/gateway/deferred/${id}`, { key: reader.key })
      assert.equal(missing.status, 404)
      assert.equal(missing.body.status, 'error')
    }
  })

  await t.test('a succeeded request is not requeued: 409', async () => {
    const res = await atrium.post('/gateway/fetch', { client: 'shop', key: reader.key, body: fetchBody, headers: ASYNC })
    await settle(atrium, res.headers.get('location')!, reader.key)
    const again = await atrium.post(`${res.headers.get('location')}/requeue`, { key: reader.key })
    assert.equal(again.status, 409)
    assert.equal(again.body.code, 'deferred_not_requeueable')
  })

  await t.test('an anonymous caller cannot defer, even on a client without key enforcement', async () => {
    const off = await atrium.request('PUT', '/admin/api-key-clients/shop', { body: { enforce_api_keys: false } })
    assert.ok(off.status < 300, off.text)
    try {
      const sync = await atrium.post('/gateway/fetch', { client: 'shop', key: null, body: fetchBody })
      assert.equal(sync.status, 200)
      const res = await atrium.post('/gateway/fetch', { client: 'shop', key: null, body: fetchBody, headers: ASYNC })
      assert.equal(res.status, 401)
      assert.equal(res.body.code, 'missing_api_key')
    } finally {
      await atrium.request('DELETE', '/admin/api-key-clients/shop')
    }
  })
})

forEachDialect('deferred requests check the sender again when they run', async (t, db) => {
  await db.load('shop')
  // an API-only node queues; the worker node, started once the key has changed, runs
  const secret = 'a-session-secret-of-at-least-32-characters'
  const sessions = { env: { ATRIUM_JWT_SECRET: secret }, settings: { 'sessions.roleRights': { authenticated: ['gateway.read'] } } }
  const api = await startTestAtrium(t, { sources: { shop: db.url }, env: sessions.env, settings: { ...sessions.settings, 'jobs.workers': 0 } })
  const token = (sub: string, seconds: number) => new SignJWT({ sub, role: 'authenticated', exp: Math.floor(Date.now() / 1000) + seconds })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret))
  const bearer = (jwt: string) => ({ key: null, headers: { authorization: `Bearer ${jwt}`, ...ASYNC } })
  const key = await createKey(api, { name: 'soon revoked', rights: ['gateway.read'] })
  const narrowed = await createKey(api, { name: 'soon narrowed', rights: ['gateway.read'] })
  const body = { table_name: 'customers', columns: 'id', conditions: [{ eq_column: 'id', eq_value: '2' }] }
  const submit = async (k: string) => {
    const res = await api.post('/gateway/fetch', { client: 'shop', key: k, body, headers: ASYNC })
    assert.equal(res.status, 202, res.text)
    return res.headers.get('location')!
  }
  const revoked = await submit(key.key)
  const unrighted = await submit(narrowed.key)
  const shortToken = await token('user-short', 2)
  const longToken = await token('user-long', 300)
  const shortLived = (await api.post('/gateway/fetch', { client: 'shop', body, ...bearer(shortToken) })).headers.get('location')!
  const longLived = (await api.post('/gateway/fetch', { client: 'shop', body, ...bearer(longToken) })).headers.get('location')!
  assert.ok(shortLived && longLived)
  const userPoll = (jwt: string) => ({ key: null, headers: { authorization: `Bearer ${jwt}` } })
  assert.equal((await api.get(longLived, userPoll(longToken))).status, 200)
  assert.equal((await api.get(longLived, userPoll(await token('someone-else', 300)))).status, 404, "another user's request is not found")
  // the short token's exp passes before any worker runs its request
  await sleep(2_500)
  const queued = await api.get(revoked, { key: key.key })
  assert.equal(queued.body.data.status, 'queued')
  assert.equal(queued.headers.get('retry-after'), '1')

  assert.equal((await api.request('PATCH', `/admin/api-keys/${key.id}`, { body: { is_active: false } })).status, 200)
  assert.equal((await api.request('PATCH', `/admin/api-keys/${narrowed.id}`, { body: { rights: ['gateway.insert'] } })).status, 200)
  await startTestAtrium(t, { sources: { shop: db.url }, catalog: api.catalog, env: sessions.env, settings: sessions.settings })

  await t.test('a session whose token expired before the run fails with expired_session_token; a live one runs', async () => {
    const expired = await settle(api, shortLived)
    assert.equal(expired.status, 'failed')
    assert.equal(expired.error.code, 'expired_session_token')
    const live = await settle(api, longLived)
    assert.equal(live.status, 'succeeded', JSON.stringify(live))
    assert.deepEqual(live.result.data, [{ id: 2 }])
  })

  await t.test('a key deactivated after submission fails the job with inactive_api_key', async () => {
    const done = await settle(api, revoked)
    assert.equal(done.status, 'failed', JSON.stringify(done))
    assert.equal(done.error.code, 'inactive_api_key')
    assert.match(done.error.message, /deactivated between the submission and the run/)
    assert.equal(done.result.code, 'inactive_api_key')
    // the job record is finished just after the request's own row: wait for it (bounded)
    let job: any
    for (let i = 0; i < 100 && job?.status !== 'failed'; i++) {
      job = (await api.get(`/admin/jobs?kind=gateway-deferred&owner_kind=key&owner_id=${key.id}`)).body.data.jobs[0]
      if (job?.status !== 'failed') await sleep(100)
    }
    assert.equal(job.status, 'failed')
    assert.equal(job.error.code, 'inactive_api_key')
  })

  await t.test('a right removed after submission fails the job with missing_right', async () => {
    const done = await settle(api, unrighted, narrowed.key)
    assert.equal(done.status, 'failed')
    assert.equal(done.error.code, 'missing_right')
  })

  await t.test('requeue runs a failed request again once the key is fixed, with its rights checked again', async () => {
    const refused = await api.post(`${unrighted}/requeue`, { key: narrowed.key })
    assert.equal(refused.status, 403)
    assert.equal(refused.body.code, 'missing_right')
    assert.equal((await api.request('PATCH', `/admin/api-keys/${narrowed.id}`, { body: { rights: ['gateway.read'] } })).status, 200)
    const again = await api.post(`${unrighted}/requeue`, { key: narrowed.key })
    assert.equal(again.status, 202, again.text)
    assert.equal(again.headers.get('location'), unrighted)
    const done = await settle(api, unrighted, narrowed.key)
    assert.equal(done.status, 'succeeded', JSON.stringify(done))
    assert.deepEqual(done.result.data, [{ id: 2 }])
    assert.equal(done.attempts, 2)
  })

  await t.test('a deleted key fails its requests with invalid_api_key', async () => {
    const doomed = await createKey(api, { name: 'doomed', rights: ['gateway.read'] })
    const res = await api.post('/gateway/fetch', { client: 'shop', key: doomed.key, body, headers: ASYNC })
    assert.equal((await api.request('DELETE', `/admin/api-keys/${doomed.id}`)).status, 200)
    const done = await settle(api, res.headers.get('location')!)
    assert.equal(done.error.code, 'invalid_api_key')
  })
})

forEachDialect('an expired answer is withheld and can be requeued; an oversized one fails', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, settings: { 'deferred.resultTtlSeconds': 1, 'deferred.maxResultBytes': 1024 } })
  const rows = Array.from({ length: 40 }, (_, i) => ({ id: 500 + i, name: `A customer with a rather long name, number ${i}` }))
  assert.equal((await atrium.request('PUT', '/gateway/insert', { client: 'shop', body: { table_name: 'customers', insert_body: rows, columns: 'id' } })).status, 200)
  const big = await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'customers', columns: 'id,name' }, headers: ASYNC })
  const oversized = await settle(atrium, big.headers.get('location')!)
  assert.equal(oversized.status, 'failed')
  assert.equal(oversized.error.code, 'deferred_result_too_large')
  assert.equal(oversized.result_status, 507)

  const res = await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'customers', columns: 'id', limit: 2 }, headers: ASYNC })
  const location = res.headers.get('location')!
  let view = await settle(atrium, location)
  for (let i = 0; i < 100 && view.status !== 'expired'; i++) {
    await sleep(100)
    view = (await atrium.get(location)).body.data
  }
  assert.equal(view.status, 'expired')
  assert.equal(view.result, null)
  assert.equal(view.result_status, null)
  const again = await atrium.post(`${location}/requeue`)
  assert.equal(again.status, 202, again.text)
  const rerun = await settle(atrium, location)
  assert.ok(['succeeded', 'expired'].includes(rerun.status), rerun.status)
  assert.equal(rerun.attempts, 2)
})
