// Change events without X-Publish-Event: writes through Atrium to a table someone subscribes to (on any node), and
// every committed change — by psql-like pg clients and mysql2 directly on the database — of a table an admin enabled
// for capture. Two nodes on one catalog, real `ws` clients.
import assert from 'node:assert/strict'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { ADMIN_KEY, startTestAtrium, type TestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { forEachDialect } from '../../helpers/dialects.js'
import { GatewaySocket } from '../../helpers/gateway-socket.js'

const TABLES = '/admin/clients/shop/realtime/tables'
const ids = (rows: any[]) => rows.map((r) => Number(r.id))

forEachDialect('realtime change capture', async (t, db) => {
  await db.load('shop')
  const settings = { 'realtime.capturePollMs': 200, 'realtime.maxReplayEvents': 4 }
  const first = await startTestAtrium(t, { sources: { shop: db.url }, settings })
  const second = await startTestAtrium(t, { sources: { shop: db.url }, catalog: first.catalog, settings })
  const { key: reader } = await createKey(first, { rights: ['gateway.read', 'gateway.insert', 'gateway.update', 'gateway.delete'] })
  const { key: writerOnly } = await createKey(first, { rights: ['gateway.insert'] })
  const sockets: GatewaySocket[] = []
  t.after(() => { for (const s of sockets) s.close() })
  const open = async (node: TestAtrium, key = reader) => {
    const s = await GatewaySocket.open(node.url, { headers: { apikey: key, 'x-athena-client': 'shop' } })
    sockets.push(s)
    assert.equal((await s.next((m) => m.type === 'ready')).authenticated, true)
    return s
  }
  const subscribe = async (s: GatewaySocket, payload: Record<string, unknown>) => {
    const reply = await s.request('subscribe', payload)
    assert.equal(reply.status, 200, JSON.stringify(reply))
    return reply.body.data.subscription as string
  }

  await t.test('enabling a table is for the admin key only: 401 without a key, 403 with an API key', async () => {
    for (const [key, status] of [[null, 401], [reader, 403]] as const) {
      assert.equal((await first.request('POST', TABLES, { key, body: { table: 'orders' } })).status, status)
      assert.equal((await first.request('GET', TABLES, { key })).status, status)
      assert.equal((await first.request('DELETE', `${TABLES}/orders`, { key })).status, status)
    }
  })

  await t.test('bad input is a 4xx that says what to do', async () => {
    const view = await first.request('POST', TABLES, { body: { table: 'paid_orders' } })
    assert.equal(view.status, 400, view.text)
    assert.equal(view.body.code, 'realtime_unsupported_table')
    const unknown = await first.request('POST', TABLES, { body: { table: 'nope' } })
    assert.equal(unknown.status, 400)
    assert.equal(unknown.body.code, 'unknown_table')
    const notEnabled = await first.request('DELETE', `${TABLES}/customers`)
    assert.equal(notEnabled.status, 404)
    assert.equal(notEnabled.body.code, 'realtime_table_not_found')
    assert.equal((await first.request('POST', '/admin/clients/nope/realtime/tables', { body: { table: 'orders' } })).status, 400)
  })

  await t.test('a write through /rest/v1 without any header reaches subscribers on both nodes', async () => {
    const a = await open(first)
    const b = await open(second)
    await subscribe(a, { table: 'customers' })
    await subscribe(b, { table: 'customers', filter: 'tier=eq.gold' })
    const post = await first.request('POST', '/rest/v1/customers', { client: 'shop', key: reader, body: [{ id: 701, name: 'Grace', tier: 'gold' }, { id: 702, name: 'Alan', tier: 'silver' }] })
    assert.equal(post.status, 201, post.text)
    const [ea, eb] = await Promise.all([a.event(), b.event()])
    assert.equal(ea.event, 'INSERT')
    assert.equal(ea.origin, 'atrium')
    assert.equal(ea.name, null)
    assert.deepEqual(ids(ea.rows), [701, 702])
    assert.deepEqual(ids(eb.rows), [701], 'the filter applies')
    assert.equal(ea.event_id, eb.event_id)

    const patch = await first.request('PATCH', '/rest/v1/customers?id=eq.702', { client: 'shop', key: reader, body: { tier: 'gold' } })
    assert.equal(patch.status, 204, patch.text)
    const [ua, ub] = await Promise.all([a.event(), b.event()])
    assert.equal(ua.event, 'UPDATE')
    assert.deepEqual(ub.rows.map((r: any) => [Number(r.id), r.tier]), [[702, 'gold']])

    const del = await first.request('DELETE', '/rest/v1/customers?id=in.(701,702)', { client: 'shop', key: reader })
    assert.equal(del.status, 204, del.text)
    const da = await a.event()
    assert.equal(da.event, 'DELETE')
    assert.deepEqual(ids(da.rows).sort(), [701, 702])
    a.close()
    b.close()
  })

  await t.test('a subscriber on one node makes writes through another node publish', async () => {
    // the second node learns of subscriptions on the first from the catalog's announcement
    const watchedOnSecond = async (n: number) => {
      for (let i = 0; i < 200 && (await second.get('/wss/info')).body.data.node.watched_tables !== n; i++) await new Promise((r) => setTimeout(r, 25))
      assert.equal((await second.get('/wss/info')).body.data.node.watched_tables, n)
    }
    await watchedOnSecond(0)
    const a = await open(first)
    await subscribe(a, { table: 'products', event: 'INSERT' })
    await watchedOnSecond(1)
    const put = await second.request('PUT', '/gateway/insert', { client: 'shop', key: reader, body: { table_name: 'products', insert_body: { name: 'Lamp', price: 12.5 } } })
    assert.equal(put.status, 200, put.text)
    const e = await a.event()
    assert.equal(e.event, 'INSERT')
    assert.equal(e.rows[0].name, 'Lamp')
    a.close()
  })

  await t.test('changes made directly on the database of an enabled table reach subscribers, old and new rows included', async () => {
    const enabled = await first.request('POST', TABLES, { body: { table: 'orders' } })
    assert.equal(enabled.status, 201, enabled.text)
    assert.equal(enabled.body.data.table, 'orders')
    // enabling again replaces the trigger(s), it does not add more
    assert.equal((await first.request('POST', TABLES, { body: { table: 'orders' } })).status, 201)
    const triggers = db.dialect === 'postgres'
      ? await db.query('SELECT tgname FROM pg_trigger WHERE tgrelid = \'orders\'::regclass AND NOT tgisinternal')
      : await db.query('SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = DATABASE() AND event_object_table = \'orders\'')
    assert.equal(triggers.length, db.dialect === 'postgres' ? 1 : 3)
    const listed = await second.request('GET', TABLES)
    assert.deepEqual(listed.body.data.map((r: any) => r.table), ['orders'])

    const all = await open(first)
    const paid = await open(second)
    const denied = await open(second, writerOnly)
    await subscribe(all, { table: 'orders' })
    await subscribe(paid, { table: 'orders', filter: 'status=eq.paid' })
    await subscribe(all, { table: 'sentinel' }) // not enabled: direct writes to it give nothing
    const refused = await denied.request('subscribe', { table: 'orders' })
    assert.equal(refused.status, 403, JSON.stringify(refused))

    const placed = db.dialect === 'postgres' ? 'now()' : 'now(6)'
    await db.query('INSERT INTO sentinel (id, label) VALUES (77, \'direct\')')
    await db.query(`INSERT INTO orders (id, customer_id, status, total, placed_at) VALUES (9001, 1, 'paid', 10, ${placed})`)
    await db.query('UPDATE orders SET status = \'sent\', total = 12 WHERE id = 9001')
    await db.query('DELETE FROM orders WHERE id = 9001')

    const ins = await all.event()
    assert.equal(ins.event, 'INSERT')
    assert.equal(ins.table, 'orders', 'the sentinel table is not enabled: its direct write gave no event before this one')
    assert.equal(ins.origin, 'database')
    assert.deepEqual(ins.rows.map((r: any) => [Number(r.id), r.status, Number(r.total)]), [[9001, 'paid', 10]])
    const upd = await all.event()
    assert.equal(upd.event, 'UPDATE')
    assert.deepEqual(upd.rows.map((r: any) => [r.status, Number(r.total)]), [['sent', 12]])
    assert.deepEqual(upd.old_rows.map((r: any) => [r.status, Number(r.total)]), [['paid', 10]])
    const gone = await all.event()
    assert.equal(gone.event, 'DELETE')
    assert.deepEqual(gone.rows.map((r: any) => [Number(r.id), r.status]), [[9001, 'sent']])
    assert.ok(ins.event_id < upd.event_id && upd.event_id < gone.event_id)

    // the filtered subscriber on the other node got the INSERT only (the row was no longer paid afterwards)
    const onlyPaid = await paid.event()
    assert.equal(onlyPaid.event_id, ins.event_id)

    // a write through Atrium with X-Publish-Event to a captured table is delivered once (the captured change)
    const put = await first.request('PUT', '/gateway/insert', { client: 'shop', key: reader, headers: { 'x-publish-event': 'orders.created' }, body: { table_name: 'orders', insert_body: { id: 9002, customer_id: 1, status: 'paid', total: 5, placed_at: '2026-12-07T12:00:00Z' } } })
    assert.equal(put.status, 200, put.text)
    await db.query('DELETE FROM orders WHERE id = 9002')
    const [again, removed] = [await all.event(), await all.event()]
    assert.equal(again.event, 'INSERT')
    assert.equal(again.origin, 'database')
    assert.deepEqual(ids(again.rows), [9002])
    assert.equal(removed.event, 'DELETE', 'no second copy of the insert came in between')
    assert.deepEqual(ids((await paid.event()).rows), [9002])

    // raw SQL through Atrium is captured too
    const raw = await first.post('/gateway/query', { client: 'shop', body: { query: 'UPDATE orders SET note = \'raw\' WHERE id = 1' } })
    assert.equal(raw.status, 200, raw.text)
    const rawUpdate = await all.event()
    assert.equal(rawUpdate.event, 'UPDATE')
    assert.deepEqual(rawUpdate.rows.map((r: any) => [Number(r.id), r.note]), [[1, 'raw']])
    assert.deepEqual(rawUpdate.old_rows.map((r: any) => [Number(r.id), r.note]), [[1, 'gift']])
    const paidDelete = await paid.event()
    assert.deepEqual([paidDelete.event, ids(paidDelete.rows)], ['DELETE', [9002]], 'the deleted row was paid: it matches')
    assert.deepEqual(ids((await paid.event()).rows), [1])

    // the key without read right never saw any of it
    assert.equal(denied.messages.filter((m) => m.type === 'event').length, 0)
    all.close()
    paid.close()
    denied.close()
  })

  await t.test('a change that commits after a later one is neither skipped nor reordered', async () => {
    const s = await open(first)
    await subscribe(s, { table: 'orders', event: 'INSERT' })
    const placed = db.dialect === 'postgres' ? 'now()' : 'now(6)'
    const insert = (id: number) => `INSERT INTO orders (id, customer_id, status, total, placed_at) VALUES (${id}, 1, 'paid', 1, ${placed})`
    // the first transaction draws the smaller capture id and stays open while a second one commits
    let commitFirst: () => Promise<unknown>
    if (db.dialect === 'postgres') {
      const c = new pg.Client({ connectionString: db.url })
      await c.connect()
      await c.query('BEGIN')
      await c.query(insert(9301))
      commitFirst = async () => { await c.query('COMMIT'); await c.end() }
    } else {
      const c = await mysql.createConnection({ uri: db.url })
      await c.query('START TRANSACTION')
      await c.query(insert(9301))
      commitFirst = async () => { await c.query('COMMIT'); await c.end() }
    }
    await db.query(insert(9302))
    // give the drainers (woken by the second commit, and polling) time to look while the first is still open
    await new Promise((r) => setTimeout(r, 600))
    await commitFirst()
    const [a, b] = [await s.event(), await s.event()]
    assert.deepEqual([ids(a.rows), ids(b.rows)], [[9301], [9302]])
    assert.ok(a.event_id < b.event_id)
    s.close()
  })

  await t.test('subscribe with since replays exactly the missed events, in order, then goes live', async () => {
    const s = await open(first)
    await subscribe(s, { table: 'orders' })
    const placed = db.dialect === 'postgres' ? 'now()' : 'now(6)'
    await db.query(`INSERT INTO orders (id, customer_id, status, total, placed_at) VALUES (9101, 1, 'paid', 1, ${placed})`)
    const seen = await s.event()
    s.close()
    await s.closed

    // missed while away: three changes, one of them filtered out below
    await db.query(`INSERT INTO orders (id, customer_id, status, total, placed_at) VALUES (9102, 1, 'paid', 2, ${placed})`)
    await db.query('UPDATE orders SET status = \'void\' WHERE id = 9101')
    await db.query(`INSERT INTO orders (id, customer_id, status, total, placed_at) VALUES (9103, 1, 'paid', 3, ${placed})`)
    // changes not yet drained when the replay is read arrive live after it, each once
    await db.query('UPDATE orders SET note = \'x\' WHERE id = 9103')
    const back = await open(second)
    const reply = await back.request('subscribe', { table: 'orders', filter: 'status=eq.paid', since: seen.event_id })
    assert.equal(reply.status, 200, JSON.stringify(reply))
    const replayed = [await back.event(), await back.event()]
    assert.deepEqual(replayed.map((e) => [e.event, ids(e.rows)[0]]), [['INSERT', 9102], ['INSERT', 9103]])
    assert.ok(replayed[0].event_id > seen.event_id && replayed[0].event_id < replayed[1].event_id)
    // then live: the update of 9103 (still paid), each event once
    const live = await back.event()
    assert.equal(live.event, 'UPDATE')
    assert.deepEqual(ids(live.rows), [9103])
    await db.query('DELETE FROM orders WHERE id = 9102')
    const next = await back.event()
    assert.equal(next.event, 'DELETE')
    assert.ok(next.event_id > live.event_id)

    // five events of the table after `since` now: more than realtime.maxReplayEvents (4), told to re-read
    const tooMany = await back.request('subscribe', { table: 'orders', since: seen.event_id })
    assert.equal(tooMany.status, 410, JSON.stringify(tooMany))
    assert.equal(tooMany.body.code, 'replay_unavailable')
    assert.match(tooMany.body.message, /more than 4 events/)

    // too old (or never retained): told to re-read
    const old = await back.request('subscribe', { table: 'orders', since: 0 })
    assert.equal(old.status, 410, JSON.stringify(old))
    assert.equal(old.body.code, 'replay_unavailable')
    assert.match(old.body.message, /replay window/)
    const bad = await back.request('subscribe', { table: 'orders', since: 'yesterday' })
    assert.equal(bad.status, 400)
    back.close()
  })

  await t.test('a capture table whose ids start again (recreated, TRUNCATEd) is read from its first change', async () => {
    const cursor = async () => Number((await first.catalog.query<{ last_id: string }>("SELECT last_id FROM atrium.realtime_capture_cursors WHERE client_name = 'shop'"))[0].last_id)
    assert.ok(await cursor() >= 3, 'earlier changes moved the cursor past the ids the new table will give out')
    const s = await open(second)
    await subscribe(s, { table: 'orders', event: 'INSERT' })
    await db.query(db.dialect === 'postgres' ? 'TRUNCATE atrium_realtime.changes RESTART IDENTITY' : 'TRUNCATE TABLE atrium_realtime_changes')
    const placed = db.dialect === 'postgres' ? 'now()' : 'now(6)'
    await db.query(`INSERT INTO orders (id, customer_id, status, total, placed_at) VALUES (9401, 1, 'paid', 1, ${placed})`)
    assert.deepEqual(ids((await s.event()).rows), [9401], 'capture id 1, below the old cursor, was delivered')
    await db.query(`INSERT INTO orders (id, customer_id, status, total, placed_at) VALUES (9402, 1, 'paid', 1, ${placed})`)
    assert.deepEqual(ids((await s.event()).rows), [9402], 'the next change follows, once')
    assert.equal(await cursor(), 2, 'the cursor follows the new ids')
    s.close()
  })

  await t.test('a disabled table captures nothing more', async () => {
    const off = await first.request('DELETE', `${TABLES}/orders`)
    assert.equal(off.status, 200, off.text)
    const triggers = db.dialect === 'postgres'
      ? await db.query('SELECT tgname FROM pg_trigger WHERE tgrelid = \'orders\'::regclass AND NOT tgisinternal')
      : await db.query('SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = DATABASE() AND event_object_table = \'orders\'')
    assert.deepEqual(triggers, [], 'the capture triggers are dropped')
    assert.equal((await first.request('GET', TABLES)).body.data.length, 0)
    const s = await open(first, ADMIN_KEY)
    await subscribe(s, { table: 'orders' })
    const placed = db.dialect === 'postgres' ? 'now()' : 'now(6)'
    await db.query(`INSERT INTO orders (id, customer_id, status, total, placed_at) VALUES (9201, 1, 'paid', 1, ${placed})`)
    // a write through Atrium still reaches the subscribers (orders has one now): it is the only event
    const post = await first.request('POST', '/rest/v1/orders', { client: 'shop', key: reader, body: { id: 9202, customer_id: 1, status: 'paid', total: 2, placed_at: '2026-12-07T12:00:00Z' } })
    assert.equal(post.status, 201, post.text)
    const e = await s.event()
    assert.equal(e.origin, 'atrium')
    assert.deepEqual(ids(e.rows), [9202], 'the direct insert of 9201 gave no event')
    s.close()
  })
})
