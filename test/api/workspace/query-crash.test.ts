// A process killed (SIGKILL) while a query job runs: the job is a durable job, so its attempt expires and another
// process runs it again; the query job ends done (or failed), never left running.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'
import { spawnAtrium } from '../../helpers/process.js'
import type { DuckDbEngine } from '../../../src/warehouse/duckdb-engine.js'
import { tableNameOf } from '../../../src/warehouse/duckdb-engine.js'
import { until } from './workspace-helpers.js'

test('a query job whose process is killed is run again by another process', async (t) => {
  const catalog = await createPgDatabase(null, 'atrium_catalog')
  // the survivor (startTestAtrium on this catalog) uses this data directory: the tenant's DuckDB file is shared
  const dataDir = `${process.cwd()}/.test-data/${catalog.name}`
  const env = { DATABASE_URL: catalog.url, ATHENA_KEY_12: ADMIN_KEY, ATRIUM_DATA_DIR: dataDir, ATRIUM_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789' }
  const doomed = await spawnAtrium({ ...env, ATRIUM_WORKERS: '1', ATRIUM_WORKSPACE_QUERY_TIMEOUT_SECONDS: '10' })
  t.after(() => doomed.stop('SIGKILL'))
  const call = async (method: string, path: string, body: unknown, tenant?: string) => {
    const res = await fetch(`${doomed.url}${path}`, { method, headers: { apikey: ADMIN_KEY, 'content-type': 'application/json', ...(tenant ? { 'x-tenant-id': tenant } : {}) }, body: JSON.stringify(body) })
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${await res.clone().text()}`)
    return (await res.json()) as any
  }
  const tenant = (await call('POST', '/api/v1/tenants', { name: 'crash' })).id as string
  const project = (await call('POST', '/api/v1/projects', { name: 'p' }, tenant)).id as string
  const dataset = (await call('POST', '/api/v1/datasets', { name: 'ops', project_id: project }, tenant)).id as string
  const flag = (await call('POST', '/api/v1/tables', { name: 'flag', dataset_id: dataset, schema: { columns: [{ name: 'on', type: 'INTEGER' }] } }, tenant)).id as string
  const query = (await call('POST', '/api/v1/queries', { query_text: 'SELECT 1', project_id: project }, tenant)).id as string
  // counts to ten billion while ops.flag is empty (the doomed attempt never ends), to five once it has a row
  const slow = 'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < (SELECT CASE WHEN count(*) = 0 THEN 10000000000 ELSE 5 END FROM ops.flag)) SELECT count(*) AS n FROM r'
  const jobId = (await call('POST', '/api/v1/queries/run', { query_id: query, query_text: slow }, tenant)).job_id as string
  await until('the job runs on the doomed process', async () => {
    const job = await (await fetch(`${doomed.url}/api/v1/query_jobs/${jobId}`, { headers: { apikey: ADMIN_KEY, 'x-tenant-id': tenant } })).json() as any
    return job.status === 'running' ? true : undefined
  })
  await doomed.stop('SIGKILL')
  assert.equal(doomed.child.signalCode, 'SIGKILL')

  const atrium = await startTestAtrium(t, { catalog, env: { ATRIUM_WORKSPACE_QUERY_TIMEOUT_SECONDS: '10' }, settings: { 'jobs.maintenanceIntervalSeconds': 1, 'jobs.pollIntervalMs': 200 } })
  t.after(() => catalog.drop())
  const engine = atrium.handle.platform.warehouseEngine as DuckDbEngine
  await engine.withConnection(tenant, (c) => c.run(`INSERT INTO ${tableNameOf({ tenantId: tenant, datasetId: dataset, tableId: flag })} VALUES (1)`))

  const job = await until('the job finishes on the survivor', async () => {
    const res = await atrium.get(`/api/v1/query_jobs/${jobId}`, { headers: { 'x-tenant-id': tenant } })
    return ['done', 'failed', 'cancelled'].includes(res.body.status) ? res.body : undefined
  }, 900)
  assert.equal(job.status, 'done', JSON.stringify(job))
  const record = await atrium.get(`/admin/jobs/${job.running_job_id}`)
  assert.ok(record.body.data.job.attempts >= 2, `retried: ${record.text}`)
  const rows = await atrium.get(`/api/v1/query_jobs/${jobId}/results`, { headers: { 'x-tenant-id': tenant } })
  assert.deepEqual(rows.body.rows, [{ n: 5 }])
})
