// Query cost and quotas: bytes processed × the price per TB, the daily quota checked before a run is accepted
// (refused with a detail naming it), usage recorded after, and the summary and history for Org admins only.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import type { DuckDbEngine } from '../../../src/warehouse/duckdb-engine.js'
import { tableNameOf } from '../../../src/warehouse/duckdb-engine.js'
import { as, startWorkspace } from './workspace-helpers.js'

test('Workspace query cost and quotas', async (t) => {
  // 5 rows × (8 + 8) bytes = 80 bytes per query over the table, priced at exactly 1 USD
  const { call, atrium, tenants: [a, b] } = await startWorkspace(t, { env: {
    ATRIUM_WORKSPACE_PRICE_PER_TB_USD: String(1e12 / 80), ATRIUM_WORKSPACE_DAILY_QUOTA_USD: '2.5', ATRIUM_WORKSPACE_MONTHLY_QUOTA_USD: '100',
  } })
  const engine = atrium.handle.platform.warehouseEngine as DuckDbEngine
  const admin = as(a, 'Org admin')
  const project = (await call(admin, 'POST', '/api/v1/projects', { name: 'p' })).body
  const dataset = (await call(admin, 'POST', '/api/v1/datasets', { name: 'm', project_id: project.id })).body
  const table = (await call(admin, 'POST', '/api/v1/tables', { name: 'points', dataset_id: dataset.id, schema: { columns: [{ name: 'id', type: 'BIGINT' }, { name: 'v', type: 'DOUBLE' }] } })).body
  await engine.withConnection(a.id, (c) => c.run(`INSERT INTO ${tableNameOf({ tenantId: a.id, datasetId: dataset.id, tableId: table.id })} SELECT i, i * 1.5 FROM range(5) t(i)`))
  const query = (await call(admin, 'POST', '/api/v1/queries', { query_text: 'SELECT 1', project_id: project.id })).body

  const runAndSettle = async (sql: string) => {
    const res = await call(admin, 'POST', '/api/v1/queries/run', { query_id: query.id, query_text: sql })
    if (res.status !== 200) return res
    for (let i = 0; i < 600; i++) {
      const job = await call(admin, 'GET', `/api/v1/query_jobs/${res.body.job_id}`)
      if (!['pending', 'running'].includes(job.body.status)) return job
      await sleep(100)
    }
    throw new Error('the query job did not finish')
  }

  await t.test('runs are priced; the daily quota refuses the run that would pass it', async () => {
    const first = await runAndSettle('SELECT sum(v) FROM m.points')
    assert.equal(first.body.status, 'done', first.text)
    assert.equal(first.body.total_bytes_processed, 80)
    assert.equal((await runAndSettle('SELECT max(v) FROM m.points')).body.status, 'done')
    const refused = await call(admin, 'POST', '/api/v1/queries/run', { query_id: query.id, query_text: 'SELECT min(v) FROM m.points' })
    assert.equal(refused.status, 429, refused.text)
    assert.match(refused.body.detail, /daily query quota of 2\.500000 USD/)
    assert.ok(Number(refused.headers.get('retry-after')) > 0)
    // a query over no table costs nothing and still runs
    assert.equal((await runAndSettle('SELECT 42')).body.status, 'done')
  })

  await t.test('the summary and the history, for Org admins of the tenant only', async () => {
    const summary = await call(admin, 'GET', '/api/v1/query-quota')
    assert.equal(summary.status, 200, summary.text)
    assert.equal(summary.body.usage.daily_usd, '2.000000')
    assert.equal(summary.body.daily_remaining_usd, '0.500000')
    assert.equal(summary.body.daily_percentage_used, 80)
    assert.equal(summary.body.is_daily_quota_exceeded, false)
    assert.equal(summary.body.quota.daily_limit_usd, '2.500000')

    const history = await call(admin, 'GET', '/api/v1/query-quota/history?page=1&page_size=2')
    assert.equal(history.status, 200)
    assert.equal(history.body.total, 3)
    assert.equal(history.body.items.length, 2)
    assert.deepEqual(history.body.items.map((i: { cost_usd: string }) => i.cost_usd), ['0.000000', '1.000000'], 'newest first')
    assert.equal((await call(admin, 'GET', '/api/v1/query-quota/history?page_size=101')).status, 422)

    assert.equal((await call(as(a, 'Dataset editor'), 'GET', '/api/v1/query-quota')).status, 403)
    assert.equal((await call(as(a, 'Dataset user'), 'GET', '/api/v1/query-quota/history')).status, 403)
    const other = await call(as(b, 'Org admin'), 'GET', '/api/v1/query-quota')
    assert.equal(other.body.usage.daily_usd, '0.000000', 'another tenant\'s usage is its own')
    assert.equal((await call(as(b, 'Org admin'), 'GET', '/api/v1/query-quota/history')).body.total, 0)
  })
})
