import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { createPgDatabase } from '../../helpers/databases.js'

// X-Athena-Client: custom_supabase forwards to a PostgREST upstream. The upstream here is a second Atrium's
// /rest/v1 (a real PostgREST-speaking server), reached with the key given in x-supabase-key.
test('custom_supabase forwards structured requests to a PostgREST upstream', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const upstream = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_REST_DEFAULT_CLIENT: 'shop' } })
  const upstreamKey = await createKey(upstream, { client_name: 'shop', rights: ['gateway.read', 'gateway.insert', 'gateway.update', 'gateway.delete'] })
  const gateway = await startTestAtrium(t, { env: { ATRIUM_UPSTREAM_ALLOWED_HOSTS: '127.0.0.1', ATRIUM_RATE_LIMIT_OUTBOUND_PER_HOST: '1000' } })
  const headers = { 'x-supabase-url': upstream.url, 'x-supabase-key': upstreamKey.key }
  const call = (method: string, path: string, body: unknown, extra: Record<string, string> = {}) =>
    gateway.request(method, path, { client: 'custom_supabase', body, headers: { ...headers, ...extra } })

  await t.test('fetch with conditions, or, embeds, order and limit', async () => {
    const res = await call('POST', '/gateway/fetch', {
      table_name: 'orders', columns: 'id,customers(name)',
      conditions: [{ operator: 'or', value: '(status.eq.paid,total.gt.100)' }, { operator: 'in', column: 'customer_id', value: [1, 2] }],
      sort_by: { field: 'id', direction: 'desc' }, limit: 2,
    })
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body, { status: 'success', message: 'Fetched 2 rows', data: [{ id: 3, customers: { name: 'Grace' } }, { id: 2, customers: { name: 'Ada' } }], cache_key: null })
  })

  await t.test('insert, update and delete round-trip through the upstream', async () => {
    const inserted = await call('PUT', '/gateway/insert', { table_name: 'customers', insert_body: { id: 40, name: 'Forwarded' } })
    assert.equal(inserted.status, 200, inserted.text)
    assert.equal(inserted.body.data[0].name, 'Forwarded')
    const updated = await call('POST', '/gateway/update', { table_name: 'customers', conditions: [{ eq_column: 'id', eq_value: '40' }], update_body: { tier: 'remote' } })
    assert.equal(updated.body.data[0].tier, 'remote')
    const deleted = await call('DELETE', '/gateway/delete', { table_name: 'customers', resource_id: 40 })
    assert.equal(deleted.body.message, 'Deleted 1 row')
    assert.equal((await db.query('SELECT count(*) AS n FROM customers WHERE id = 40'))[0].n, '0')
  })

  await t.test('upstream errors come back in the gateway envelope with the upstream status', async () => {
    const res = await call('POST', '/gateway/fetch', { table_name: 'nope' })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'upstream_rejected')
    assert.equal(res.body.data.upstream_status, 404)
    const badKey = await gateway.request('POST', '/gateway/fetch', { client: 'custom_supabase', body: { table_name: 'orders' }, headers: { ...headers, 'x-supabase-key': 'ath_0000000000000000.' + 'A'.repeat(43) } })
    assert.equal(badKey.body.data.upstream_status, 401)
  })

  await t.test('missing headers, a host outside the allow list, and features PostgREST cannot express are 400s', async () => {
    const missing = await gateway.request('POST', '/gateway/fetch', { client: 'custom_supabase', body: { table_name: 'orders' } })
    assert.equal(missing.body.code, 'invalid_upstream')
    const elsewhere = await call('POST', '/gateway/fetch', { table_name: 'orders' }, { 'x-supabase-url': 'http://169.254.169.254' })
    assert.equal(elsewhere.status, 400)
    assert.equal(elsewhere.body.code, 'invalid_upstream')
    const grouped = await call('POST', '/gateway/fetch', { table_name: 'orders', group_by: 'status' })
    assert.equal(grouped.body.code, 'unsupported_feature')
  })

  await t.test('the gateway still checks its own keys and rights before forwarding', async () => {
    const reader = await createKey(gateway, { rights: ['gateway.read'] })
    const denied = await gateway.request('PUT', '/gateway/insert', { client: 'custom_supabase', key: reader.key, body: { table_name: 'customers', insert_body: { id: 41, name: 'x' } }, headers })
    assert.equal(denied.status, 403)
    assert.equal(denied.body.code, 'missing_right')
    assert.equal((await gateway.request('POST', '/gateway/fetch', { client: 'custom_supabase', key: null, body: { table_name: 'orders' }, headers })).status, 401)

    // a merging upsert needs gateway.update as well, forwarded as it is locally; nothing reaches the upstream
    const inserter = await createKey(gateway, { rights: ['gateway.insert'] })
    const upsert = await gateway.request('PUT', '/gateway/insert', {
      client: 'custom_supabase', key: inserter.key, headers,
      body: { table_name: 'customers', insert_body: { id: 1, name: 'Overwritten' }, update_body: { name: 'Overwritten' }, on_conflict: 'id' },
    })
    assert.equal(upsert.status, 403, upsert.text)
    assert.equal(upsert.body.code, 'missing_right')
    assert.equal(upsert.body.data.required_right, 'gateway.update')
    assert.notEqual((await db.query('SELECT name FROM customers WHERE id = 1'))[0].name, 'Overwritten')
  })
})

test('outbound calls to one upstream host are rate limited', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const upstream = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_REST_DEFAULT_CLIENT: 'shop' } })
  const gateway = await startTestAtrium(t, { env: { ATRIUM_UPSTREAM_ALLOWED_HOSTS: '127.0.0.1', ATRIUM_RATE_LIMIT_OUTBOUND_PER_HOST: '1', ATRIUM_RATE_LIMIT_WINDOW_SECONDS: '30' } })
  const headers = { 'x-supabase-url': upstream.url, 'x-supabase-key': ADMIN_KEY }
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) statuses.push((await gateway.post('/gateway/fetch', { client: 'custom_supabase', body: { table_name: 'orders', columns: 'id' }, headers })).status)
  assert.deepEqual(statuses, [200, 200, 429])
})
