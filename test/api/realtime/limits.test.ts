// The WebSocket gateway's limits: subscriptions and messages in flight per connection, connections per node,
// the auth timeout, and a slow consumer told and dropped (its backlog bounded) while a fast one keeps going.
import assert from 'node:assert/strict'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { forEachDialect } from '../../helpers/dialects.js'
import { GatewaySocket } from '../../helpers/gateway-socket.js'

forEachDialect('WebSocket gateway limits', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, {
    sources: { shop: db.url },
    settings: {
      'realtime.maxSubscriptions': 2,
      'realtime.maxInFlight': 1,
      'realtime.maxConnections': 4,
      'realtime.maxBufferedBytes': 65_536,
      // long enough for the test to resume reading; the drop itself does not wait for it
      'realtime.slowConsumerGraceMs': 120_000,
      'realtime.authTimeoutMs': 300,
    },
  })
  const sockets: GatewaySocket[] = []
  t.after(() => { for (const s of sockets) s.close() })
  const open = async () => {
    const s = await GatewaySocket.open(atrium.url, { headers: { apikey: ADMIN_KEY, 'x-athena-client': 'shop' } })
    sockets.push(s)
    await s.next((m) => m.type === 'ready')
    return s
  }
  const node = async () => (await atrium.get('/wss/info', { key: null })).body.data.node as { connections: number; slow_consumers_dropped: number }

  await t.test('a connection holds at most realtime.maxSubscriptions subscriptions', async () => {
    const s = await open()
    assert.equal((await s.request('subscribe', { table: 'orders' })).status, 200)
    assert.equal((await s.request('subscribe', { table: 'customers' })).status, 200)
    const third = await s.request('subscribe', { table: 'products' })
    assert.equal(third.status, 429)
    assert.equal(third.body.code, 'too_many_subscriptions')
    s.close()
    await s.closed
  })

  await t.test('messages past realtime.maxInFlight are answered 429, the others normally', async () => {
    const s = await open()
    // sent together: the first is still being answered (it reads the database) when the others arrive
    for (let i = 0; i < 5; i++) s.ws.send(JSON.stringify({ id: `f${i}`, action: 'gateway.fetch', payload: { table_name: 'customers', columns: 'id', limit: 10 } }))
    const replies = await Promise.all([0, 1, 2, 3, 4].map((i) => s.next((m) => m.id === `f${i}`)))
    assert.equal(replies[0].status, 200)
    const busy = replies.filter((r) => r.status === 429)
    assert.ok(busy.length >= 1, JSON.stringify(replies.map((r) => r.status)))
    for (const r of busy) assert.equal(r.body.code, 'too_many_in_flight')
    s.close()
    await s.closed
  })

  await t.test('a connection that sends no credential in time is closed with 4401', async () => {
    const s = await GatewaySocket.open(atrium.url)
    const notice = await s.next((m) => m.type === 'error')
    assert.equal(notice.code, 'authentication_required')
    assert.equal((await s.closed).code, 4401)
  })

  await t.test('a node holds at most realtime.maxConnections connections', async () => {
    const held = [await open(), await open(), await open(), await open()]
    const extra = await GatewaySocket.open(atrium.url, { headers: { apikey: ADMIN_KEY } })
    const notice = await extra.next((m) => m.type === 'error')
    assert.equal(notice.code, 'too_many_connections')
    assert.equal((await extra.closed).code, 4429)
    for (const s of held) s.close()
    await Promise.all(held.map((s) => s.closed))
  })

  await t.test('a slow consumer is told and dropped; a fast one on the same table keeps its events', async () => {
    const slow = await open()
    const fast = await open()
    assert.equal((await slow.request('subscribe', { table: 'orders' })).status, 200)
    assert.equal((await fast.request('subscribe', { table: 'orders' })).status, 200)
    const before = (await node()).slow_consumers_dropped
    // the slow client stops reading: what the server sends it piles up in the kernel, then in its own buffer
    slow.ws.pause()
    const note = 'x'.repeat(190)
    let id = 20_000
    let dropped = false
    for (let round = 0; round < 300 && !dropped; round++) {
      const rows = Array.from({ length: 500 }, () => ({ id: id++, customer_id: 1, status: 'new', total: 1, placed_at: '2024-03-01T00:00:00Z', note }))
      const res = await atrium.request('PUT', '/gateway/insert', { client: 'shop', headers: { 'x-publish-event': 'orders.bulk' }, body: { table_name: 'orders', insert_body: rows } })
      assert.equal(res.status, 200, res.text)
      // the fast client reads every event (and so the node is never waiting on it)
      await fast.event((e) => e.rows.at(-1)?.id === id - 1)
      dropped = (await node()).slow_consumers_dropped > before
    }
    assert.ok(dropped, 'the slow consumer was never dropped')
    slow.ws.resume()
    const notice = await slow.next((m) => m.type === 'error', 'the slow_consumer notice', 60_000)
    assert.equal(notice.code, 'slow_consumer')
    assert.match(notice.message, /unread/)
    assert.equal((await slow.closed).code, 4008)
    // the fast client is still served
    assert.equal((await fast.request('ping')).type, 'pong')
    const metrics = await atrium.get('/metrics')
    assert.match(metrics.text, /athena_realtime_slow_consumers_dropped_total [1-9]/)
    assert.match(metrics.text, /athena_realtime_connections \d/)
  })
})
