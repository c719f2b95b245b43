import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Webhook } from 'standardwebhooks'
import { ADMIN_KEY, startTestAtrium, type TestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { createMysqlDatabase, createPgDatabase } from '../../helpers/databases.js'
import { spawnAtrium } from '../../helpers/process.js'
import type { JobContext } from '../../../src/jobs/job-queue.js'
import { MAX_ATTEMPTS } from '../../../src/webhooks/webhook-delivery-job.js'
import { untilTrue as until } from '../../helpers/until.js'

interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
}

/** a real receiver on 127.0.0.1: records every request; `answers[path]` lists the statuses to give, then 200 (0: never answer) */
async function startReceiver(t: { after(fn: () => Promise<void>): void }) {
  const received: Received[] = []
  const answers: Record<string, number[]> = {}
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => { body += chunk })
    req.on('end', () => {
      const path = req.url ?? '/'
      received.push({ path, headers: req.headers, body })
      const status = answers[path]?.shift() ?? 200
      if (status === 0) return // held open until the server closes
      res.statusCode = status
      res.end(res.statusCode === 200 ? 'ok' : 'receiver is down')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  }))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { received, answers, base, at: (path: string) => received.filter((r) => r.path === path) }
}

/** polls (bounded) until `ready` holds */

/** Webhook.verify throws unless the signature over id.timestamp.body matches the secret */
function verify(secret: string, r: Received): any {
  const headers = { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) }
  return new Webhook(secret).verify(r.body, headers)
}

// Endpoints that count what they receive take test deliveries only: with no filter they would also get the
// outcomes of scheduled jobs (and other events) that happen to run during the test.
const ONLY_TESTS = { types: ['webhook.test'] }

async function createWebhook(atrium: TestAtrium, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await atrium.post('/admin/webhooks', { body })
  assert.equal(res.status, 201, res.text)
  return { id: res.body.data.webhook.id, secret: res.body.data.secret }
}

// /admin/webhooks: endpoints, signed deliveries of outbox events to a real receiver, retries, filters, replay.
test('webhooks', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const receiver = await startReceiver(t)
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_WEBHOOKS_ALLOW_PRIVATE: 'true' } })
  const insert = (table: string, row: Record<string, unknown>) =>
    atrium.request('PUT', '/gateway/insert', { client: 'shop', body: { table_name: table, insert_body: row }, headers: { 'x-publish-event': `${table}.created` } })
  const deliveries = async (id: string) => (await atrium.get(`/admin/webhooks/${id}/deliveries`)).body.data.deliveries as any[]

  const all = await createWebhook(atrium, { url: `${receiver.base}/all`, description: 'every event' })
  const customers = await createWebhook(atrium, { url: `${receiver.base}/customers`, events: { clients: ['shop'], tables: ['customers'], types: ['row.inserted'] } })

  await t.test('the secret is shown once, and stored sealed', async () => {
    assert.match(all.secret, /^whsec_[A-Za-z0-9+/]+=*$/)
    assert.equal(Buffer.from(all.secret.slice('whsec_'.length), 'base64').length, 32)
    const list = await atrium.get('/admin/webhooks')
    assert.equal(list.status, 200, list.text)
    assert.equal(list.body.status, 'success')
    assert.deepEqual(list.body.data.webhooks.map((w: { id: string }) => w.id).sort(), [all.id, customers.id].sort())
    assert.ok(!list.text.includes(all.secret) && !list.text.includes('secret'), 'no secret in the list')
    const one = await atrium.get(`/admin/webhooks/${customers.id}`)
    assert.deepEqual(one.body.data.webhook.events, { clients: ['shop'], tables: ['customers'], types: ['row.inserted'] })
    assert.ok(!one.text.includes(customers.secret))
    const [row] = await atrium.catalog.query<{ secret_sealed: string }>('SELECT secret_sealed FROM atrium.webhook_endpoints WHERE id = $1', [all.id])
    assert.ok(!row!.secret_sealed.includes(all.secret.slice(6, 20)), 'the stored secret is sealed')
  })

  await t.test('a write with X-Publish-Event is delivered, signed, to the endpoints whose filter matches', async () => {
    assert.equal((await insert('sentinel', { id: 10, label: 'webhooked' })).status, 200)
    assert.equal((await insert('customers', { id: 900, name: 'Grace' })).status, 200)
    await until('both events at /all and one at /customers', () => receiver.at('/all').length >= 2 && receiver.at('/customers').length >= 1)
    const atAll = receiver.at('/all').map((r) => verify(all.secret, r))
    assert.deepEqual(atAll.map((b) => [b.type, b.data.table, b.source]).sort(), [['row.inserted', 'customers', 'shop'], ['row.inserted', 'sentinel', 'shop']])
    const sentinelEvent = atAll.find((b) => b.data.table === 'sentinel')
    assert.deepEqual(sentinelEvent.data.rows, [{ id: 10, label: 'webhooked' }])
    assert.equal(sentinelEvent.data.name, 'sentinel.created')
    const atCustomers = receiver.at('/customers')
    assert.equal(atCustomers.length, 1, 'the filtered endpoint got the customers row only')
    assert.deepEqual(verify(customers.secret, atCustomers[0]!).data.rows[0].name, 'Grace')
    assert.throws(() => verify(customers.secret, receiver.at('/all')[0]!), /signature/i, 'signed with its own endpoint secret')
    await until('delivery records say succeeded', async () => (await deliveries(all.id)).every((d) => d.status === 'succeeded'))
    const records = await deliveries(all.id)
    assert.equal(records.length, 2)
    assert.deepEqual(records.map((d) => [d.status, d.attempts, d.response_status, d.event_type]), [['succeeded', 1, 200, 'row.inserted'], ['succeeded', 1, 200, 'row.inserted']])
    assert.ok(records[0].event_id > records[1].event_id, 'newest first')
    assert.deepEqual(new Set(records.map((d) => d.id)), new Set(receiver.at('/all').map((r) => r.headers['webhook-id'])), 'webhook-id is the delivery id')
  })

  await t.test('a receiver answering 500 then 200 gets a retry with the same webhook-id', async () => {
    const flaky = await createWebhook(atrium, { url: `${receiver.base}/flaky`, events: ONLY_TESTS })
    receiver.answers['/flaky'] = [500]
    const res = await atrium.post(`/admin/webhooks/${flaky.id}/test`)
    assert.equal(res.status, 202, res.text)
    const deliveryId = res.body.data.delivery.id
    await until('the first attempt is recorded', async () => (await deliveries(flaky.id))[0]?.status === 'retrying')
    const failed = (await deliveries(flaky.id))[0]
    assert.equal(failed.response_status, 500)
    assert.match(failed.last_error, /answered 500: receiver is down/)
    // pg-boss's first retry comes 5-10 s later
    await until('the retry', () => receiver.at('/flaky').length >= 2, 300)
    const [first, second] = receiver.at('/flaky')
    assert.equal(first!.headers['webhook-id'], deliveryId)
    assert.equal(second!.headers['webhook-id'], deliveryId)
    assert.equal(verify(flaky.secret, second!).type, 'webhook.test')
    assert.equal(first!.body, second!.body, 'the same body')
    await until('the delivery succeeds', async () => (await deliveries(flaky.id))[0]?.status === 'succeeded')
    const done = (await deliveries(flaky.id))[0]
    assert.deepEqual([done.attempts, done.response_status, done.last_error], [2, 200, null])
    assert.equal(receiver.at('/all').filter((r) => verify(all.secret, r).type === 'webhook.test').length, 0, 'a test goes to its endpoint only')
  })

  await t.test('a finished delivery is replayed with the same webhook-id', async () => {
    const [record] = await deliveries(customers.id)
    const before = receiver.at('/customers').length
    const res = await atrium.post(`/admin/webhooks/${customers.id}/deliveries/${record.id}/replay`)
    assert.equal(res.status, 202, res.text)
    await until('the replay arrives', () => receiver.at('/customers').length > before)
    const replayed = receiver.at('/customers')[before]!
    assert.equal(replayed.headers['webhook-id'], record.id)
    assert.equal(verify(customers.secret, replayed).data.rows[0].name, 'Grace')
    const missing = await atrium.post(`/admin/webhooks/${customers.id}/deliveries/00000000-0000-4000-8000-000000000000/replay`)
    assert.equal(missing.status, 404)
    assert.equal(missing.body.code, 'webhook_delivery_not_found')
  })

  await t.test('PATCH changes the filter; a disabled endpoint gets nothing; DELETE removes it', async () => {
    const patched = await atrium.request('PATCH', `/admin/webhooks/${customers.id}`, { body: { events: { tables: ['sentinel'] }, description: 'sentinel only' } })
    assert.equal(patched.status, 200, patched.text)
    assert.deepEqual(patched.body.data.webhook.events, { clients: ['shop'], tables: ['sentinel'], types: ['row.inserted'] })
    assert.equal((await atrium.request('PATCH', `/admin/webhooks/${all.id}`, { body: { enabled: false } })).body.data.webhook.enabled, false)
    const allBefore = receiver.at('/all').length
    const before = receiver.at('/customers').length
    await insert('sentinel', { id: 11, label: 'after patch' })
    await until('the sentinel row at /customers', () => receiver.at('/customers').length > before)
    assert.equal(verify(customers.secret, receiver.at('/customers').at(-1)!).data.table, 'sentinel')
    assert.equal(receiver.at('/all').length, allBefore, 'the disabled endpoint got nothing')
    assert.equal((await atrium.request('DELETE', `/admin/webhooks/${customers.id}`)).status, 200)
    const gone = await atrium.get(`/admin/webhooks/${customers.id}`)
    assert.equal(gone.status, 404)
    assert.equal(gone.body.code, 'webhook_not_found')
    assert.equal((await atrium.catalog.query('SELECT 1 FROM atrium.webhook_deliveries WHERE endpoint_id = $1', [customers.id])).length, 0)
  })

  await t.test('bad input is a 400 with a stable code', async () => {
    for (const url of ['not a url', 'ftp://example.com/x', 'http://user:pw@example.com/x']) {
      const res = await atrium.post('/admin/webhooks', { body: { url } })
      assert.equal(res.status, 400, url)
      assert.equal(res.body.code, 'invalid_request')
    }
    assert.equal((await atrium.post('/admin/webhooks', { body: { url: `${receiver.base}/x`, events: { kinds: [] } } })).status, 400)
    const cursor = await atrium.get(`/admin/webhooks/${all.id}/deliveries?cursor=garbage`)
    assert.equal(cursor.status, 400)
    assert.equal(cursor.body.code, 'invalid_cursor')
    const page = await atrium.get(`/admin/webhooks/${all.id}/deliveries?limit=1`)
    assert.equal(page.body.data.deliveries.length, 1)
    const next = await atrium.get(`/admin/webhooks/${all.id}/deliveries?limit=1&cursor=${page.body.data.next_cursor}`)
    assert.notEqual(next.body.data.deliveries[0].id, page.body.data.deliveries[0].id)
  })

  await t.test('only the admin key manages webhooks', async () => {
    const { key } = await createKey(atrium, { rights: ['*'] })
    const routes: [string, string][] = [['GET', '/admin/webhooks'], ['POST', '/admin/webhooks'], ['GET', `/admin/webhooks/${all.id}`],
      ['DELETE', `/admin/webhooks/${all.id}`], ['GET', `/admin/webhooks/${all.id}/deliveries`], ['POST', `/admin/webhooks/${all.id}/test`]]
    for (const [method, path] of routes) {
      const body = method === 'POST' ? {} : undefined
      assert.equal((await atrium.request(method, path, { key: null, body })).status, 401, `${method} ${path} without a key`)
      assert.equal((await atrium.request(method, path, { key, body })).status, 403, `${method} ${path} with an API key`)
    }
    assert.equal((await atrium.get(`/admin/webhooks/${all.id}`)).status, 200, 'still there')
  })

  await t.test('without webhooks.allowPrivate, URLs that resolve to internal addresses are refused', async () => {
    const strict = await startTestAtrium(t, { catalog: atrium.catalog, env: { ATRIUM_WORKERS: '0' } })
    for (const url of [`${receiver.base}/x`, 'http://localhost:9/x', 'http://10.1.2.3/x', 'http://[::1]:80/x', 'http://169.254.169.254/latest']) {
      const res = await strict.post('/admin/webhooks', { body: { url } })
      assert.equal(res.status, 400, url)
      assert.equal(res.body.code, 'webhook_url_not_allowed')
      assert.match(res.body.message, /loopback, private or link-local/)
      assert.match(res.body.hint, /ATRIUM_WEBHOOKS_ALLOW_PRIVATE/)
    }
    const patch = await strict.request('PATCH', `/admin/webhooks/${all.id}`, { body: { url: 'http://192.168.1.1/' } })
    assert.equal(patch.body.code, 'webhook_url_not_allowed')
  })

  await t.test('secrets never reach the log', () => {
    assert.ok(!atrium.logs().includes(all.secret.slice(6)), 'the secret is not logged')
  })
})

// An endpoint that nothing reached for about a day (a delivery's last attempt failed, no success since it was
// created) is disabled, with a webhook.disabled event. The process has no workers: the test runs the delivery
// job's attempts itself, as the job queue would, so it need not wait out a day of backoff.
// On a MariaDB source the event is published with the write through XA two-phase commit: the delivery
// carries the committed row, and a write that fails publishes nothing.
test('a MariaDB write with X-Publish-Event is delivered, and a failed write is not', async (t) => {
  const db = await createMysqlDatabase(t)
  await db.load('shop')
  const receiver = await startReceiver(t)
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_WEBHOOKS_ALLOW_PRIVATE: 'true' } })
  const hook = await createWebhook(atrium, { url: `${receiver.base}/maria`, events: { clients: ['shop'], tables: ['sentinel'] } })
  const insert = (row: Record<string, unknown>) =>
    atrium.request('PUT', '/gateway/insert', { client: 'shop', body: { table_name: 'sentinel', insert_body: row }, headers: { 'x-publish-event': 'sentinel.created' } })
  assert.equal((await insert({ id: 1, label: 'duplicate key' })).status, 409, 'id 1 exists: the write fails')
  assert.equal((await insert({ id: 20, label: 'from mariadb' })).status, 200)
  await until('the delivery at /maria', () => receiver.at('/maria').length >= 1)
  const bodies = receiver.at('/maria').map((r) => verify(hook.secret, r))
  assert.deepEqual(bodies.map((b) => [b.type, b.source, b.data.table, b.data.name]), [['row.inserted', 'shop', 'sentinel', 'sentinel.created']])
  assert.deepEqual(bodies[0].data.rows, [{ id: 20, label: 'from mariadb' }])
})

test('an endpoint failing for long is disabled with an event', async (t) => {
  const receiver = await startReceiver(t)
  const atrium = await startTestAtrium(t, { env: { ATRIUM_WEBHOOKS_ALLOW_PRIVATE: 'true', ATRIUM_WORKERS: '0' } })
  const { webhooks } = atrium.handle.platform
  const attempt = (deliveryId: string, n: number) => {
    const ctx: JobContext = { jobId: deliveryId, attempt: n, signal: new AbortController().signal, progress: async () => {}, step: (_name, fn) => atrium.handle.platform.catalog.transaction(fn) }
    return webhooks.deliver({ delivery_id: deliveryId }, ctx)
  }
  const testDelivery = async (id: string) => (await atrium.post(`/admin/webhooks/${id}/test`)).body.data.delivery.id as string
  const disabledEvents = () => atrium.catalog.query<{ payload: any }>(`SELECT payload FROM atrium.events WHERE type = 'webhook.disabled'`)

  const dying = await createWebhook(atrium, { url: `${receiver.base}/dying`, events: ONLY_TESTS })
  const recovering = await createWebhook(atrium, { url: `${receiver.base}/recovering`, events: ONLY_TESTS })
  receiver.answers['/dying'] = [500, 500]
  const lost = await testDelivery(dying.id)
  await assert.rejects(attempt(lost, 1), { code: 'webhook_delivery_failed' })
  assert.equal((await atrium.get(`/admin/webhooks/${dying.id}`)).body.data.webhook.enabled, true, 'a failed attempt with retries left disables nothing')
  await assert.rejects(attempt(lost, MAX_ATTEMPTS), { code: 'webhook_delivery_failed' })
  assert.equal((await atrium.get(`/admin/webhooks/${dying.id}`)).body.data.webhook.enabled, false)
  const [record] = (await atrium.get(`/admin/webhooks/${dying.id}/deliveries`)).body.data.deliveries
  assert.deepEqual([record.status, record.attempts, record.response_status], ['failed', MAX_ATTEMPTS, 500])
  const events = await disabledEvents()
  assert.equal(events.length, 1)
  assert.equal(events[0]!.payload.webhook_id, dying.id)
  assert.equal(events[0]!.payload.url, `${receiver.base}/dying`)

  // a later delivery that got through means the endpoint works again: the old failure disables nothing
  const old = await testDelivery(recovering.id)
  const later = await testDelivery(recovering.id)
  assert.deepEqual(await attempt(later, 1), { response_status: 200 })
  receiver.answers['/recovering'] = [500]
  await assert.rejects(attempt(old, MAX_ATTEMPTS), { code: 'webhook_delivery_failed' })
  assert.equal((await atrium.get(`/admin/webhooks/${recovering.id}`)).body.data.webhook.enabled, true)
  assert.equal((await disabledEvents()).length, 1)
  assert.equal(receiver.at('/recovering').length, 2)
})

// A process killed (SIGKILL) while its delivery waits for the receiver: the job outlives it, another process
// sends the delivery once the dead attempt expires, and the receiver sees the same webhook-id twice.
test('a delivery in flight when its process is killed is delivered by another, under the same webhook-id', async (t) => {
  const receiver = await startReceiver(t)
  receiver.answers['/slow'] = [0]
  const catalog = await createPgDatabase(null, 'atrium_catalog')
  const dataDir = mkdtempSync(join(tmpdir(), 'atrium-webhooks-'))
  const env = { DATABASE_URL: catalog.url, ATHENA_KEY_12: ADMIN_KEY, ATRIUM_DATA_DIR: dataDir, ATRIUM_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789', ATRIUM_WEBHOOKS_ALLOW_PRIVATE: 'true' }
  const doomed = await spawnAtrium({ ...env, ATRIUM_WORKERS: '1' })
  t.after(() => doomed.stop('SIGKILL'))
  const call = (path: string) => fetch(`${doomed.url}${path}`, { method: 'POST', headers: { apikey: ADMIN_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ url: `${receiver.base}/slow`, events: ONLY_TESTS }) })
  const created = await (await call('/admin/webhooks')).json() as any
  const secret: string = created.data.secret
  assert.equal((await call(`/admin/webhooks/${created.data.webhook.id}/test`)).status, 202)
  await until('the first attempt reaches the receiver', () => receiver.at('/slow').length === 1)
  await doomed.stop('SIGKILL')
  assert.equal(doomed.child.signalCode, 'SIGKILL')

  // the survivor's job maintenance expires the dead attempt (expireIn 30 s), then the retry runs here
  const atrium = await startTestAtrium(t, { catalog, env: { ATRIUM_WEBHOOKS_ALLOW_PRIVATE: 'true' }, settings: { 'jobs.maintenanceIntervalSeconds': 1, 'jobs.pollIntervalMs': 200 } })
  t.after(async () => {
    await catalog.drop()
    rmSync(dataDir, { recursive: true, force: true })
  })
  await until('the delivery after the crash', () => receiver.at('/slow').length >= 2, 900)
  const [dead, delivered] = receiver.at('/slow')
  assert.equal(dead!.headers['webhook-id'], delivered!.headers['webhook-id'])
  assert.equal(verify(secret, dead!).type, 'webhook.test')
  assert.equal(verify(secret, delivered!).type, 'webhook.test')
  const deliveries = async () => (await atrium.get(`/admin/webhooks/${created.data.webhook.id}/deliveries`)).body.data.deliveries as any[]
  await until('the record says succeeded', async () => (await deliveries())[0]?.status === 'succeeded')
  const [record] = await deliveries()
  assert.equal(record.id, delivered!.headers['webhook-id'])
  assert.equal(record.response_status, 200)
})
