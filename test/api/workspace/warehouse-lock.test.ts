// A tenant's DuckDB file is served by one process at a time: while another process holds it (as a second Atrium
// node on the same data directory would), this Atrium answers 503 warehouse_unavailable naming why, and touches
// nothing; once the other process lets go, the same request succeeds.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { test } from 'node:test'
import { as, startWorkspace } from './workspace-helpers.js'

test('a tenant warehouse held by another process is a clear 503, then works once released', async (t) => {
  const { call, atrium, tenants: [a, b] } = await startWorkspace(t)
  const editor = as(b, 'Dataset editor')
  // tenant A's database opens here, so the warehouse folder exists; tenant B's is not opened yet
  const projectA = (await call(as(a, 'Org admin'), 'POST', '/api/v1/projects', { name: 'A' })).body
  const dsA = (await call(as(a, 'Dataset editor'), 'POST', '/api/v1/datasets', { name: 'a', project_id: projectA.id })).body
  assert.equal((await call(as(a, 'Dataset editor'), 'POST', '/api/v1/tables', { name: 't', dataset_id: dsA.id, schema: { columns: [{ name: 'x', type: 'INTEGER' }] } })).status, 201)

  const project = (await call(as(b, 'Org admin'), 'POST', '/api/v1/projects', { name: 'B' })).body
  const dataset = (await call(editor, 'POST', '/api/v1/datasets', { name: 'b', project_id: project.id })).body
  const file = join(process.cwd(), '.test-data', atrium.catalog.name, 'warehouse', `${b.id.replaceAll('-', '')}.duckdb`)
  // another process opens tenant B's file, as the first node to serve it would, and keeps it open
  const holder = spawn(process.execPath, ['--input-type=module', '-e', `
    import { DuckDBInstance } from '@duckdb/node-api'
    const db = await DuckDBInstance.create(process.argv[1])
    process.stdout.write('holding\\n')
    setInterval(() => {}, 1000)
  `, file], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => { if (holder.exitCode === null) holder.kill('SIGKILL') })
  const [chunk] = await once(holder.stdout!, 'data')
  assert.match(String(chunk), /holding/)

  const table = { name: 'orders', dataset_id: dataset.id, schema: { columns: [{ name: 'id', type: 'BIGINT' }] } }
  const refused = await call(editor, 'POST', '/api/v1/tables', table)
  assert.equal(refused.status, 503, refused.text)
  assert.match(refused.body.detail, /open in another Atrium process \(PID \d+\)/)
  assert.equal((await call(editor, 'GET', `/api/v1/datasets/${dataset.id}/tables`)).body.tables.length, 0, 'nothing was recorded')
  // tenant A, held by this process, is not affected
  assert.equal((await call(as(a, 'Dataset editor'), 'POST', '/api/v1/tables', { name: 'u', dataset_id: dsA.id, schema: { columns: [{ name: 'x', type: 'INTEGER' }] } })).status, 201)

  holder.kill('SIGKILL')
  await once(holder, 'exit')
  const created = await call(editor, 'POST', '/api/v1/tables', table)
  assert.equal(created.status, 201, created.text)
})
