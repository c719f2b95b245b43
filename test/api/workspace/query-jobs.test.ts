// Saved queries and query jobs through HTTP: a run answers its job id at once and a worker runs it on DuckDB into
// a Parquet result in the object store, with BigQuery-style statistics, a stored-result cache, paged results,
// a download, cancel (DuckDB interrupted), references held to the project's datasets, column masking below
// Dataset editor, and another tenant's jobs as 404s.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import type { DuckDbEngine } from '../../../src/warehouse/duckdb-engine.js'
import { tableNameOf } from '../../../src/warehouse/duckdb-engine.js'
import { as, startWorkspace, type Caller } from './workspace-helpers.js'

test('Workspace query jobs', async (t) => {
  const { call, settle: settlePath, atrium, tenants: [a, b] } = await startWorkspace(t)
  const engine = atrium.handle.platform.warehouseEngine as DuckDbEngine
  const editor = as(a, 'Dataset editor')
  const user = as(a, 'Dataset user')

  const project = (await call(as(a, 'Org admin'), 'POST', '/api/v1/projects', { name: 'Analytics' })).body
  const otherProject = (await call(as(a, 'Org admin'), 'POST', '/api/v1/projects', { name: 'Secret' })).body
  const dataset = (await call(editor, 'POST', '/api/v1/datasets', { name: 'sales', project_id: project.id })).body
  const hidden = (await call(editor, 'POST', '/api/v1/datasets', { name: 'hr', project_id: otherProject.id })).body
  const orders = (await call(editor, 'POST', '/api/v1/tables', { name: 'orders', dataset_id: dataset.id, schema: { columns: [
    { name: 'id', type: 'BIGINT', nullable: false }, { name: 'email', type: 'VARCHAR', private: true }, { name: 'amount', type: 'DECIMAL(10,2)' },
  ] } })).body
  await call(editor, 'POST', '/api/v1/tables', { name: 'salaries', dataset_id: hidden.id, schema: { columns: [{ name: 'pay', type: 'INTEGER' }] } })
  const ordersRef = { tenantId: a.id, datasetId: dataset.id, tableId: orders.id }
  await engine.withConnection(a.id, (c) => c.run(`INSERT INTO ${tableNameOf(ordersRef)} VALUES
    (1, 'ada@example.test', 10.50), (2, 'bob@example.test', 20), (3, NULL, 30.25), (4, 'cy@example.test', 40), (5, 'di@example.test', 50)`))
  const saved = await call(user, 'POST', '/api/v1/queries', { query_text: 'SELECT 1', project_id: project.id })
  assert.equal(saved.status, 201, saved.text)
  const queryId = saved.body.id as string

  const settle = (who: Caller, jobId: string) => settlePath(who, `/api/v1/query_jobs/${jobId}`)
  const run = async (who: Caller, sql: string) => {
    const res = await call(who, 'POST', '/api/v1/queries/run', { query_id: queryId, query_text: sql })
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(Object.keys(res.body), ['job_id'])
    return res.body.job_id as string
  }

  await t.test('a run answers its job id; the job finishes with statistics; results page', async () => {
    const jobId = await run(editor, 'SELECT id, amount FROM sales.orders ORDER BY id')
    const job = await settle(editor, jobId)
    assert.equal(job.status, 'done', JSON.stringify(job.error_result))
    assert.equal(job.total_rows, 5)
    assert.equal(job.total_bytes_processed, 5 * (8 + 16 + 16), 'rows × the nominal widths of the columns of the tables read')
    assert.equal(job.cache_hit, false)
    assert.equal(job.num_dml_affected_rows, null, 'a SELECT affects no rows')
    assert.ok(Array.isArray(job.query_plan) && job.query_plan.length > 0, 'EXPLAIN\'s plan')
    assert.deepEqual(job.timeline.map((p: { phase: string }) => p.phase), ['compiled', 'ran', 'stored'])
    assert.ok(job.started && job.ended && job.running_job_id)

    const page1 = await call(editor, 'GET', `/api/v1/query_jobs/${jobId}/results?page=1&page_size=2`)
    assert.equal(page1.status, 200, page1.text)
    assert.deepEqual(page1.body.rows, [{ id: 1, amount: 10.5 }, { id: 2, amount: 20 }])
    assert.deepEqual(page1.body.columns, [{ name: 'id', type: 'BIGINT' }, { name: 'amount', type: 'DECIMAL(10,2)' }])
    assert.equal(page1.body.total_pages, 3)
    assert.equal(page1.body.total_rows, 5)
    const page3 = await call(editor, 'GET', `/api/v1/query_jobs/${jobId}/results?page=3&page_size=2`)
    assert.deepEqual(page3.body.rows, [{ id: 5, amount: 50 }])
    assert.deepEqual((await call(editor, 'GET', `/api/v1/query_jobs/${jobId}/results?page=9&page_size=2`)).body.rows, [])
    for (const q of ['page=0', 'page_size=0', 'page_size=201']) {
      const bad = await call(editor, 'GET', `/api/v1/query_jobs/${jobId}/results?${q}`)
      assert.equal(bad.status, 422, q)
      assert.equal(bad.body.detail[0].loc[0], 'query')
    }

    const file = await call(editor, 'GET', `/api/v1/queries/results/${jobId}/download`)
    assert.equal(file.status, 200)
    assert.equal(file.headers.get('content-type'), 'application/vnd.apache.parquet')
    assert.ok(file.text.startsWith('PAR1'), 'a Parquet file')

    const listed = await call(user, 'GET', `/api/v1/queries/${queryId}/query_jobs`)
    assert.ok(listed.body.query_jobs.some((j: { id: string }) => j.id === jobId))
  })

  await t.test('an identical query over unchanged tables is answered from the stored result', async () => {
    const sql = 'SELECT count(*) AS n FROM sales.orders'
    const first = await settle(editor, await run(editor, sql))
    assert.equal(first.cache_hit, false)
    const second = await settle(editor, await run(editor, sql))
    assert.equal(second.cache_hit, true)
    assert.equal(second.total_bytes_processed, 0)
    assert.equal(second.total_rows, 1)
    assert.deepEqual((await call(editor, 'GET', `/api/v1/query_jobs/${second.id}/results`)).body.rows, [{ n: 5 }])
    // a schema change is a change: the next run computes again
    const changed = await call(editor, 'PUT', `/api/v1/tables/${orders.id}`, { schema: { columns: [
      { name: 'id', type: 'BIGINT', nullable: false }, { name: 'email', type: 'VARCHAR', private: true }, { name: 'amount', type: 'DECIMAL(10,2)' }, { name: 'note', type: 'VARCHAR' },
    ] } })
    assert.equal(changed.status, 200, changed.text)
    assert.equal((await settle(editor, await run(editor, sql))).cache_hit, false)
  })

  await t.test('references outside the project, table functions, DDL and other statements are refused with a 422', async () => {
    const cases: Array<[string, RegExp]> = [
      ['SELECT * FROM hr.salaries', /not a table of a dataset this project may read/],
      ['SELECT * FROM orders', /dataset\.table/],
      ['SELECT * FROM memory.sales.orders', /dataset\.table/],
      ["SELECT * FROM read_csv('/etc/passwd')", /table functions/],
      ['SELECT * FROM duckdb_tables()', /table functions/],
      ['SELECT * FROM information_schema.tables', /not a table of a dataset/],
      ['SELECT * FROM sales.orders WHERE id IN (SELECT pay FROM hr.salaries)', /hr\.salaries/],
      ['DELETE FROM hr.salaries', /hr\.salaries is not a table of a dataset this project may read/],
      ['CREATE TABLE sales.extra (a INTEGER)', /DDL is not supported/],
      ["COPY sales.orders TO '/tmp/x.csv'", /only SELECT/],
      ["ATTACH '/tmp/x.duckdb' AS x", /only SELECT/],
      ['SELECT 1; SELECT 2', /exactly one/],
      ['SELEC 1', /cannot be parsed/],
    ]
    for (const [sql, msg] of cases) {
      const res = await call(editor, 'POST', '/api/v1/queries/run', { query_id: queryId, query_text: sql })
      assert.equal(res.status, 422, `${sql}: ${res.text}`)
      assert.match(res.body.detail[0].msg, msg, sql)
      assert.deepEqual(res.body.detail[0].loc, ['body', 'query_text'])
    }
    const cte = await settle(editor, await run(editor, 'WITH big AS (SELECT * FROM sales.orders WHERE amount > 25) SELECT count(*) AS n FROM big'))
    assert.equal(cte.status, 'done', 'a CTE name is not a table reference')
    const failed = await settle(editor, await run(editor, "SELECT CAST('x' || id AS INTEGER) FROM sales.orders"))
    assert.equal(failed.status, 'failed')
    assert.equal(failed.error_result.reason, 'invalid_query')
    assert.match(failed.error_result.message, /Conversion Error|convert/i)
    assert.equal((await call(editor, 'GET', `/api/v1/query_jobs/${failed.id}/results`)).status, 409)
  })

  await t.test('private columns are masked below Dataset editor, in every expression over them', async () => {
    const sql = "SELECT id, email, upper(email) AS shout, count(*) OVER (PARTITION BY email) AS n FROM sales.orders WHERE id <= 2 ORDER BY id"
    const masked = await settle(user, await run(user, sql))
    assert.equal(masked.status, 'done', JSON.stringify(masked.error_result))
    assert.deepEqual(masked.column_privacy, { email: 'masked' })
    assert.equal(masked.private_row_count, 2)
    const rows = (await call(user, 'GET', `/api/v1/query_jobs/${masked.id}/results`)).body
    assert.deepEqual(rows.rows, [{ id: 1, email: null, shout: null, n: 2 }, { id: 2, email: null, shout: null, n: 2 }])
    assert.deepEqual(rows.column_privacy, { email: 'masked' })
    const filtered = await settle(user, await run(user, "SELECT count(*) AS n FROM sales.orders WHERE email LIKE 'ada%'"))
    assert.deepEqual((await call(user, 'GET', `/api/v1/query_jobs/${filtered.id}/results`)).body.rows, [{ n: 0 }], 'a filter cannot probe a masked value')

    const plain = await settle(editor, await run(editor, sql))
    assert.deepEqual(plain.column_privacy, { email: 'visible' })
    assert.equal(plain.private_row_count, 0)
    assert.equal((await call(editor, 'GET', `/api/v1/query_jobs/${plain.id}/results`)).body.rows[0].email, 'ada@example.test')
    // the editor's unmasked result is not for a Dataset user's eyes
    assert.equal((await call(user, 'GET', `/api/v1/query_jobs/${plain.id}/results`)).status, 403)
    assert.equal((await call(user, 'GET', `/api/v1/queries/results/${plain.id}/download`)).status, 403)
  })

  await t.test('cancel interrupts a running DuckDB query: status cancelled', async () => {
    const slow = 'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10000000000) SELECT count(*) FROM r'
    const jobId = await run(editor, slow)
    for (let i = 0; i < 600; i++) {
      if ((await call(editor, 'GET', `/api/v1/query_jobs/${jobId}`)).body.status === 'running') break
      await sleep(50)
    }
    const cancelled = await call(editor, 'POST', '/api/v1/queries/cancel', { job_id: jobId })
    assert.equal(cancelled.status, 200, cancelled.text)
    assert.equal(cancelled.body.status, 'cancelled')
    const job = await settle(editor, jobId)
    assert.equal(job.status, 'cancelled')
    assert.equal(job.error_result, null)
    // the connection is free again: the next query runs
    assert.equal((await settle(editor, await run(editor, 'SELECT 42 AS answer'))).status, 'done')
  })

  await t.test('another tenant: its ids are 404s and its lists are its own', async () => {
    const jobId = (await call(editor, 'GET', '/api/v1/query_jobs')).body.query_jobs[0].id
    const other = as(b, 'Org admin')
    for (const [method, path, body] of [
      ['GET', `/api/v1/query_jobs/${jobId}`, undefined],
      ['GET', `/api/v1/query_jobs/${jobId}/results`, undefined],
      ['GET', `/api/v1/queries/results/${jobId}/download`, undefined],
      ['POST', '/api/v1/queries/cancel', { job_id: jobId }],
      ['GET', `/api/v1/queries/${queryId}`, undefined],
      ['PUT', `/api/v1/queries/${queryId}`, { query_text: 'SELECT 2' }],
      ['DELETE', `/api/v1/queries/${queryId}`, undefined],
      ['GET', `/api/v1/queries/${queryId}/query_jobs`, undefined],
      ['POST', '/api/v1/queries/run', { query_id: queryId, query_text: 'SELECT 1' }],
      ['POST', '/api/v1/queries', { query_text: 'SELECT 1', project_id: project.id }],
    ] as const) {
      const res = await call(other, method, path, body)
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`)
    }
    assert.deepEqual((await call(other, 'GET', '/api/v1/query_jobs')).body.query_jobs, [])
    assert.deepEqual((await call(other, 'GET', '/api/v1/queries')).body.queries, [])
    assert.equal((await call({ token: null }, 'GET', '/api/v1/query_jobs')).status, 401)
  })
})
