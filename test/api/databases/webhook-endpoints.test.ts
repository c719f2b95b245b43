// /api/v1/webhook_endpoints end to end: a team's endpoint gets its own team's database and blueprint events,
// signed (Standard Webhooks) by the secret shown once, from the one webhooks engine; another team's endpoint
// is 404 and receives none of them; test deliveries, deliveries listing and revoking.
import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { Webhook } from 'standardwebhooks'
import { startDatabasesAtrium } from './helpers.js'
import { untilTrue } from '../../helpers/until.js'

const until = (what: string, ready: () => boolean | Promise<boolean>) => untilTrue(what, ready, 600)

interface Received { path: string; headers: IncomingHttpHeaders; body: string }

async function startReceiver(t: { after(fn: () => Promise<void>): void }) {
  const received: Received[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => { body += chunk })
    req.on('end', () => {
      received.push({ path: req.url ?? '/', headers: req.headers, body })
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections() }))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { base, at: (path: string) => received.filter((r) => r.path === path) }
}


const verify = (secret: string, r: Received) => new Webhook(secret).verify(r.body, {
  'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']),
}) as any

test('webhook endpoints of a team', async (t) => {
  const receiver = await startReceiver(t)
  const atrium = await startDatabasesAtrium(t, { 'webhooks.allowPrivate': true })
  const { key } = await atrium.createPlatformKey()
  const { key: other } = await atrium.createPlatformKey()
  const { key: readOnly } = await atrium.createPlatformKey({ scopes: ['webhooks:read'] })
  const { key: noWebhooks } = await atrium.createPlatformKey({ scopes: ['databases:read'] })

  const created = await atrium.api('POST', '/api/v1/webhook_endpoints', key, { body: { url: `${receiver.base}/all` } })
  assert.equal(created.status, 201, created.text)
  const all = created.body.data
  const secret: string = created.body.secret
  assert.match(secret, /^whsec_/)
  assert.equal(all.object, 'webhook_endpoint')
  assert.equal(typeof all.id, 'number')
  assert.equal(all.status, 'active')
  assert.deepEqual(all.events, ['database.provisioned', 'database.deleted', 'database.paused', 'database.resumed', 'database.quota_warning', 'blueprint.applied'])
  const onlyDeleted = (await atrium.api('POST', '/api/v1/webhook_endpoints', key, { body: { url: `${receiver.base}/deleted`, events: ['database.deleted'] } })).body
  const otherTeam = (await atrium.api('POST', '/api/v1/webhook_endpoints', other, { body: { url: `${receiver.base}/other` } })).body.data

  await t.test('the secret is shown once; lists never show it', async () => {
    const list = await atrium.api('GET', '/api/v1/webhook_endpoints', key)
    assert.equal(list.status, 200, list.text)
    assert.deepEqual(list.body.data.map((e: any) => e.id), [onlyDeleted.data.id, all.id])
    assert.ok(!list.text.includes(secret))
    const page = await atrium.api('GET', `/api/v1/webhook_endpoints?limit=1`, key)
    assert.equal(page.body.has_more, true)
    const next = await atrium.api('GET', `/api/v1/webhook_endpoints?limit=1&starting_after=${page.body.data[0].id}`, key)
    assert.deepEqual(next.body.data.map((e: any) => e.id), [all.id])
  })

  await t.test('bad input is a 422 naming the field', async () => {
    const badEvent = await atrium.api('POST', '/api/v1/webhook_endpoints', key, { body: { url: `${receiver.base}/x`, events: ['row.inserted'] } })
    assert.equal(badEvent.status, 422)
    assert.equal(badEvent.body.error.details.field, 'events')
    const badUrl = await atrium.api('POST', '/api/v1/webhook_endpoints', key, { body: { url: 'ftp://example.com/x' } })
    assert.equal(badUrl.status, 400)
    assert.equal(badUrl.body.error.code, 'invalid_request')
    assert.match(badUrl.body.error.message, /http/)
  })

  await t.test('a test delivery is signed with the secret and answered with its outcome', async () => {
    const res = await atrium.api('POST', `/api/v1/webhook_endpoints/${all.id}/test_deliveries`, key)
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.data.object, 'webhook_delivery')
    assert.equal(res.body.data.event_type, 'webhook.test')
    assert.equal(res.body.data.endpoint_id, all.id)
    await until('the test delivery', () => receiver.at('/all').length === 1)
    assert.equal(verify(secret, receiver.at('/all')[0]!).type, 'webhook.test')
  })

  await t.test("the team's database and blueprint events arrive; another team's endpoint gets none", async () => {
    const db = await atrium.api('POST', '/api/v1/databases?wait=true&timeout=60', key, { body: { name: 'hooked' } })
    assert.equal(db.status, 201, db.text)
    atrium.track(db.body.data)
    const bp = (await atrium.api('POST', '/api/v1/blueprints', key, { body: { name: 'noop', sql_content: 'CREATE TABLE t (id int)' } })).body.data
    const applied = await atrium.api('POST', `/api/v1/databases/${db.body.data.uuid}/blueprint_applications`, key, { body: { blueprint_uuid: bp.uuid, timeout: 60 } })
    assert.equal(applied.body.data.status, 'completed', applied.text)
    assert.equal((await atrium.api('DELETE', `/api/v1/databases/${db.body.data.uuid}`, key)).status, 200)
    const types = () => receiver.at('/all').map((r) => verify(secret, r)).filter((b) => b.type !== 'webhook.test').map((b) => b.type).sort()
    await until('three events', () => types().length >= 3)
    assert.deepEqual(types(), ['blueprint.applied', 'database.deleted', 'database.provisioned'])
    const provisioned = receiver.at('/all').map((r) => JSON.parse(r.body)).find((b) => b.type === 'database.provisioned')
    assert.equal(provisioned.data.database_id, db.body.data.uuid)
    await until('the filtered endpoint', () => receiver.at('/deleted').length >= 1)
    assert.deepEqual(receiver.at('/deleted').map((r) => verify(onlyDeleted.secret, r).type), ['database.deleted'])
    // the other team's endpoint is told of nothing: a test delivery to it arrives, and nothing before it
    await atrium.api('POST', `/api/v1/webhook_endpoints/${otherTeam.id}/test_deliveries`, other)
    await until("the other team's test delivery", () => receiver.at('/other').length >= 1)
    assert.deepEqual(receiver.at('/other').map((r) => JSON.parse(r.body).type), ['webhook.test'])
  })

  await t.test('deliveries are listed newest first', async () => {
    const res = await atrium.api('GET', `/api/v1/webhook_endpoints/${all.id}/deliveries?limit=2`, key)
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.data.length, 2)
    assert.equal(res.body.has_more, true)
    assert.ok(res.body.data[0].id > res.body.data[1].id)
    const rest = await atrium.api('GET', `/api/v1/webhook_endpoints/${all.id}/deliveries?starting_after=${res.body.data[1].id}`, key)
    assert.equal(rest.body.data.length, 2)
    assert.ok([...res.body.data, ...rest.body.data].every((d: any) => d.status === 'delivered' && d.response_code === 200 && d.attempt_count === 1))
  })

  await t.test("another team's endpoint is 404 on every route; scopes are required", async () => {
    assert.equal((await atrium.api('GET', `/api/v1/webhook_endpoints/${all.id}/deliveries`, other)).body.error.code, 'webhook_not_found')
    assert.equal((await atrium.api('POST', `/api/v1/webhook_endpoints/${all.id}/test_deliveries`, other)).status, 404)
    assert.equal((await atrium.api('DELETE', `/api/v1/webhook_endpoints/${all.id}`, other)).status, 404)
    assert.deepEqual((await atrium.api('GET', '/api/v1/webhook_endpoints', other)).body.data.map((e: any) => e.id), [otherTeam.id])
    assert.equal((await atrium.api('GET', '/api/v1/webhook_endpoints', null)).status, 401)
    const denied = await atrium.api('GET', '/api/v1/webhook_endpoints', noWebhooks)
    assert.equal(denied.status, 403)
    assert.equal(denied.body.error.code, 'missing_scope')
    assert.equal((await atrium.api('POST', '/api/v1/webhook_endpoints', readOnly, { body: { url: `${receiver.base}/x` } })).status, 403)
    assert.equal((await atrium.api('DELETE', `/api/v1/webhook_endpoints/${all.id}`, readOnly)).status, 403)
  })

  await t.test('revoke keeps the record and stops deliveries', async () => {
    const res = await atrium.api('DELETE', `/api/v1/webhook_endpoints/${all.id}`, key)
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body.data, { id: all.id, status: 'revoked' })
    const listed = (await atrium.api('GET', '/api/v1/webhook_endpoints', key)).body.data.find((e: any) => e.id === all.id)
    assert.equal(listed.status, 'revoked')
    assert.equal(typeof listed.last_success_at, 'string')
    const test2 = await atrium.api('POST', `/api/v1/webhook_endpoints/${all.id}/test_deliveries`, key)
    assert.equal(test2.status, 422)
    const enabled = await atrium.catalog.query<{ enabled: boolean }>('SELECT enabled FROM atrium.webhook_endpoints WHERE number = $1', [all.id])
    assert.equal(enabled[0]!.enabled, false)
  })
})
