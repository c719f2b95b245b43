// Provisioning is a durable job: a database requested on an API-only process that is then killed with -9 is
// provisioned by another process sharing the catalog, and only once.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { ADMIN_KEY } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'
import { spawnAtrium } from '../../helpers/process.js'
import { MANAGED_SERVERS_ENV, startDatabasesAtrium } from './helpers.js'

test('a provisioning job outlives the process that enqueued it (kill -9)', async (t) => {
  const catalog = await createPgDatabase(null, 'atrium_catalog')
  const dataDir = mkdtempSync(join(tmpdir(), 'atrium-provision-'))
  // an API-only node: it takes the request and enqueues the job, but runs no jobs itself
  const apiNode = await spawnAtrium({
    DATABASE_URL: catalog.url, ATHENA_KEY_12: ADMIN_KEY, ATRIUM_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789',
    ATRIUM_DATA_DIR: dataDir, ATRIUM_WORKERS: '0', ...MANAGED_SERVERS_ENV,
  })
  t.after(async () => { await apiNode.stop('SIGKILL') })
  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const res = await fetch(`${apiNode.url}${path}`, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined })
    return { status: res.status, body: await res.json() as any }
  }
  const created = await call('POST', '/admin/platform-keys', { apikey: ADMIN_KEY }, { email: 'durable@example.test' })
  assert.equal(created.status, 201)
  const key: string = created.body.data.key
  const accepted = await call('POST', '/api/v1/databases?wait=true&timeout=1', { authorization: `Bearer ${key}` }, { name: 'durable' })
  assert.equal(accepted.status, 202, 'no worker ran the job on the API-only node')
  const db = accepted.body.data
  await apiNode.stop('SIGKILL')

  // a node with workers on the same catalog picks the job up
  const worker = await startDatabasesAtrium(t, {}, catalog)
  worker.track(db)
  t.after(async () => {
    await catalog.drop()
    rmSync(dataDir, { recursive: true, force: true })
  })
  let status = 'provisioning'
  let current: any
  for (let i = 0; i < 300 && status === 'provisioning'; i++) {
    await sleep(100)
    current = (await worker.api('GET', `/api/v1/databases/${db.uuid}`, key)).body.data
    status = current.status
  }
  assert.equal(status, 'active')
  const client = new pg.Client({ connectionString: current.connection_string })
  await client.connect()
  assert.deepEqual((await client.query('SELECT current_user AS u')).rows, [{ u: db.db_username }])
  await client.end()
  const events = await catalog.query<{ n: string }>("SELECT count(*) AS n FROM atrium.events WHERE type = 'database.provisioned' AND payload->>'database_id' = $1", [db.uuid])
  assert.equal(Number(events[0]!.n), 1)
  assert.equal((await worker.api('DELETE', `/api/v1/databases/${db.uuid}`, key)).status, 200)
})
