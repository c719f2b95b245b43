import assert from 'node:assert/strict'
import { startTestAtrium } from '../../helpers/atrium.js'
import { forEachDialect } from '../../helpers/dialects.js'
import type { AtriumEvent, RowEventV1 } from '../../../src/outbox/events.js'

forEachDialect('gateway writes', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const put = (body: unknown, headers?: Record<string, string>) => atrium.request('PUT', '/gateway/insert', { client: 'shop', body, headers })
  const del = (body: unknown) => atrium.request('DELETE', '/gateway/delete', { client: 'shop', body })
  const update = (body: unknown) => atrium.post('/gateway/update', { client: 'shop', body })
  const count = async (sql: string) => Number(Object.values((await db.query(sql))[0])[0])

  await t.test('PUT /gateway/insert inserts one object and returns the row with defaults', async () => {
    const res = await put({ table_name: 'customers', insert_body: { id: 20, name: 'Hedy', email: 'hedy@example.com' } })
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.equal(res.body.message, 'Inserted 1 row')
    assert.deepEqual(res.body.data, [{ id: 20, name: 'Hedy', email: 'hedy@example.com', tier: null, created_at: '2024-01-01T00:00:00+00:00' }])
    assert.equal(await count('SELECT count(*) FROM customers WHERE id = 20'), 1)
  })

  await t.test('an array inserts several rows in one statement; columns shape what comes back', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: 100 + i, name: `Bulk ${i}` }))
    const res = await put({ table_name: 'customers', insert_body: rows, columns: 'id,name' })
    assert.equal(res.status, 200)
    assert.equal(res.body.message, 'Inserted 50 rows')
    assert.deepEqual(res.body.data[49], { id: 149, name: 'Bulk 49' })
    assert.equal(await count('SELECT count(*) FROM customers WHERE id >= 100'), 50)
  })

  await t.test('a failing row rolls the whole insert back', async () => {
    const res = await put({ table_name: 'customers', insert_body: [{ id: 200, name: 'ok' }, { id: 201, name: null }] })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'not_null_violation')
    assert.equal(await count('SELECT count(*) FROM customers WHERE id IN (200, 201)'), 0)
  })

  await t.test('duplicates are 409 unique_violation', async () => {
    const res = await put({ table_name: 'customers', insert_body: { id: 1, name: 'again' } })
    assert.equal(res.status, 409)
    assert.equal(res.body.code, 'unique_violation')
    assert.equal(res.body.data.operation, 'gateway.insert')
  })

  await t.test('update_body upserts: inserts when new, applies update_body on conflict', async () => {
    const first = await put({ table_name: 'customers', insert_body: { id: 30, name: 'Ida' }, update_body: { tier: 'gold' } })
    assert.equal(first.status, 200)
    assert.deepEqual(first.body.data.map((r: { name: string; tier: null }) => [r.name, r.tier]), [['Ida', null]])
    const second = await put({ table_name: 'customers', insert_body: { id: 30, name: 'Ida B' }, update_body: { tier: 'gold' } })
    assert.equal(second.body.message, 'Upserted 1 row')
    assert.deepEqual(second.body.data.map((r: { name: string; tier: string }) => [r.name, r.tier]), [['Ida', 'gold']])
    const merged = await put({ table_name: 'customers', insert_body: { id: 30, name: 'Ida C' }, on_conflict: 'id' })
    assert.equal(merged.body.data[0].name, 'Ida C')
  })

  await t.test('POST /gateway/update with update_body updates matching rows and returns them', async () => {
    const res = await update({ table_name: 'orders', conditions: [{ eq_column: 'status', eq_value: 'pending' }], update_body: { note: 'rushed' }, columns: 'id,note' })
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.equal(res.body.message, 'Updated 1 row')
    assert.deepEqual(res.body.data, [{ id: 2, note: 'rushed' }])
  })

  await t.test('update without conditions is refused and changes nothing', async () => {
    const res = await update({ table_name: 'orders', update_body: { note: 'all' } })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'missing_filter')
    assert.equal(await count("SELECT count(*) FROM orders WHERE note = 'all'"), 0)
  })

  await t.test('POST /gateway/update without update_body fetches like /gateway/fetch', async () => {
    const res = await update({ table_name: 'orders', columns: 'id', conditions: [{ eq_column: 'id', eq_value: '3' }] })
    assert.deepEqual(res.body.data, [{ id: 3 }])
  })

  await t.test('DELETE /gateway/delete by resource_id, by conditions, never without a filter', async () => {
    const byId = await del({ table_name: 'customers', resource_id: '20' })
    assert.equal(byId.status, 200, JSON.stringify(byId.body))
    assert.equal(byId.body.message, 'Deleted 1 row')
    assert.equal(byId.body.data[0].name, 'Hedy')
    const byConditions = await del({ table_name: 'customers', conditions: [{ operator: 'gte', column: 'id', value: 100 }] })
    assert.equal(byConditions.body.message, 'Deleted 50 rows')
    const sdkStyle = await del({ table_name: 'customers', conditions: [{ operator: 'eq', column: 'resource_id', value: 30 }] })
    assert.equal(sdkStyle.body.message, 'Deleted 1 row')
    const none = await del({ table_name: 'customers' })
    assert.equal(none.status, 400)
    assert.equal(none.body.code, 'missing_filter')
    assert.equal(await count('SELECT count(*) FROM customers'), 3)
  })

  await t.test('deleting a referenced row is a 409 foreign_key_violation', async () => {
    const res = await del({ table_name: 'customers', resource_id: 1 })
    assert.equal(res.status, 409)
    assert.equal(res.body.code, 'foreign_key_violation')
  })

  await t.test('head: true or Prefer: return=minimal write without sending rows back', async () => {
    const rows = [{ id: 300, name: 'Min A' }, { id: 301, name: 'Min B' }, { id: 302, name: 'Min C' }]
    const inserted = await put({ table_name: 'customers', insert_body: rows, head: true })
    assert.equal(inserted.status, 200, JSON.stringify(inserted.body))
    assert.equal(inserted.body.message, 'Inserted 3 rows')
    assert.deepEqual(inserted.body.data, [])
    assert.equal(await count('SELECT count(*) FROM customers WHERE id BETWEEN 300 AND 302'), 3)

    const byHeader = await put({ table_name: 'customers', insert_body: { id: 303, name: 'Min D' } }, { prefer: 'return=minimal' })
    assert.equal(byHeader.status, 200)
    assert.deepEqual(byHeader.body.data, [])
    assert.equal(byHeader.headers.get('preference-applied'), 'return=minimal')
    assert.equal(await count("SELECT count(*) FROM customers WHERE id = 303 AND name = 'Min D'"), 1)

    const updated = await update({ table_name: 'customers', conditions: [{ operator: 'gte', column: 'id', value: 300 }], update_body: { tier: 'min' }, head: true })
    assert.equal(updated.body.message, 'Updated 4 rows')
    assert.deepEqual(updated.body.data, [])
    assert.equal(await count("SELECT count(*) FROM customers WHERE tier = 'min'"), 4)

    const refused = await put({ table_name: 'customers', insert_body: { id: 304, name: 'Bad head' }, head: 'yes' })
    assert.equal(refused.status, 400)
    assert.match(refused.body.message, /head/)
    assert.equal(await count('SELECT count(*) FROM customers WHERE id = 304'), 0)

    const deleted = await atrium.request('DELETE', '/gateway/delete', {
      client: 'shop', body: { table_name: 'customers', conditions: [{ operator: 'gte', column: 'id', value: 300 }] }, headers: { prefer: 'return=minimal' },
    })
    assert.equal(deleted.body.message, 'Deleted 4 rows')
    assert.deepEqual(deleted.body.data, [])
    assert.equal(await count('SELECT count(*) FROM customers WHERE id >= 300'), 0)
  })

  await t.test('X-Publish-Event publishes the written rows through the outbox', async () => {
    const seen: AtriumEvent[] = []
    const off = atrium.handle.platform.outbox.subscribe('row.inserted', (e) => seen.push(e))
    await put({ table_name: 'sentinel', insert_body: { id: 2, label: 'evented' } }, { 'x-publish-event': 'sentinel.created' })
    await put({ table_name: 'sentinel', insert_body: { id: 3, label: 'quiet' } })
    // delivery follows the commit: wait (bounded) for the event to arrive
    for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 100))
    off()
    assert.equal(seen.length, 1)
    const payload = seen[0].payload as RowEventV1
    assert.equal(seen[0].type, 'row.inserted')
    assert.equal(payload.version, 1)
    assert.equal(payload.name, 'sentinel.created')
    assert.equal(payload.table, 'sentinel')
    assert.deepEqual(payload.rows, [{ id: 2, label: 'evented' }])
    const stored = await atrium.catalog.query<{ type: string; source: string }>('SELECT type, source FROM atrium.events')
    assert.deepEqual(stored, [{ type: 'row.inserted', source: 'shop' }])
  })

  await t.test('the fetch cache serves repeats and returns fresh data after a write through Atrium', async () => {
    const body = { table_name: 'sentinel', columns: 'id,label', sort_by: { field: 'id' } }
    const first = await atrium.post('/gateway/fetch', { client: 'shop', body })
    await db.query("UPDATE sentinel SET label = 'changed behind Atrium' WHERE id = 1")
    const cached = await atrium.post('/gateway/fetch', { client: 'shop', body })
    assert.deepEqual(cached.body.data, first.body.data, 'served from the cache')
    const bypass = await atrium.post('/gateway/fetch', { client: 'shop', body, headers: { 'cache-control': 'no-cache' } })
    assert.equal(bypass.body.data[0].label, 'changed behind Atrium')
    await update({ table_name: 'sentinel', conditions: [{ eq_column: 'id', eq_value: '3' }], update_body: { label: 'through Atrium' } })
    const fresh = await atrium.post('/gateway/fetch', { client: 'shop', body })
    assert.equal(fresh.body.data.find((r: { id: number }) => r.id === 3).label, 'through Atrium')
    const metrics = await atrium.get('/metrics')
    assert.match(metrics.text, /athena_fetch_cache_events_total\{result="hit"\} [1-9]/)
  })

  await t.test('the request log reaches the catalog in batches', async () => {
    await atrium.handle.platform.requestLog.flush()
    const rows = await atrium.catalog.query<{ operation: string; n: string }>(
      "SELECT operation, count(*) AS n FROM atrium.request_log WHERE client_name = 'shop' GROUP BY operation ORDER BY operation")
    const ops = Object.fromEntries(rows.map((r) => [r.operation, Number(r.n)]))
    assert.ok(ops['gateway.insert'] >= 6, JSON.stringify(ops))
    assert.ok(ops['gateway.delete'] >= 4)
    const cached = await atrium.catalog.query("SELECT count(*) AS n FROM atrium.request_log WHERE cached AND table_name = 'sentinel'")
    assert.ok(Number(cached[0].n) >= 1)
  })
})
