// Two Atrium nodes on one catalog: a client on each subscribes to a table, a write through a gateway message on
// one node, and the change event reaches both (the outbox carries it from the catalog to every node).
import assert from 'node:assert/strict'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { forEachDialect } from '../../helpers/dialects.js'
import { GatewaySocket } from '../../helpers/gateway-socket.js'

forEachDialect('WebSocket gateway on two nodes', async (t, db) => {
  await db.load('shop')
  const first = await startTestAtrium(t, { sources: { shop: db.url } })
  const second = await startTestAtrium(t, { sources: { shop: db.url }, catalog: first.catalog })
  const { key } = await createKey(first, { rights: ['gateway.read', 'gateway.insert'] })
  const sockets: GatewaySocket[] = []
  t.after(() => { for (const s of sockets) s.close() })
  const open = async (url: string) => {
    const s = await GatewaySocket.open(url, { headers: { apikey: key, 'x-athena-client': 'shop' } })
    sockets.push(s)
    assert.equal((await s.next((m) => m.type === 'ready')).authenticated, true)
    return s
  }
  const onFirst = await open(first.url)
  const onSecond = await open(second.url)
  for (const s of [onFirst, onSecond]) {
    const reply = await s.request('subscribe', { table: 'customers', event: 'INSERT', filter: 'tier=eq.gold' })
    assert.equal(reply.status, 200, JSON.stringify(reply))
  }

  const write = await onFirst.request('gateway.insert', {
    table_name: 'customers',
    insert_body: [{ id: 801, name: 'Grace', tier: 'gold' }, { id: 802, name: 'Alan', tier: 'silver' }],
  }, { headers: { 'X-Publish-Event': 'customers.created' } })
  assert.equal(write.status, 200, JSON.stringify(write))

  const [a, b] = await Promise.all([onFirst.event(), onSecond.event()])
  for (const event of [a, b]) {
    assert.equal(event.event, 'INSERT')
    assert.equal(event.name, 'customers.created')
    assert.deepEqual(event.rows.map((r: any) => [r.id, r.name]), [[801, 'Grace']])
  }
  assert.equal(a.event_id, b.event_id)

  // the admin key's connection on the second node sees writes made over HTTP on the first, too
  const admin = await GatewaySocket.open(second.url, { headers: { apikey: ADMIN_KEY, 'x-athena-client': 'shop' } })
  sockets.push(admin)
  await admin.next((m) => m.type === 'ready')
  assert.equal((await admin.request('subscribe', { table: 'customers', event: 'DELETE' })).status, 200)
  const del = await first.request('DELETE', '/gateway/delete', { client: 'shop', headers: { 'x-publish-event': 'customers.removed' }, body: { table_name: 'customers', resource_id: 802 } })
  assert.equal(del.status, 200, del.text)
  const removed = await admin.event((e) => e.event === 'DELETE')
  assert.deepEqual(removed.rows.map((r: any) => r.id), [802])
})
