import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { createPgDatabase } from '../helpers/databases.js'

test('`atrium migrate` applies the catalog migrations and exits', async (t) => {
  const catalog = await createPgDatabase(t, 'atrium_catalog')
  const run = () => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/atrium.ts', 'migrate'], {
    env: { PATH: process.env.PATH, DATABASE_URL: catalog.url, ATRIUM_LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    timeout: 60_000,
  })
  const first = run()
  assert.equal(first.status, 0, first.stderr)
  assert.match(first.stdout, /up to date/)
  const versions = await catalog.query<{ version: string }>('SELECT version FROM atrium.schemaversion ORDER BY version')
  assert.ok(versions.map((v) => Number(v.version)).includes(1), JSON.stringify(versions))
  const tables = await catalog.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'atrium'")
  assert.ok(tables.some((r) => r.table_name === 'clients'))
  assert.ok(tables.some((r) => r.table_name === 'request_log'))
  // the append-only request log keeps only its primary key and a BRIN index on time, cheap to insert into
  const indexes = await catalog.query<{ indexname: string; indexdef: string }>("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'atrium' AND tablename = 'request_log' ORDER BY indexname")
  assert.deepEqual(indexes.map((i) => i.indexname), ['request_log_at', 'request_log_pkey'])
  assert.match(indexes[0].indexdef, /USING brin \(at\)/)
  // running it again is a no-op
  const again = run()
  assert.equal(again.status, 0, again.stderr)
  assert.equal((await catalog.query('SELECT version FROM atrium.schemaversion')).length, versions.length)
  const usage = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/atrium.ts', 'frobnicate'], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(usage.status, 2)
  assert.match(usage.stdout, /usage: atrium/)
})
