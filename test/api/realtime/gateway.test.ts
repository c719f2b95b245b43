// The WebSocket gateway through a real `ws` client: authentication (header, query, auth.hello with a key or a
// JWT; a bad key is told and closed), data actions equal to their HTTP routes, rights refused per message,
// subscriptions with filters, unsubscribe, and malformed messages.
import assert from 'node:assert/strict'
import { SignJWT } from 'jose'
import { ADMIN_KEY, startTestAtrium, type TestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { forEachDialect } from '../../helpers/dialects.js'
import { GatewaySocket } from '../../helpers/gateway-socket.js'

const JWT_SECRET = 'test-jwt-secret-0123456789abcdef-0123456789'

function signToken(role: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ sub: 'user-1', role, iat: now, exp: now + 300 }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(JWT_SECRET))
}

/** a connection authenticated at the upgrade with `key`, once the server says it is ready */
async function connect(atrium: TestAtrium, key: string, headers: Record<string, string> = {}): Promise<GatewaySocket> {
  const socket = await GatewaySocket.open(atrium.url, { headers: { apikey: key, ...headers } })
  const ready = await socket.next((m) => m.type === 'ready', 'ready')
  assert.equal(ready.authenticated, true, JSON.stringify(ready))
  return socket
}

forEachDialect('WebSocket gateway', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, {
    sources: { shop: db.url },
    env: { ATRIUM_JWT_SECRET: JWT_SECRET },
    // re-checks often, so a revoked key is seen within the test
    settings: { 'sessions.roleRights': { reader: ['gateway.read'] }, 'realtime.recheckMs': 100 },
  })
  const sockets: GatewaySocket[] = []
  t.after(() => { for (const s of sockets) s.close() })
  const open = async (key: string, headers?: Record<string, string>) => {
    const s = await connect(atrium, key, headers)
    sockets.push(s)
    return s
  }
  const admin = await open(ADMIN_KEY, { 'x-athena-client': 'shop' })

  await t.test('a key in the apikey header or ?apikey= authenticates at the upgrade', async () => {
    const { key } = await createKey(atrium, { rights: ['gateway.read'] })
    const byHeader = await open(key)
    assert.equal((await byHeader.request('ping')).type, 'pong')
    const byQuery = await GatewaySocket.open(atrium.url, { path: `/wss/gateway?apikey=${encodeURIComponent(key)}` })
    sockets.push(byQuery)
    assert.equal((await byQuery.next((m) => m.type === 'ready')).authenticated, true)
  })

  await t.test('auth.hello with a key, then with a session JWT', async () => {
    const { key } = await createKey(atrium, { rights: ['gateway.read'] })
    const s = await GatewaySocket.open(atrium.url)
    sockets.push(s)
    assert.equal((await s.next((m) => m.type === 'ready')).authenticated, false)
    const early = await s.request('gateway.fetch', { table_name: 'customers' }, { client: 'shop' })
    assert.equal(early.status, 401)
    assert.equal(early.body.code, 'authentication_required')
    const hello = await s.request('auth.hello', { key })
    assert.equal(hello.status, 200, JSON.stringify(hello))
    assert.equal(hello.body.data.principal, 'key')
    const again = await s.request('auth.hello', { key })
    assert.equal(again.body.code, 'invalid_message')

    const byHeader = await GatewaySocket.open(atrium.url, { headers: { authorization: `Bearer ${await signToken('reader')}` } })
    sockets.push(byHeader)
    assert.equal((await byHeader.next((m) => m.type === 'ready')).principal, 'user')

    const user = await GatewaySocket.open(atrium.url)
    sockets.push(user)
    const helloJwt = await user.request('auth.hello', { token: await signToken('reader') })
    assert.equal(helloJwt.status, 200, JSON.stringify(helloJwt))
    assert.equal(helloJwt.body.data.principal, 'user')
    const read = await user.request('gateway.fetch', { table_name: 'customers', columns: 'id', limit: 1 }, { client: 'shop' })
    assert.equal(read.status, 200, JSON.stringify(read))
    const write = await user.request('gateway.insert', { table_name: 'sentinel', insert_body: { id: 700, label: 'no' } }, { client: 'shop' })
    assert.equal(write.status, 403)
    assert.equal(write.body.code, 'missing_right')
  })

  await t.test('a bad key is told why and the connection closes with 4401', async () => {
    const atUpgrade = await GatewaySocket.open(atrium.url, { headers: { apikey: 'ath_nope.not-a-real-secret' } })
    const notice = await atUpgrade.next((m) => m.type === 'error')
    assert.equal(notice.code, 'invalid_api_key')
    assert.match(notice.message, /key/)
    assert.equal((await atUpgrade.closed).code, 4401)

    const byHello = await GatewaySocket.open(atrium.url)
    const reply = await byHello.request('auth.hello', { key: 'wrong-admin-key' })
    assert.equal(reply.status, 401)
    assert.equal(reply.body.status, 'error')
    assert.equal((await byHello.closed).code, 4401)
  })

  await t.test('a key revoked, or a right taken away, closes the connection at the next re-check', async () => {
    const revoked = await createKey(atrium, { rights: ['gateway.read'] })
    const a = await open(revoked.key, { 'x-athena-client': 'shop' })
    const off = await atrium.request('PATCH', `/admin/api-keys/${revoked.id}`, { body: { is_active: false } })
    assert.equal(off.status, 200, off.text)
    const notice = await a.next((m) => m.type === 'error', 'the revocation notice')
    assert.equal(notice.code, 'inactive_api_key')
    assert.equal((await a.closed).code, 4401)

    const narrowed = await createKey(atrium, { rights: ['gateway.read', 'gateway.insert'] })
    const b = await open(narrowed.key, { 'x-athena-client': 'shop' })
    assert.equal((await b.request('subscribe', { table: 'orders' })).status, 200)
    const patched = await atrium.request('PATCH', `/admin/api-keys/${narrowed.id}`, { body: { rights: ['gateway.insert'] } })
    assert.equal(patched.status, 200, patched.text)
    const lost = await b.next((m) => m.type === 'error', 'the lost-right notice')
    assert.equal(lost.code, 'missing_right')
    assert.match(lost.message, /s1/)
    assert.equal((await b.closed).code, 4403)
  })

  await t.test('a plain GET of the gateway is 426; a binary frame is an invalid message', async () => {
    const plain = await atrium.get('/wss/gateway', { key: null })
    assert.equal(plain.status, 426)
    assert.equal(plain.body.code, 'upgrade_required')
    admin.ws.send(Buffer.from('{"id":"b","action":"ping"}'), { binary: true })
    const binary = await admin.next((m) => m.type === 'reply' && m.id === null)
    assert.equal(binary.body.code, 'invalid_message')
    assert.match(binary.body.message, /text frame/)
  })

  await t.test('data actions answer with the HTTP route\'s status and body', async () => {
    const fetchBody = { table_name: 'customers', columns: 'id,name', sort_by: { field: 'id' }, limit: 3 }
    const ws = await admin.request('gateway.fetch', fetchBody)
    const http = await atrium.post('/gateway/fetch', { client: 'shop', body: fetchBody })
    assert.equal(ws.status, http.status)
    assert.deepEqual(ws.body, http.body)

    const queryBody = { query: 'SELECT id, name FROM customers ORDER BY id LIMIT 2' }
    const wsQuery = await admin.request('gateway.query', queryBody)
    const httpQuery = await atrium.post('/gateway/query', { client: 'shop', body: queryBody })
    assert.equal(wsQuery.status, 200, JSON.stringify(wsQuery))
    assert.deepEqual(wsQuery.body.data, httpQuery.body.data)

    const inserted = await admin.request('gateway.insert', { table_name: 'sentinel', insert_body: { id: 501, label: 'by socket' } })
    assert.equal(inserted.status, 200, JSON.stringify(inserted))
    assert.equal(inserted.body.message, 'Inserted 1 row')
    assert.deepEqual(inserted.body.data, [{ id: 501, label: 'by socket' }])
    const updated = await admin.request('gateway.update', { table_name: 'sentinel', conditions: [{ eq_column: 'id', eq_value: 501 }], update_body: { label: 'changed' } })
    assert.equal(updated.body.message, 'Updated 1 row', JSON.stringify(updated))
    const deleted = await admin.request('gateway.delete', { table_name: 'sentinel', resource_id: 501 })
    assert.equal(deleted.body.message, 'Deleted 1 row', JSON.stringify(deleted))
    const gone = await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'sentinel', conditions: [{ eq_column: 'id', eq_value: 501 }] } })
    assert.deepEqual(gone.body.data, [])

    // the same refusals as HTTP: a body the route's schema rejects, an unknown table
    const bad = await admin.request('gateway.fetch', { table_name: 'nope_table', limit: 1 })
    const badHttp = await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'nope_table', limit: 1 } })
    assert.equal(bad.status, badHttp.status)
    assert.equal(bad.body.code, badHttp.body.code)
    // a reply is one message: a read names its size, at most realtime.maxFetchRows
    const unbounded = await admin.request('gateway.fetch', { table_name: 'customers' })
    assert.equal(unbounded.status, 400)
    assert.equal(unbounded.body.code, 'invalid_message')
    assert.match(unbounded.body.message, /limit/)
    const tooMany = await admin.request('gateway.fetch', { table_name: 'customers', page_size: 1_001 })
    assert.equal(tooMany.status, 400)
    assert.match(tooMany.body.message, /at most 1000/)
    const noClient = await admin.request('gateway.fetch', fetchBody, { client: 'no_such_client' })
    assert.equal(noClient.status, 400)
    assert.equal(noClient.body.code, 'unknown_client')
  })

  await t.test('rights are checked per message, as on HTTP', async () => {
    const { key } = await createKey(atrium, { rights: ['gateway.insert'] })
    const writer = await open(key, { 'x-athena-client': 'shop' })
    const read = await writer.request('gateway.fetch', { table_name: 'customers', limit: 10 })
    assert.equal(read.status, 403)
    assert.equal(read.body.code, 'missing_right')
    assert.equal(read.body.data.required_right, 'gateway.read')
    const sub = await writer.request('subscribe', { table: 'orders' })
    assert.equal(sub.status, 403, JSON.stringify(sub))
    assert.equal(sub.body.code, 'missing_right')
    const sql = await writer.request('gateway.query', { query: 'SELECT 1' })
    assert.equal(sql.status, 403)

    const { key: bound } = await createKey(atrium, { rights: ['gateway.read'], client_name: 'elsewhere' })
    const other = await open(bound)
    const refused = await other.request('subscribe', { table: 'orders' }, { client: 'shop' })
    assert.equal(refused.status, 403, JSON.stringify(refused))
    assert.equal(refused.body.code, 'client_not_allowed')
  })

  await t.test('subscribe: change events of a table, filtered like /rest/v1; unsubscribe stops them', async () => {
    const { key } = await createKey(atrium, { rights: ['gateway.read'] })
    const reader = await open(key, { 'x-athena-client': 'shop' })
    const paid = await reader.request('subscribe', { table: 'orders', filter: 'status=eq.paid' })
    assert.equal(paid.status, 200, JSON.stringify(paid))
    const inserts = await reader.request('subscribe', { table: 'orders', event: 'INSERT' })
    const all = await reader.request('subscribe', { table: 'orders' })
    const paidId = paid.body.data.subscription
    const insertId = inserts.body.data.subscription
    const allId = all.body.data.subscription

    const order = (id: number, status: string) => ({ id, customer_id: 1, status, total: 10, placed_at: '2024-02-01T00:00:00Z' })
    const put = await atrium.request('PUT', '/gateway/insert', {
      client: 'shop',
      headers: { 'x-publish-event': 'orders.created' },
      body: { table_name: 'orders', insert_body: [order(9001, 'paid'), order(9002, 'pending')] },
    })
    assert.equal(put.status, 200, put.text)
    const filtered = await reader.event((e) => e.subscription === paidId)
    assert.equal(filtered.event, 'INSERT')
    assert.equal(filtered.table, 'orders')
    assert.equal(filtered.client, 'shop')
    assert.equal(filtered.name, 'orders.created')
    assert.deepEqual(filtered.rows.map((r: any) => r.id), [9001])
    const everything = await reader.event((e) => e.subscription === allId)
    assert.deepEqual(everything.rows.map((r: any) => r.id).sort(), [9001, 9002])
    await reader.event((e) => e.subscription === insertId)

    // an update: the INSERT-only subscription stays quiet, the others hear it
    const unsub = await reader.request('unsubscribe', { subscription: paidId })
    assert.equal(unsub.status, 200, JSON.stringify(unsub))
    const upd = await atrium.post('/gateway/update', {
      client: 'shop',
      headers: { 'x-publish-event': 'orders.paid' },
      body: { table_name: 'orders', conditions: [{ eq_column: 'id', eq_value: 9002 }], update_body: { status: 'paid' } },
    })
    assert.equal(upd.status, 200, upd.text)
    const updated = await reader.event((e) => e.subscription === allId)
    assert.equal(updated.event, 'UPDATE')
    assert.equal(updated.rows[0].status, 'paid')
    // one event reaches a connection's subscriptions in one pass: had the others matched, they would be here
    assert.equal(reader.messages.filter((m) => m.type === 'event' && (m.subscription === paidId || m.subscription === insertId)).length, 0)

    const again = await reader.request('unsubscribe', { subscription: paidId })
    assert.equal(again.status, 404)
    assert.equal(again.body.code, 'subscription_not_found')
  })

  await t.test('malformed messages and subscriptions get a 4xx that says what is wrong', async () => {
    admin.ws.send('not json')
    const notJson = await admin.next((m) => m.type === 'reply' && m.id === null)
    assert.equal(notJson.status, 400)
    assert.equal(notJson.body.code, 'invalid_message')
    const unknown = await admin.request('gateway.explode')
    assert.equal(unknown.body.code, 'unknown_action')
    const header = await admin.request('gateway.fetch', { table_name: 'customers' }, { headers: { 'x-forwarded-for': '10.0.0.1' } })
    assert.equal(header.body.code, 'invalid_message')
    const cases: Array<[unknown, number, string]> = [
      [{}, 400, 'invalid_message'],
      [{ table: 'nope_table' }, 400, 'unknown_table'],
      [{ table: 'orders', filter: 'nope=eq.1' }, 400, 'unknown_column'],
      [{ table: 'orders', filter: 'note=fts.word' }, 400, 'invalid_filter'],
      [{ table: 'orders', filter: 'id=eq.1&order=id' }, 400, 'invalid_filter'],
      [{ table: 'orders', event: 'TRUNCATE' }, 400, 'invalid_message'],
    ]
    for (const [payload, status, code] of cases) {
      const reply = await admin.request('subscribe', payload)
      assert.equal(reply.status, status, JSON.stringify([payload, reply]))
      assert.equal(reply.body.code, code, JSON.stringify([payload, reply]))
    }
  })

  await t.test('/wss/info describes the live contract and /openapi-wss.yaml the messages', async () => {
    const info = await atrium.get('/wss/info', { key: null })
    assert.equal(info.status, 200)
    assert.equal(info.body.data.state, 'available')
    assert.ok(info.body.data.actions.includes('gateway.fetch') && info.body.data.actions.includes('subscribe'))
    assert.deepEqual(info.body.data.events, ['INSERT', 'UPDATE', 'DELETE'])
    assert.equal(info.body.data.limits.max_in_flight_per_connection, 16)
    assert.ok(info.body.data.node.connections >= 1)
    const doc = await atrium.get('/openapi-wss.yaml', { key: null })
    assert.equal(doc.status, 200)
    assert.match(doc.text, /ClientMessage/)
    assert.match(doc.text, /\/wss\/gateway/)
  })
})
