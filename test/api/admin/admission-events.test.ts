import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { SignJWT } from 'jose'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { createPgDatabase } from '../../helpers/databases.js'
import type { AtriumEvent } from '../../../src/outbox/events.js'
import { ADMISSION_PRUNE_QUEUE } from '../../../src/monitoring/admission-retention-job.js'

// /admin/admission-events: refusals provoked over HTTP are recorded off the request path, flushed in batches
// with their admission.refused outbox events, and listed with filters and a cursor (admin key only).
test('admission events', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  // flushMs 0: nothing is written until the test flushes, so each step sees exactly what it provoked
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_RATE_LIMIT_WINDOW_SECONDS: '60' }, settings: { 'admission.flushMs': 0 } })
  const { admissionLog, outbox } = atrium.handle.platform
  const published: AtriumEvent[] = []
  const unsubscribe = outbox.subscribe('admission.refused', (e) => { published.push(e) })
  t.after(unsubscribe)

  const fetchBody = { table_name: 'customers', columns: 'id' }
  const noRights = await createKey(atrium, { client_name: 'shop', rights: [] })
  const farAway = await createKey(atrium, { client_name: 'shop', rights: ['gateway.read'], allowed_ips: ['203.0.113.0/24'] })
  const limited = await createKey(atrium, { client_name: 'shop', rights: ['gateway.read'], rate_limit: 1 })
  const unknownKey = 'ath_0123456789abcdef.' + 'B'.repeat(43)
  const list = async (query = '') => {
    const res = await atrium.get(`/admin/admission-events${query}`)
    assert.equal(res.status, 200, res.text)
    return res
  }

  await t.test('each refusal kind is recorded with who, where and why; the secret never', async () => {
    assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', key: null, body: fetchBody })).status, 401)
    assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', key: unknownKey, body: fetchBody })).body.code, 'invalid_api_key')
    assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', key: noRights.key, body: fetchBody })).body.code, 'missing_right')
    assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', key: farAway.key, body: fetchBody })).body.code, 'ip_not_allowed')
    // a rate_limit of 1 allows 1 plus 1 of burst per window
    for (let i = 0; i < 2; i++) assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', key: limited.key, body: fetchBody })).status, 200)
    const limitedAgain = await atrium.post('/gateway/fetch', { client: 'shop', key: limited.key, body: fetchBody })
    assert.equal(limitedAgain.status, 429)
    assert.equal(limitedAgain.body.code, 'rate_limited')
    // a frozen catalog client refuses writes with 423
    assert.equal((await atrium.post('/admin/clients', { body: { client_name: 'icebox', pg_uri: db.url } })).status, 201)
    assert.equal((await atrium.request('PUT', '/admin/clients/icebox/freeze', { body: { is_frozen: true } })).status, 200)
    const frozen = await atrium.request('PUT', '/gateway/insert', { client: 'icebox', body: { table_name: 'sentinel', insert_body: { id: 901, label: 'x' } } })
    assert.equal(frozen.status, 423, frozen.text)
    // admitted requests and other errors are not admission events
    assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'no_such_table' } })).status, 400)

    assert.equal(await countRows(), 0, 'nothing is written on the request path')
    await admissionLog.flush()
    const res = await list()
    const events = res.body.data.events as Array<Record<string, unknown>>
    assert.deepEqual(events.map((e) => e.kind), ['client_frozen', 'rate_limited', 'ip_not_allowed', 'missing_right', 'invalid_api_key', 'missing_api_key'])
    const byKind = new Map(events.map((e) => [e.kind, e]))
    assert.equal(byKind.get('missing_right')!.key_id, noRights.publicId)
    assert.equal(byKind.get('missing_right')!.status, 403)
    assert.equal(byKind.get('missing_right')!.client, 'shop')
    assert.equal(byKind.get('missing_right')!.method, 'POST')
    assert.equal(byKind.get('missing_right')!.route, '/gateway/fetch')
    assert.equal(byKind.get('missing_right')!.operation, 'gateway.fetch')
    assert.match(String(byKind.get('missing_right')!.detail), /gateway\.read|right/)
    assert.equal(byKind.get('ip_not_allowed')!.key_id, farAway.publicId)
    assert.equal(byKind.get('ip_not_allowed')!.ip, '127.0.0.1')
    assert.equal(byKind.get('rate_limited')!.status, 429)
    assert.equal(byKind.get('rate_limited')!.request_id, limitedAgain.headers.get('x-request-id'))
    assert.equal(byKind.get('invalid_api_key')!.key_id, '0123456789abcdef', 'the public id of a refused key')
    assert.equal(byKind.get('missing_api_key')!.key_id, null)
    assert.equal(byKind.get('client_frozen')!.client, 'icebox')
    assert.equal(byKind.get('client_frozen')!.status, 423)
    for (const secret of [noRights.key, farAway.key, limited.key, unknownKey]) {
      assert.ok(!res.text.includes(secret.slice(secret.indexOf('.') + 1)), 'no key secret is listed')
    }
  })

  await t.test('the batch is published as admission.refused events in its transaction', async () => {
    for (let i = 0; i < 100 && published.length < 6; i++) await sleep(50)
    assert.equal(published.length, 6)
    const ids = (await list()).body.data.events.map((e: { id: number }) => e.id).sort((a: number, b: number) => a - b)
    assert.deepEqual(published.map((e) => e.payload.id), ids)
    const first = published.find((e) => e.payload.kind === 'missing_right')!
    assert.equal(first.type, 'admission.refused')
    assert.equal(first.version, 1)
    assert.equal(first.source, 'shop')
    assert.equal(first.payload.key_id, noRights.publicId)
    const [row] = await atrium.catalog.query<{ n: string }>("SELECT count(*) AS n FROM atrium.events WHERE type = 'admission.refused'")
    assert.equal(Number(row.n), 6)
  })

  await t.test('filters: client, key_id, kind, since, until', async () => {
    assert.deepEqual((await list('?kind=rate_limited')).body.data.events.map((e: { key_id: string }) => e.key_id), [limited.publicId])
    assert.deepEqual((await list(`?key_id=${farAway.publicId}`)).body.data.events.map((e: { kind: string }) => e.kind), ['ip_not_allowed'])
    assert.deepEqual((await list('?client=icebox')).body.data.events.map((e: { kind: string }) => e.kind), ['client_frozen'])
    assert.equal((await list('?client=shop&kind=missing_right')).body.data.events.length, 1)
    assert.equal((await list('?since=2000-01-01T00:00:00Z')).body.data.events.length, 6)
    assert.equal((await list('?until=2000-01-01')).body.data.events.length, 0)
    const future = new Date(Date.now() + 3_600_000).toISOString()
    assert.equal((await list(`?since=${future}`)).body.data.events.length, 0)
    assert.equal((await list(`?until=${future}`)).body.data.events.length, 6)
  })

  await t.test('pages newest first by an opaque cursor', async () => {
    const all = (await list()).body.data.events.map((e: { id: number }) => e.id)
    const seen: number[] = []
    let cursor: string | null = null
    for (let page = 0; page < 10; page++) {
      const res = await list(`?limit=4${cursor ? `&cursor=${cursor}` : ''}`)
      seen.push(...res.body.data.events.map((e: { id: number }) => e.id))
      cursor = res.body.data.next_cursor
      if (!cursor) break
    }
    assert.deepEqual(seen, all)
    assert.equal(seen.length, 6)
  })

  await t.test('bad filters are 400 with a stable code', async () => {
    const cursor = await atrium.get('/admin/admission-events?cursor=garbage')
    assert.equal(cursor.status, 400)
    assert.equal(cursor.body.code, 'invalid_cursor')
    const since = await atrium.get('/admin/admission-events?since=yesterday')
    assert.equal(since.status, 400)
    assert.equal(since.body.code, 'invalid_request')
    assert.match(since.body.message, /since/)
    assert.equal((await atrium.get('/admin/admission-events?limit=501')).status, 400)
    assert.equal((await atrium.get('/admin/admission-events?limit=0')).status, 400)
    assert.equal((await atrium.get('/admin/admission-events?colour=red')).status, 400)
  })

  await t.test('only the admin key lists them; the refusals are admission events themselves', async () => {
    const anonymous = await atrium.get('/admin/admission-events', { key: null })
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.body.status, 'error')
    const keyed = await atrium.get('/admin/admission-events', { key: limited.key })
    assert.equal(keyed.status, 403)
    assert.equal(keyed.body.code, 'admin_key_required')
    await admissionLog.flush()
    const res = await list('?kind=admin_key_required')
    assert.equal(res.body.data.events.length, 1)
    assert.equal(res.body.data.events[0].route, '/admin/admission-events')
    assert.equal(res.body.data.events[0].operation, 'admin.admission_events.list')
  })

  async function countRows(): Promise<number> {
    const [row] = await atrium.catalog.query<{ n: string }>('SELECT count(*) AS n FROM atrium.admission_events')
    return Number(row.n)
  }
})

// The deadline is an admission decision too; a full buffer drops and counts; retention prunes old events.
test('admission events: deadline, bounded buffer, retention', async (t) => {
  const db = await createPgDatabase(t)
  const atrium = await startTestAtrium(t, {
    sources: { shop: db.url },
    env: { ATRIUM_REQUEST_TIMEOUT_MS: '300' },
    settings: { 'admission.flushMs': 0, 'admission.bufferSize': 2, 'admission.retentionDays': 30, 'rawSqlSessions.maxConcurrentPerClient': 1, 'rawSqlSessions.queueTimeoutMs': 0 },
  })
  const { admissionLog } = atrium.handle.platform

  await t.test('a request past its deadline is recorded as request_timeout', async () => {
    const slow = await atrium.post('/gateway/query', { client: 'shop', body: { query: 'SELECT pg_sleep(5)' } })
    assert.equal(slow.status, 504, slow.text)
    assert.equal(slow.body.code, 'request_timeout')
    await admissionLog.flush()
    const res = await atrium.get('/admin/admission-events?kind=request_timeout')
    assert.equal(res.body.data.events.length, 1)
    assert.equal(res.body.data.events[0].route, '/gateway/query')
    assert.equal(res.body.data.events[0].status, 504)
  })

  await t.test('a raw SQL request over the client cap is recorded as too_many_concurrent_queries', async () => {
    const first = atrium.post('/gateway/query', { client: 'shop', body: { query: 'SELECT pg_sleep(5)' } })
    let second = await atrium.post('/gateway/query', { client: 'shop', body: { query: 'SELECT 1' } })
    // the first may not hold its turn yet when the second arrives: a bounded retry while it sleeps
    for (let i = 0; i < 20 && second.status !== 429; i++) second = await atrium.post('/gateway/query', { client: 'shop', body: { query: 'SELECT 1' } })
    assert.equal(second.status, 429, second.text)
    assert.equal(second.body.code, 'too_many_concurrent_queries')
    assert.equal((await first).status, 504)
    await admissionLog.flush()
    const res = await atrium.get('/admin/admission-events?kind=too_many_concurrent_queries')
    assert.equal(res.body.data.events.length, 1)
    assert.equal(res.body.data.events[0].request_id, second.headers.get('x-request-id'))
  })

  await t.test('refusals past admission.bufferSize are dropped and counted', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', key: null, body: {} })).status, 401)
    assert.equal(admissionLog.dropped, 1)
    const metrics = await atrium.get('/metrics')
    assert.match(metrics.text, /athena_admission_events_dropped_total 1\b/)
    await admissionLog.flush()
    assert.equal((await atrium.get('/admin/admission-events?kind=missing_api_key')).body.data.events.length, 2)
  })

  await t.test('an hourly job deletes events older than admission.retentionDays', async () => {
    const schedules = await atrium.catalog.query<{ cron: string }>('SELECT cron FROM atrium_jobs.schedule WHERE name = $1', [ADMISSION_PRUNE_QUEUE])
    assert.deepEqual(schedules, [{ cron: '17 * * * *' }])
    await atrium.catalog.query("UPDATE atrium.admission_events SET at = now() - interval '45 days' WHERE kind = 'request_timeout'")
    await atrium.handle.platform.jobs.send(ADMISSION_PRUNE_QUEUE)
    let kinds: string[] = []
    for (let i = 0; i < 60; i++) {
      kinds = (await atrium.catalog.query<{ kind: string }>('SELECT kind FROM atrium.admission_events ORDER BY id')).map((r) => r.kind)
      if (!kinds.includes('request_timeout')) break
      await sleep(250)
    }
    assert.deepEqual(kinds, ['too_many_concurrent_queries', 'missing_api_key', 'missing_api_key'])
  })
})

// A session user's refusal names the user (the token's subject), not a key.
test('admission events of session users', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const secret = 'admission-jwt-secret-0123456789abcdef-0123'
  const atrium = await startTestAtrium(t, {
    sources: { shop: db.url },
    env: { ATRIUM_JWT_SECRET: secret },
    settings: { 'admission.flushMs': 0, 'sessions.roleRights': { authenticated: ['gateway.read'] } },
  })
  const now = Math.floor(Date.now() / 1000)
  const sign = (exp: number) => new SignJWT({ sub: 'user-7', role: 'authenticated', iat: now - 600, exp })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret))
  const bearer = async (exp: number) => ({ authorization: `Bearer ${await sign(exp)}` })
  const insert = { table_name: 'sentinel', insert_body: { id: 950, label: 'x' } }
  const write = await atrium.request('PUT', '/gateway/insert', { client: 'shop', key: null, headers: await bearer(now + 300), body: insert })
  assert.equal(write.body.code, 'missing_right', write.text)
  const stale = await atrium.post('/gateway/fetch', { client: 'shop', key: null, headers: await bearer(now - 60), body: { table_name: 'customers', columns: 'id' } })
  assert.equal(stale.body.code, 'expired_session_token', stale.text)
  await atrium.handle.platform.admissionLog.flush()
  const events = (await atrium.get('/admin/admission-events')).body.data.events
  assert.deepEqual(events.map((e: { kind: string; user: string | null; key_id: string | null }) => [e.kind, e.user, e.key_id]), [
    ['expired_session_token', null, null],
    ['missing_right', 'user-7', null],
  ])
})
