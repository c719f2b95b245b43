// INSERT, UPDATE and DELETE in query jobs through HTTP: rows really change (read back with a SELECT job), the
// counts land in num_dml_affected_rows and dml_stats, a stored result is not reused after a DML on a table it
// read, and everything else — DDL, other projects' tables, a Dataset user, RETURNING, several statements — is
// refused with a 422 (403 for the role) naming why.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { DuckDbEngine } from '../../../src/warehouse/duckdb-engine.js'
import { tableNameOf } from '../../../src/warehouse/duckdb-engine.js'
import { as, startWorkspace, type Caller } from './workspace-helpers.js'

test('Workspace DML in query jobs', async (t) => {
  const { call, settle: settlePath, atrium, tenants: [a] } = await startWorkspace(t)
  const admin = as(a, 'Org admin')
  const editor = as(a, 'Dataset editor')
  const user = as(a, 'Dataset user')

  const project = (await call(admin, 'POST', '/api/v1/projects', { name: 'Shop' })).body
  const elsewhere = (await call(admin, 'POST', '/api/v1/projects', { name: 'People' })).body
  const sales = (await call(editor, 'POST', '/api/v1/datasets', { name: 'sales', project_id: project.id })).body
  const hr = (await call(editor, 'POST', '/api/v1/datasets', { name: 'hr', project_id: elsewhere.id })).body
  const orders = await call(editor, 'POST', '/api/v1/tables', { name: 'orders', dataset_id: sales.id, schema: { columns: [
    { name: 'id', type: 'BIGINT', nullable: false }, { name: 'email', type: 'VARCHAR', private: true }, { name: 'amount', type: 'DECIMAL(10,2)' },
  ] } })
  assert.equal(orders.status, 201, orders.text)
  await call(editor, 'POST', '/api/v1/tables', { name: 'salaries', dataset_id: hr.id, schema: { columns: [{ name: 'pay', type: 'INTEGER' }] } })
  const queryId = (await call(editor, 'POST', '/api/v1/queries', { query_text: 'SELECT 1', project_id: project.id })).body.id as string

  const settle = (who: Caller, jobId: string) => settlePath(who, `/api/v1/query_jobs/${jobId}`)
  const submit = (who: Caller, sql: string) => call(who, 'POST', '/api/v1/queries/run', { query_id: queryId, query_text: sql })
  const run = async (who: Caller, sql: string) => {
    const res = await submit(who, sql)
    assert.equal(res.status, 200, res.text)
    const job = await settle(who, res.body.job_id)
    assert.equal(job.status, 'done', `${sql}: ${JSON.stringify(job.error_result)}`)
    return job
  }
  const rows = async (sql: string) => {
    const job = await run(editor, sql)
    const page = await call(editor, 'GET', `/api/v1/query_jobs/${job.id}/results?page=1&page_size=200`)
    assert.equal(page.status, 200, page.text)
    return page.body.rows as Array<Record<string, unknown>>
  }

  await t.test('INSERT … VALUES and INSERT … SELECT add rows and count them', async () => {
    const job = await run(editor, "INSERT INTO sales.orders (id, email, amount) VALUES (1, 'ada@example.test', 10.50), (2, 'bo@example.test', 20), (3, NULL, 30)")
    assert.equal(job.num_dml_affected_rows, 3)
    assert.deepEqual(job.dml_stats, { inserted_row_count: 3, updated_row_count: 0, deleted_row_count: 0 })
    assert.equal(job.total_rows, null, 'a DML statement returns no rows')
    assert.ok(job.query_plan, 'the plan of the statement')
    const results = await call(editor, 'GET', `/api/v1/query_jobs/${job.id}/results`)
    assert.equal(results.status, 409)
    assert.match(results.body.detail, /INSERT.*no rows.*num_dml_affected_rows/)

    const copied = await run(editor, 'INSERT INTO sales.orders SELECT id + 10, email, amount * 2 FROM sales.orders WHERE amount >= 20')
    assert.equal(copied.num_dml_affected_rows, 2)
    assert.deepEqual(await rows('SELECT id, amount FROM sales.orders ORDER BY id'), [
      { id: 1, amount: 10.5 }, { id: 2, amount: 20 }, { id: 3, amount: 30 }, { id: 12, amount: 40 }, { id: 13, amount: 60 },
    ])
  })

  await t.test('UPDATE changes the rows its WHERE picks, with values from expressions and subqueries', async () => {
    const job = await run(editor, 'UPDATE sales.orders AS o SET amount = amount + 1, email = upper(email) WHERE o.id IN (SELECT id FROM sales.orders WHERE id < 3)')
    assert.equal(job.num_dml_affected_rows, 2)
    assert.deepEqual(job.dml_stats, { inserted_row_count: 0, updated_row_count: 2, deleted_row_count: 0 })
    assert.deepEqual(await rows('SELECT id, email, amount FROM sales.orders WHERE id < 4 ORDER BY id'), [
      { id: 1, email: 'ADA@EXAMPLE.TEST', amount: 11.5 }, { id: 2, email: 'BO@EXAMPLE.TEST', amount: 21 }, { id: 3, email: null, amount: 30 },
    ])
    const noMatch = await run(editor, 'UPDATE sales.orders SET amount = 0 WHERE id = 999')
    assert.equal(noMatch.num_dml_affected_rows, 0)
  })

  await t.test('DELETE removes the rows its WHERE picks', async () => {
    const job = await run(editor, 'DELETE FROM sales.orders WHERE id > 10')
    assert.equal(job.num_dml_affected_rows, 2)
    assert.deepEqual(job.dml_stats, { inserted_row_count: 0, updated_row_count: 0, deleted_row_count: 2 })
    assert.deepEqual((await rows('SELECT id FROM sales.orders ORDER BY id')).map((r) => r.id), [1, 2, 3])
  })

  await t.test('a job whose statement already committed (a retry after a crash) does not apply it again', async () => {
    const job = await run(editor, "INSERT INTO sales.orders VALUES (50, 'x@example.test', 5)")
    assert.equal(job.num_dml_affected_rows, 1)
    // what a retried attempt of the same job does: the engine finds the job's run in the tenant's database
    const engine = atrium.handle.platform.warehouseEngine as DuckDbEngine
    const again = await engine.runDml(a.id, `DELETE FROM ${tableNameOf({ tenantId: a.id, datasetId: sales.id, tableId: orders.body.id })}`, { runId: job.id, signal: new AbortController().signal })
    assert.equal(again.affectedRows, 1, 'the first run\'s count')
    assert.deepEqual((await rows('SELECT id FROM sales.orders ORDER BY id')).map((r) => r.id), [1, 2, 3, 50], 'the second statement did not run')
    await run(editor, 'DELETE FROM sales.orders WHERE id = 50')
  })

  await t.test('a stored result is not reused once a DML changed a table it read', async () => {
    const sql = 'SELECT count(*) AS n, sum(amount) AS total FROM sales.orders'
    const first = await run(user, sql)
    assert.equal(first.cache_hit, false)
    const again = await run(user, sql)
    assert.equal(again.cache_hit, true, 'unchanged data: the stored result answers')
    await run(editor, 'DELETE FROM sales.orders WHERE id = 3')
    const after = await run(user, sql)
    assert.equal(after.cache_hit, false, 'the DELETE changed the table')
    const page = await call(user, 'GET', `/api/v1/query_jobs/${after.id}/results`)
    assert.deepEqual(page.body.rows, [{ n: 2, total: 32.5 }])
  })

  await t.test('a Dataset user may not change rows', async () => {
    const res = await submit(user, 'DELETE FROM sales.orders')
    assert.equal(res.status, 403, res.text)
    assert.match(res.body.detail, /Dataset editor/)
    assert.equal((await rows('SELECT count(*) AS n FROM sales.orders'))[0]!.n, 2, 'nothing was deleted')
  })

  await t.test('DDL, other projects\' tables and what DML here does not support are refused with 422', async () => {
    const refusals: Array<[string, RegExp]> = [
      ['CREATE TABLE sales.extra (a INTEGER)', /DDL is not supported/],
      ['DROP TABLE sales.orders', /DDL is not supported/],
      ['ALTER TABLE sales.orders ADD COLUMN x INTEGER', /DDL is not supported/],
      ['INSERT INTO hr.salaries VALUES (1)', /hr\.salaries is not a table of a dataset this project may read/],
      ['INSERT INTO sales.orders SELECT pay, NULL, pay FROM hr.salaries', /hr\.salaries is not a table/],
      ['UPDATE sales.orders SET amount = (SELECT max(pay) FROM hr.salaries)', /hr\.salaries is not a table/],
      ["DELETE FROM sales.orders WHERE id IN (SELECT 1 FROM read_csv('/etc/passwd'))", /table functions/],
      ['DELETE FROM orders', /dataset\.table/],
      ['DELETE FROM sales.orders RETURNING id', /RETURNING is not supported/],
      ['INSERT INTO sales.orders VALUES (9, NULL, 1); DELETE FROM sales.orders', /exactly one statement/],
      ['UPDATE sales.orders SET nope = 1', /has no column nope/],
      ['UPDATE sales.orders SET amount = 1 FROM sales.orders o2 WHERE o2.id = 1', /UPDATE … FROM is not supported/],
      ['ATTACH \'x.db\' AS x', /./],
    ]
    for (const [sql, message] of refusals) {
      const res = await submit(editor, sql)
      assert.equal(res.status, 422, `${sql}: ${res.text}`)
      assert.deepEqual(res.body.detail[0].loc, ['body', 'query_text'], sql)
      assert.match(res.body.detail[0].msg, message, sql)
    }
    assert.deepEqual((await rows('SELECT id FROM sales.orders ORDER BY id')).map((r) => r.id), [1, 2], 'no refused statement changed anything')
  })

  await t.test('a DML error DuckDB raises while running fails the job and changes nothing', async () => {
    const res = await submit(editor, 'INSERT INTO sales.orders (email) VALUES (\'no id\')')
    assert.equal(res.status, 200, res.text)
    const job = await settle(editor, res.body.job_id)
    assert.equal(job.status, 'failed')
    assert.equal(job.error_result.reason, 'invalid_query')
    assert.match(job.error_result.message, /NOT NULL/i)
    assert.deepEqual((await rows('SELECT id FROM sales.orders ORDER BY id')).map((r) => r.id), [1, 2])
  })
})
