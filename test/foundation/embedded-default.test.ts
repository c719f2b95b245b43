import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, chmodSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { spawnAtrium } from '../helpers/process.js'

// No DATABASE_URL, no clients, no keys: Atrium runs its own PostgreSQL in the data directory.
test('zero-configuration start on the embedded PostgreSQL', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'atrium-embedded-'))
  chmodSync(dataDir, 0o711)
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const first = await spawnAtrium({ ATRIUM_DATA_DIR: dataDir }, 60_000)
  t.after(() => first.stop('SIGKILL'))

  const keyLine = /admin key \(shown once, stored in (.+)\): (\S+)/.exec(first.stderr())
  assert.ok(keyLine, `the first start prints the generated admin key: ${first.stderr()}`)
  const adminKey = keyLine[2]
  assert.match(first.stderr(), new RegExp(`listening on ${first.url.replace(/[.]/g, '\\.')}`))
  assert.match(first.stderr(), new RegExp(`data directory: ${dataDir}`))
  assert.equal(statSync(join(dataDir, 'admin-key')).mode & 0o777, 0o600)
  assert.equal(readFileSync(join(dataDir, 'admin-key'), 'utf8').trim(), adminKey)
  assert.ok(!first.stdout().includes(adminKey), 'the key is not in the log stream')

  const call = (url: string, path: string, init: RequestInit & { client?: string } = {}) =>
    fetch(`${url}${path}`, { ...init, headers: { apikey: adminKey, 'content-type': 'application/json', ...(init.client ? { 'x-athena-client': init.client } : {}), ...(init.headers ?? {}) } })

  await t.test('/ping, /health and /schema/tables on the default client', async () => {
    assert.equal(await (await fetch(`${first.url}/ping`)).text(), 'pong')
    assert.deepEqual(await (await fetch(`${first.url}/health`)).json().then((b: any) => b.status), 'ok')
    const created = await call(first.url, '/gateway/query', { method: 'POST', client: 'default', body: JSON.stringify({ query: "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'kept across restarts')" }) })
    assert.equal(created.status, 200, await created.text())
    const tables = await (await call(first.url, '/schema/tables', { client: 'default' })).json() as { tables: Array<{ table_name: string; table_schema: string }> }
    assert.deepEqual(tables.tables.map((x) => `${x.table_schema}.${x.table_name}`), ['public.notes'], 'only the public schema is exposed, not the catalog')
  })

  await t.test('SIGTERM shuts down cleanly and stops the embedded server', async () => {
    assert.equal(await first.stop(), 0)
    assert.ok(!existsSync(join(dataDir, 'pg', 'postmaster.pid')), 'PostgreSQL stopped with Atrium')
  })

  await t.test('a restart keeps the data and the key, and prints no key again', async () => {
    const second = await spawnAtrium({ ATRIUM_DATA_DIR: dataDir }, 60_000)
    t.after(() => second.stop('SIGKILL'))
    assert.ok(!second.stderr().includes('admin key'), second.stderr())
    const res = await call(second.url, '/gateway/fetch', { method: 'POST', client: 'default', body: JSON.stringify({ table_name: 'notes' }) })
    const body = await res.json() as { data: unknown }
    assert.deepEqual(body.data, [{ id: 1, body: 'kept across restarts' }])
    assert.equal(await second.stop(), 0)
  })
})
