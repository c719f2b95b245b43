// PostgreSQL change capture on a source database whose default isolation level is REPEATABLE READ: a capture
// read waits for the open capturing transactions, and must see what they committed while it waited. Reading
// with a snapshot taken before that wait would return a later change without an earlier one, and the cursor
// would move past the earlier one for good.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { postgresCapture } from '../../src/realtime/capture/postgres-capture.js'
import type { CapturedChange } from '../../src/realtime/capture/captured-change.js'
import type { TableInfo } from '../../src/sources/schema.js'
import { PostgresDriver } from '../../src/sources/drivers/postgres-driver.js'
import { createPgDatabase } from '../helpers/databases.js'

test('a capture read on a repeatable-read database sees the change that committed while it waited', async (t) => {
  const db = await createPgDatabase(null)
  await db.query(`ALTER DATABASE "${db.name}" SET default_transaction_isolation = 'repeatable read'`)
  await db.query('CREATE TABLE items (id int PRIMARY KEY)')
  const driver = new PostgresDriver({ name: 'src', url: db.url, pool: { max: 2, idleTimeoutMs: 1_000, connectionTimeoutMs: 5_000 } })
  const writer = new pg.Client({ connectionString: db.url })
  await writer.connect()
  t.after(async () => {
    await writer.end()
    await driver.close()
    await db.drop()
  })
  await postgresCapture.install(driver as never, { schema: 'public', name: 'items' } as TableInfo)
  const shown = await driver.transaction('read write', (tx) => tx.query({ sql: 'SHOW transaction_isolation', params: [] }))
  assert.equal(shown.rows[0].transaction_isolation, 'repeatable read', 'the source\'s transactions default to repeatable read')
  const waiting = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`))[0].n > 0

  // the read gives up after a short wait for open writers (it reads again later): try until one read waited
  // for the open writer and then read
  let read: CapturedChange[] | null = null
  for (let attempt = 0; attempt < 20 && read === null; attempt++) {
    const first = attempt * 2 + 1
    // an open transaction holds an earlier capture id; a later one commits
    await writer.query('BEGIN')
    await writer.query('INSERT INTO items (id) VALUES ($1)', [first])
    await db.query('INSERT INTO items (id) VALUES ($1)', [first + 1])
    const reading = postgresCapture.read(driver as never, 0, 100)
    let waited = false
    for (let i = 0; i < 200 && !waited; i++) waited = await waiting()
    await writer.query('COMMIT')
    const got = await reading
    if (waited && got) read = got.changes
    await db.query('DELETE FROM atrium_realtime.changes')
  }
  assert.ok(read, 'a read waited for the open writer, then read')
  const ids = read.map((c) => Number(c.newRow?.id))
  assert.equal(ids.length, 2, `both changes are read, the earlier one included: ${JSON.stringify(ids)}`)
  assert.ok(ids[1] === ids[0] + 1, 'in capture order')
})
