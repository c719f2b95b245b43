// The request log never stalls: hostile requests (NUL bytes in table names and paths) are logged or refused
// without poisoning a batch, and a line the catalog refuses is dropped and counted while the rest is written.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../helpers/atrium.js'
import { createDatabase } from '../helpers/databases.js'

test('the request log keeps flushing after hostile requests and refused lines', async (t) => {
  const db = await createDatabase(t, 'postgres')
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_REQUEST_LOG_FLUSH_MS: '200' } })
  const logged = async (requestId: string) => {
    const rows = await atrium.catalog.query('SELECT status, table_name, path FROM atrium.request_log WHERE request_id = $1', [requestId])
    return rows as Array<{ status: number; table_name: string | null; path: string }>
  }
  const waitFor = async (requestId: string) => {
    for (let i = 0; i < 50; i++) {
      const rows = await logged(requestId)
      if (rows.length) return rows
      await new Promise((r) => setTimeout(r, 100))
    }
    return []
  }

  await t.test('requests with NUL in table_name or the path do not stop later entries', async () => {
    const bad = [
      await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'customers\u0000x' }, headers: { 'x-request-id': 'nul-body' } }),
      await atrium.get('/rest/v1/customers%00x', { client: 'shop', headers: { 'x-request-id': 'nul-path' } }),
      await atrium.get('/rest/v1/customers?name=eq.%00', { client: 'shop', headers: { 'x-request-id': 'nul-query' } }),
    ]
    for (const res of bad) assert.equal(res.status, 400, res.text)
    const good = await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'customers', columns: 'id' }, headers: { 'x-request-id': 'after-nul' } })
    assert.equal(good.status, 200)
    assert.equal((await waitFor('after-nul')).length, 1, 'the later request was logged')
    for (const id of ['nul-body', 'nul-path', 'nul-query']) {
      const rows = await logged(id)
      assert.equal(rows.length, 1, `${id} was logged`)
      assert.equal(rows[0].status, 400)
      assert.ok(!rows[0].path.includes('\u0000'))
    }
  })

  await t.test('a line the catalog refuses is dropped and counted; the rest of its batch is written', async () => {
    const { requestLog, metrics } = atrium.handle.platform
    const before = requestLog.dropped
    const entry = (requestId: string, status: number, table: string | null = 'customers') => ({
      at: new Date(), requestId, client: 'shop', table, operation: 'gateway.fetch', method: 'POST', path: '/gateway/fetch', status, durationMs: 1,
      cached: false, apiKeyId: null, userId: null, companyId: null, organizationId: null, sqlClass: null,
    })
    // a status past the integer column's range: the catalog refuses that one line (22003) and nothing else
    requestLog.record(entry('line-before', 200))
    requestLog.record(entry('line-refused', 10_000_000_000))
    requestLog.record(entry('line-nul', 200, 'custo\u0000mers'))
    requestLog.record(entry('line-after', 201))
    await requestLog.flush()
    assert.equal(requestLog.dropped - before, 1)
    assert.equal((await logged('line-before')).length, 1)
    assert.equal((await logged('line-after')).length, 1)
    assert.equal((await logged('line-refused')).length, 0)
    assert.equal((await logged('line-nul'))[0].table_name, 'custo\ufffdmers')
    const scraped = await metrics.registry.getSingleMetricAsString('athena_request_log_dropped_total')
    assert.match(scraped, /athena_request_log_dropped_total\{reason="unwritable"\} 1/)

    // and the log goes on flushing on its own
    const res = await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'customers', columns: 'id' }, headers: { 'x-request-id': 'after-refused' } })
    assert.equal(res.status, 200)
    assert.equal((await waitFor('after-refused')).length, 1)
  })
})
