// Import jobs through HTTP: a file uploaded with POST /api/files/upload (CSV, JSONL or Parquet), named by its
// storage_path, is appended to a table by a durable job; a file with rows that do not fit the table's schema is
// refused whole, with the bad rows counted and a few reported with their reasons; columns the table does not
// have are refused; another user's upload is never found; roles and tenants hold.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { DuckDBInstance } from '@duckdb/node-api'
import type { DuckDbEngine } from '../../../src/warehouse/duckdb-engine.js'
import { tableNameOf } from '../../../src/warehouse/duckdb-engine.js'
import { as, ROLES, startWorkspace, type Caller } from './workspace-helpers.js'

/** a Parquet file written by a DuckDB of the test's own */
async function parquetOf(sql: string): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'atrium-import-parquet-'))
  try {
    const inst = await DuckDBInstance.create(':memory:')
    const c = await inst.connect()
    await c.run(`COPY (${sql}) TO '${dir}/f.parquet' (FORMAT parquet)`)
    c.closeSync()
    inst.closeSync()
    return readFileSync(join(dir, 'f.parquet'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('Workspace import jobs', async (t) => {
  const { call, settle: settlePath, atrium, tenants: [a, b] } = await startWorkspace(t)
  const engine = atrium.handle.platform.warehouseEngine as DuckDbEngine
  const editor = as(a, 'Dataset editor')
  const user = as(a, 'Dataset user')
  const outsider = as(b, 'Org admin')

  const project = (await call(as(a, 'Org admin'), 'POST', '/api/v1/projects', { name: 'Analytics' })).body
  const dataset = (await call(editor, 'POST', '/api/v1/datasets', { name: 'sales', project_id: project.id })).body
  const orders = (await call(editor, 'POST', '/api/v1/tables', { name: 'orders', dataset_id: dataset.id, schema: { columns: [
    { name: 'id', type: 'BIGINT', nullable: false }, { name: 'amount', type: 'DECIMAL(10,2)' }, { name: 'note', type: 'VARCHAR' }, { name: 'placed_at', type: 'TIMESTAMP' },
  ] } })).body
  const ordersRef = { tenantId: a.id, datasetId: dataset.id, tableId: orders.id }
  /** the table's rows as DuckDB holds them, in id order */
  const tableRows = () => engine.withConnection(a.id, async (c) =>
    (await c.runAndReadAll(`SELECT id::VARCHAR AS id, amount::VARCHAR AS amount, note, strftime(placed_at, '%Y-%m-%dT%H:%M:%S') AS placed_at FROM ${tableNameOf(ordersRef)} ORDER BY id`)).getRowObjectsJson())

  const upload = async (who: Caller, name: string, content: Buffer | string) => {
    const form = new FormData()
    form.append('file', new Blob([content]), name)
    const res = await fetch(`${atrium.url}/api/files/upload?bucket=imports`, { method: 'POST', body: form, headers: { authorization: `Bearer ${who.token}` } })
    const body = await res.json() as { storage_path: string }
    assert.equal(res.status, 201, JSON.stringify(body))
    return body.storage_path
  }
  const settle = (who: Caller, id: string) => settlePath(who, `/api/v1/import_jobs/${id}`)
  const importFile = async (who: Caller, sourceUri: string, format: string) => {
    const res = await call(who, 'POST', '/api/v1/import_jobs', { table_id: orders.id, source_uri: sourceUri, format, status: 'requested' })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.table_id, orders.id)
    assert.equal(res.body.source_uri, sourceUri)
    return settle(who, res.body.id)
  }

  await t.test('a CSV file is appended: values converted to the declared types, quoted text kept, missing nullable columns NULL', async () => {
    const csv = 'id,amount,note\n1,10.50,"a,b ""quoted""\nnext line"\n2,,plain\n3,-0.25,\n'
    const done = await importFile(editor, await upload(editor, 'orders.csv', csv), 'CSV')
    assert.equal(done.status, 'done', done.error_message)
    assert.equal(done.rows_read, 3)
    assert.equal(done.rows_imported, 3)
    assert.equal(done.bad_rows, 0)
    assert.deepEqual(await tableRows(), [
      { id: '1', amount: '10.50', note: 'a,b "quoted"\nnext line', placed_at: null },
      { id: '2', amount: null, note: 'plain', placed_at: null },
      { id: '3', amount: '-0.25', note: null, placed_at: null },
    ])
  })

  await t.test('JSONL and Parquet files are appended too', async () => {
    const jsonl = '{"id": 4, "amount": "7.5", "note": "from json", "placed_at": "2024-01-02T03:04:05"}\n{"id": 5, "note": null}\n'
    const fromJson = await importFile(editor, await upload(editor, 'orders.jsonl', jsonl), 'JSONL')
    assert.equal(fromJson.status, 'done', fromJson.error_message)
    assert.equal(fromJson.rows_imported, 2)
    const parquet = await parquetOf(`SELECT 6::BIGINT AS id, 99.99::DECIMAL(10,2) AS amount, 'from parquet' AS note, TIMESTAMP '2025-05-06 07:08:09' AS placed_at`)
    const fromParquet = await importFile(editor, await upload(editor, 'orders.parquet', parquet), 'PARQUET')
    assert.equal(fromParquet.status, 'done', fromParquet.error_message)
    assert.deepEqual((await tableRows()).slice(3), [
      { id: '4', amount: '7.50', note: 'from json', placed_at: '2024-01-02T03:04:05' },
      { id: '5', amount: null, note: null, placed_at: null },
      { id: '6', amount: '99.99', note: 'from parquet', placed_at: '2025-05-06T07:08:09' },
    ])
  })

  await t.test('rows that do not fit are counted and reported, and nothing of the file is imported', async () => {
    const before = await tableRows()
    const csv = 'id,amount,note,placed_at\n7,1.00,ok,2024-01-01 00:00:00\nseven,2.00,bad id,\n,3.00,no id,\n8,lots,bad amount,\n9,4.00,bad time,yesterday\n10,5.00,ok,\n11,6.00,ok,\n12,x,bad,\n'
    const refused = await importFile(editor, await upload(editor, 'bad.csv', csv), 'CSV')
    assert.equal(refused.status, 'failed')
    assert.equal(refused.rows_read, 8)
    assert.equal(refused.bad_rows, 5)
    assert.equal(refused.rows_imported, 0)
    assert.match(refused.error_message, /5 of 8 rows .*nothing was imported/)
    assert.deepEqual(refused.bad_row_samples.map((s: { row: number }) => s.row), [2, 3, 4, 5, 8])
    assert.match(refused.bad_row_samples[0].reason, /^id: seven is not a valid BIGINT$/)
    assert.match(refused.bad_row_samples[1].reason, /^id: NULL in a NOT NULL column$/)
    assert.match(refused.bad_row_samples[3].reason, /placed_at: yesterday is not a valid TIMESTAMP/)
    assert.deepEqual(await tableRows(), before, 'all or nothing')

    const jsonl = '{"id": 20, "amount": 1}\n[1, 2]\n{"id": "x"}\n'
    const badJson = await importFile(editor, await upload(editor, 'bad.jsonl', jsonl), 'JSONL')
    assert.equal(badJson.status, 'failed')
    assert.equal(badJson.bad_rows, 2)
    assert.deepEqual(badJson.bad_row_samples.map((s: { reason: string }) => s.reason), ['the line is not a JSON object; id: NULL in a NOT NULL column', 'id: x is not a valid BIGINT'])
    assert.deepEqual(await tableRows(), before)
  })

  await t.test('a file whose columns are not the table\'s, or that is not of its format, is refused with the reason', async () => {
    const extra = await importFile(editor, await upload(editor, 'extra.csv', 'id,amount,discount\n1,2,3\n'), 'CSV')
    assert.equal(extra.status, 'failed')
    assert.match(extra.error_message, /columns the table does not: discount/)
    const noId = await importFile(editor, await upload(editor, 'noid.jsonl', '{"note": "x"}\n'), 'JSONL')
    assert.equal(noId.status, 'failed')
    assert.match(noId.error_message, /NOT NULL columns id/)
    const notParquet = await importFile(editor, await upload(editor, 'fake.parquet', 'id\n1\n'), 'PARQUET')
    assert.equal(notParquet.status, 'failed')
    assert.match(notParquet.error_message, /cannot be read as PARQUET/)
  })

  await t.test('a source_uri is looked up among the caller\'s own uploads only', async () => {
    // tenant B's admin uploads a file; the same storage_path names nothing of tenant A's editor
    const theirs = await upload(outsider, 'secret.csv', 'id\n999\n')
    const res = await call(editor, 'POST', '/api/v1/import_jobs', { table_id: orders.id, source_uri: theirs, format: 'CSV' })
    assert.equal(res.status, 404, res.text)
    assert.match(res.body.detail, /no uploaded file "imports\/secret.csv" of yours/)
    for (const path of ['../u-x/imports/secret.csv', 'imports/../../secret.csv', '/etc/passwd', 'imports/nothing.csv']) {
      const bad = await call(editor, 'POST', '/api/v1/import_jobs', { table_id: orders.id, source_uri: path, format: 'CSV' })
      assert.equal(bad.status, 404, `${path}: ${bad.text}`)
    }
    const byAdminKey = await call({ token: 'admin', tenantId: a.id }, 'POST', '/api/v1/import_jobs', { table_id: orders.id, source_uri: theirs, format: 'CSV' })
    assert.equal(byAdminKey.status, 404)
  })

  await t.test('the role grid: importing needs Dataset editor; reading import jobs any role', async () => {
    const expected = { 'Dataset user': 403, 'Dataset editor': 201, 'Org admin': 201 } as const
    for (const role of ROLES) {
      const who = as(a, role)
      const source = await upload(who, 'grid.csv', 'id\n1000\n')
      const res = await call(who, 'POST', '/api/v1/import_jobs', { table_id: orders.id, source_uri: source, format: 'CSV' })
      assert.equal(res.status, expected[role], `${role}: ${res.text}`)
      if (res.status === 201) await settle(who, res.body.id)
      assert.equal((await call(who, 'GET', `/api/v1/tables/${orders.id}/import_jobs`)).status, 200, role)
    }
  })

  await t.test('roles, tenants, lists and bad bodies', async () => {
    const mine = await upload(user, 'mine.csv', 'id\n1\n')
    const refused = await call(user, 'POST', '/api/v1/import_jobs', { table_id: orders.id, source_uri: mine, format: 'CSV' })
    assert.equal(refused.status, 403, refused.text)
    assert.match(refused.body.detail, /Dataset editor/)
    assert.equal((await call({ token: null }, 'POST', '/api/v1/import_jobs', { table_id: orders.id, source_uri: mine, format: 'CSV' })).status, 401)
    const bad = await call(editor, 'POST', '/api/v1/import_jobs', { table_id: orders.id, source_uri: mine, format: 'XLSX' })
    assert.equal(bad.status, 422)
    assert.deepEqual(bad.body.detail[0].loc, ['body', 'format'])

    const listed = (await call(user, 'GET', `/api/v1/tables/${orders.id}/import_jobs`)).body.import_jobs
    assert.ok(listed.length >= 8)
    assert.deepEqual((await call(user, 'GET', '/api/v1/import_jobs')).body.import_jobs.map((j: { id: string }) => j.id), listed.map((j: { id: string }) => j.id))
    assert.equal((await call(user, 'GET', `/api/v1/import_jobs/${listed[0].id}`)).status, 200)

    const theirs = await upload(outsider, 'orders.csv', 'id\n1\n')
    assert.equal((await call(outsider, 'POST', '/api/v1/import_jobs', { table_id: orders.id, source_uri: theirs, format: 'CSV' })).status, 404)
    assert.equal((await call(outsider, 'GET', `/api/v1/import_jobs/${listed[0].id}`)).status, 404)
    assert.equal((await call(outsider, 'GET', `/api/v1/tables/${orders.id}/import_jobs`)).status, 404)
    assert.deepEqual((await call(outsider, 'GET', '/api/v1/import_jobs')).body.import_jobs, [])
  })

  await t.test('an import changes the table, so an identical query is run again, not answered from the cache', async () => {
    const queryId = (await call(user, 'POST', '/api/v1/queries', { query_text: 'SELECT 1', project_id: project.id })).body.id
    const count = async () => {
      const run = await call(user, 'POST', '/api/v1/queries/run', { query_id: queryId, query_text: 'SELECT count(*) AS n FROM sales.orders' })
      for (let i = 0; i < 600; i++) {
        const job = (await call(user, 'GET', `/api/v1/query_jobs/${run.body.job_id}`)).body
        if (job.status === 'done') return { n: (await call(user, 'GET', `/api/v1/query_jobs/${job.id}/results`)).body.rows[0].n, cached: job.cache_hit }
        assert.ok(['pending', 'running'].includes(job.status), JSON.stringify(job.error_result))
        await sleep(100)
      }
      throw new Error('count did not finish')
    }
    const first = await count()
    const done = await importFile(editor, await upload(editor, 'more.csv', 'id\n100\n101\n'), 'CSV')
    assert.equal(done.status, 'done', done.error_message)
    const second = await count()
    assert.equal(second.n, first.n + 2)
    assert.equal(second.cached, false)
  })
})
