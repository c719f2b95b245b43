// A process killed (SIGKILL) while an import job runs: the job is a durable job, so another process runs it again,
// and the rows are appended exactly once (they commit with the import's mark in the tenant's database); the job is
// never left running.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'
import { spawnAtrium } from '../../helpers/process.js'
import type { DuckDbEngine } from '../../../src/warehouse/duckdb-engine.js'
import { JWT_SECRET, signToken, until } from './workspace-helpers.js'

const ROWS = 400_000

test('an import job whose process is killed is finished by another process, its rows appended once', async (t) => {
  const catalog = await createPgDatabase(null, 'atrium_catalog')
  const dataDir = `${process.cwd()}/.test-data/${catalog.name}`
  const env = { DATABASE_URL: catalog.url, ATHENA_KEY_12: ADMIN_KEY, ATRIUM_DATA_DIR: dataDir, ATRIUM_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789', ATRIUM_JWT_SECRET: JWT_SECRET }
  const doomed = await spawnAtrium({ ...env, ATRIUM_WORKERS: '1', ATRIUM_WORKSPACE_QUERY_TIMEOUT_SECONDS: '10' })
  t.after(() => doomed.stop('SIGKILL'))
  const call = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
    const res = await fetch(`${doomed.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${await res.clone().text()}`)
    return (await res.json()) as any
  }
  const admin = (tenant?: string) => ({ apikey: ADMIN_KEY, ...(tenant ? { 'x-tenant-id': tenant } : {}) })
  const tenant = (await call('POST', '/api/v1/tenants', { name: 'crash' }, admin())).id as string
  await call('POST', '/api/v1/users', { email: 'ed@crash.test', name: 'Ed', role: 'Dataset editor' }, admin(tenant))
  const ed = { authorization: `Bearer ${await signToken({ sub: 'sub-ed', email: 'ed@crash.test' })}` }
  const project = (await call('POST', '/api/v1/projects', { name: 'p' }, admin(tenant))).id as string
  const dataset = (await call('POST', '/api/v1/datasets', { name: 'ops', project_id: project }, ed)).id as string
  const table = (await call('POST', '/api/v1/tables', { name: 'events', dataset_id: dataset, schema: { columns: [{ name: 'id', type: 'BIGINT', nullable: false }, { name: 'label', type: 'VARCHAR' }] } }, ed)).id as string

  const lines = ['id,label']
  for (let i = 0; i < ROWS; i++) lines.push(`${i},event number ${i}`)
  const form = new FormData()
  form.append('file', new Blob([lines.join('\n')]), 'events.csv')
  const uploaded = await fetch(`${doomed.url}/api/files/upload?bucket=imports`, { method: 'POST', body: form, headers: ed })
  assert.equal(uploaded.status, 201, await uploaded.clone().text())
  const { storage_path: sourceUri } = await uploaded.json() as { storage_path: string }

  const importId = (await call('POST', '/api/v1/import_jobs', { table_id: table, source_uri: sourceUri, format: 'CSV' }, ed)).id as string
  // killed as soon as the job is taken (or, on a fast machine, after it is done: the outcome must be the same)
  await until('the import starts on the doomed process', async () => {
    const job = await (await fetch(`${doomed.url}/api/v1/import_jobs/${importId}`, { headers: admin(tenant) })).json() as any
    return job.status === 'pending' ? undefined : job.status
  })
  await doomed.stop('SIGKILL')
  assert.equal(doomed.child.signalCode, 'SIGKILL')

  const atrium = await startTestAtrium(t, { catalog, env: { ATRIUM_WORKSPACE_QUERY_TIMEOUT_SECONDS: '10' }, settings: { 'jobs.maintenanceIntervalSeconds': 1, 'jobs.pollIntervalMs': 200 } })
  t.after(() => catalog.drop())
  const job = await until('the import finishes on the survivor', async () => {
    const res = await atrium.get(`/api/v1/import_jobs/${importId}`, { headers: { 'x-tenant-id': tenant } })
    return ['done', 'failed'].includes(res.body.status) ? res.body : undefined
  }, 1200)
  assert.equal(job.status, 'done', JSON.stringify(job))
  assert.equal(job.rows_imported, ROWS)
  const engine = atrium.handle.platform.warehouseEngine as DuckDbEngine
  assert.equal(await engine.countRows({ tenantId: tenant, datasetId: dataset, tableId: table }), ROWS, 'appended exactly once')
})
