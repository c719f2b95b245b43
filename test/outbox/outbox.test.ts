// The outbox: X-Publish-Event publishes only committed writes (both dialects), event order, durable
// consumers, job outcomes, and recovery of the events a process killed mid-write left pending.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ADMIN_KEY, startTestAtrium, type TestAtrium } from '../helpers/atrium.js'
import { createPgDatabase } from '../helpers/databases.js'
import { forEachDialect } from '../helpers/dialects.js'
import { spawnAtrium } from '../helpers/process.js'
import { deleteOlderThan } from '../../src/jobs/retention-job.js'
import { EVENTS } from '../../src/outbox/events-retention-job.js'
import type { AtriumEvent, JobEventV1, RowEventV1 } from '../../src/outbox/events.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** polls `check` every 50 ms for at most `ms`; returns its last answer */
async function eventually<T>(check: () => Promise<T> | T, done: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms
  let value = await check()
  while (!done(value) && Date.now() < deadline) {
    await sleep(50)
    value = await check()
  }
  return value
}

async function outboxRows(atrium: TestAtrium) {
  const [events] = await atrium.catalog.query<{ n: number }>('SELECT count(*)::int AS n FROM atrium.events')
  const [pending] = await atrium.catalog.query<{ n: number }>('SELECT count(*)::int AS n FROM atrium.pending_events')
  return { events: events.n, pending: pending.n }
}

forEachDialect('X-Publish-Event through the outbox', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const seen: AtriumEvent[] = []
  // row events only: a scheduled job that happens to finish during the test publishes its outcome too
  for (const type of ['row.inserted', 'row.updated', 'row.deleted']) atrium.handle.platform.outbox.subscribe(type, (e) => seen.push(e))
  const put = (body: unknown, headers: Record<string, string> = {}) => atrium.request('PUT', '/gateway/insert', { client: 'shop', body, headers })
  const count = async (sql: string) => Number(Object.values((await db.query(sql))[0])[0])

  await t.test('a committed write publishes one versioned event after its commit; nothing stays pending', async () => {
    const res = await put({ table_name: 'sentinel', insert_body: [{ id: 10, label: 'a' }, { id: 11, label: 'b' }] }, { 'x-publish-event': 'sentinel.created' })
    assert.equal(res.status, 200, JSON.stringify(res.body))
    await eventually(() => seen.length, (n) => n >= 1)
    assert.equal(seen.length, 1)
    const [event] = seen
    assert.equal(event.type, 'row.inserted')
    assert.equal(event.version, 1)
    assert.equal(event.source, 'shop')
    const payload = event.payload as RowEventV1
    assert.deepEqual({ type: payload.type, version: payload.version, name: payload.name, source: payload.source, table: payload.table }, { type: 'row.inserted', version: 1, name: 'sentinel.created', source: 'shop', table: 'sentinel' })
    assert.deepEqual(payload.rows, [{ id: 10, label: 'a' }, { id: 11, label: 'b' }])
    assert.equal(typeof payload.request_id, 'string')
    assert.deepEqual(await outboxRows(atrium), { events: 1, pending: 0 })
  })

  await t.test('a write that fails a constraint is rolled back and publishes nothing', async () => {
    const res = await put({ table_name: 'sentinel', insert_body: [{ id: 20, label: 'ok' }, { id: 21, label: null }] }, { 'x-publish-event': 'sentinel.created' })
    assert.equal(res.status, 400)
    assert.equal(await count('SELECT count(*) FROM sentinel WHERE id IN (20, 21)'), 0)
    const dup = await put({ table_name: 'sentinel', insert_body: { id: 10, label: 'again' } }, { 'x-publish-event': 'sentinel.created' })
    assert.equal(dup.status, 409)
    await sleep(300)
    assert.equal(seen.length, 1)
    assert.deepEqual(await outboxRows(atrium), { events: 1, pending: 0 })
  })

  await t.test('a write its own check rolls back (one object asked, two rows written) publishes nothing', async () => {
    const res = await atrium.request('POST', '/rest/v1/sentinel', {
      client: 'shop',
      body: [{ id: 30, label: 'x' }, { id: 31, label: 'y' }],
      headers: { prefer: 'return=representation', accept: 'application/vnd.pgrst.object+json', 'x-publish-event': 'sentinel.created' },
    })
    assert.equal(res.status, 406, res.text)
    assert.equal(await count('SELECT count(*) FROM sentinel WHERE id IN (30, 31)'), 0)
    await sleep(300)
    assert.equal(seen.length, 1)
    assert.deepEqual(await outboxRows(atrium), { events: 1, pending: 0 })
  })

  await t.test('a write that changes no row publishes nothing; updates and deletes publish their rows', async () => {
    const none = await atrium.post('/gateway/update', { client: 'shop', body: { table_name: 'sentinel', conditions: [{ eq_column: 'id', eq_value: '999' }], update_body: { label: 'z' } }, headers: { 'x-publish-event': 'sentinel.changed' } })
    assert.equal(none.status, 200, none.text)
    const upd = await atrium.post('/gateway/update', { client: 'shop', body: { table_name: 'sentinel', conditions: [{ eq_column: 'id', eq_value: '10' }], update_body: { label: 'A' } }, headers: { 'x-publish-event': 'sentinel.changed' } })
    assert.equal(upd.status, 200, upd.text)
    const del = await atrium.request('DELETE', '/gateway/delete', { client: 'shop', body: { table_name: 'sentinel', resource_id: 11 }, headers: { 'x-publish-event': 'sentinel.gone' } })
    assert.equal(del.status, 200, del.text)
    await eventually(() => seen.length, (n) => n >= 3)
    assert.deepEqual(seen.slice(1).map((e) => [e.type, (e.payload as RowEventV1).rows]), [
      ['row.updated', [{ id: 10, label: 'A' }]],
      ['row.deleted', [{ id: 11, label: 'b' }]],
    ])
    assert.ok(seen[1].id < seen[2].id)
    assert.deepEqual(await outboxRows(atrium), { events: 3, pending: 0 })
  })

  await t.test('a write without X-Publish-Event leaves the outbox alone', async () => {
    const res = await put({ table_name: 'sentinel', insert_body: { id: 40, label: 'quiet' } })
    assert.equal(res.status, 200)
    assert.deepEqual(await outboxRows(atrium), { events: 3, pending: 0 })
  })
})

test('events: commit order, durable consumers, job outcomes', async (t) => {
  const atrium = await startTestAtrium(t)
  const { outbox, jobs } = atrium.handle.platform
  const seen: number[] = []
  outbox.subscribe('test.tick', (e) => seen.push(Number(e.payload.n)))

  await t.test('concurrent publishers: each subscriber gets every event once, in increasing id order', async () => {
    const ids = await Promise.all(Array.from({ length: 40 }, (_, n) => outbox.publish({ payload: { type: 'test.tick', version: 1, n } })))
    const order = new Map(ids.map((id, n) => [n, id]))
    await eventually(() => seen.length, (n) => n >= 40)
    assert.equal(seen.length, 40)
    assert.equal(new Set(seen).size, 40)
    const deliveredIds = seen.map((n) => order.get(n)!)
    assert.deepEqual(deliveredIds, [...deliveredIds].sort((a, b) => a - b))
  })

  await t.test('an event written in a transaction that rolls back is never delivered nor stored', async () => {
    await assert.rejects(atrium.handle.platform.catalog.transaction(async (tx) => {
      await outbox.write(tx, { payload: { type: 'test.tick', version: 1, n: -1 } })
      throw new Error('the change failed')
    }))
    await outbox.publish({ payload: { type: 'test.tick', version: 1, n: 40 } })
    await eventually(() => seen.length, (n) => n >= 41)
    assert.equal(seen.includes(-1), false)
    assert.equal(seen.at(-1), 40)
  })

  await t.test('a durable consumer reads every event once across concurrent batches, and again after a failed batch', async () => {
    const got: number[] = []
    const batch = () => outbox.consume('test-consumer', async (events) => { got.push(...events.map((e) => e.id)) }, { limit: 7 })
    for (let round = 0; round < 20; round++) {
      const [a, b] = await Promise.all([batch(), batch()])
      if (a + b === 0) break
    }
    const [{ n }] = await atrium.catalog.query<{ n: number }>('SELECT count(*)::int AS n FROM atrium.events')
    assert.equal(got.length, n)
    assert.equal(new Set(got).size, n)
    await outbox.publish({ payload: { type: 'test.tick', version: 1, n: 41 } })
    await assert.rejects(outbox.consume('test-consumer', async () => { throw new Error('receiver down') }))
    const again: number[] = []
    assert.equal(await outbox.consume('test-consumer', async (events) => { again.push(...events.map((e) => Number(e.payload.n))) }), 1)
    assert.deepEqual(again, [41])
  })

  await t.test('job outcomes are events: succeeded, failed for good, cancelled', async () => {
    const outcomes: AtriumEvent[] = []
    for (const type of ['job.succeeded', 'job.failed', 'job.cancelled']) outbox.subscribe(type, (e) => outcomes.push(e))
    await jobs.define('outbox-ok', async () => ({ fine: true }))
    await jobs.define('outbox-boom', async () => { throw new Error('no luck') }, { retryLimit: 0 })
    const ok = await jobs.enqueue('outbox-ok', {}, { owner: { kind: 'key', id: 'k1' } })
    const boom = await jobs.enqueue('outbox-boom')
    await eventually(() => outcomes.length, (n) => n >= 2)
    const byJob = new Map(outcomes.map((e) => [(e.payload as JobEventV1).job_id, e]))
    assert.equal(byJob.get(ok)?.type, 'job.succeeded')
    assert.equal(byJob.get(ok)?.tenant, 'key:k1')
    assert.deepEqual((byJob.get(ok)?.payload as JobEventV1), { type: 'job.succeeded', version: 1, job_id: ok, kind: 'outbox-ok', error: null })
    assert.equal(byJob.get(boom)?.type, 'job.failed')
    assert.equal((byJob.get(boom)?.payload as JobEventV1).error?.code, 'job_failed')
  })

  await t.test('retention deletes events older than events.retentionDays (in batches) and keeps the rest', async () => {
    const schedules = await atrium.catalog.query<{ cron: string }>("SELECT cron FROM atrium_jobs.schedule WHERE name = 'events-prune'")
    assert.equal(schedules.length, 1)
    await atrium.catalog.query("UPDATE atrium.events SET created_at = now() - interval '8 days' WHERE type = 'test.tick'")
    const [{ old }] = await atrium.catalog.query<{ old: number }>("SELECT count(*)::int AS old FROM atrium.events WHERE type = 'test.tick'")
    const [{ all }] = await atrium.catalog.query<{ all: number }>('SELECT count(*)::int AS all FROM atrium.events')
    assert.ok(old > 3)
    assert.equal(await deleteOlderThan(atrium.handle.platform.catalog, EVENTS, 7, 3), old)
    const left = await atrium.catalog.query<{ type: string }>('SELECT type FROM atrium.events')
    assert.equal(left.length, all - old)
    assert.ok(left.every((e) => e.type.startsWith('job.')))
  })
})

forEachDialect('a process killed mid-write: recovery publishes exactly the committed writes', async (t, db) => {
  await db.load('shop')
  const catalog = await createPgDatabase(null, 'atrium_catalog')
  const dataDir = mkdtempSync(join(tmpdir(), 'atrium-outbox-'))
  // the crashing processes never sweep: on a slow machine the second one could start more than
  // events.recoverAfterMs after the first crash and resolve its pending event before the test looks
  const config = join(dataDir, 'crash-node.yaml')
  writeFileSync(config, 'events:\n  recoverAfterMs: 3600000\n')
  const crashAt = async (point: string, id: number) => {
    const child = await spawnAtrium({ DATABASE_URL: catalog.url, ATHENA_KEY_12: ADMIN_KEY, ATRIUM_DATA_DIR: dataDir, ATRIUM_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789', ATRIUM_CLIENT_SHOP: db.url, ATRIUM_WORKERS: '0', ATRIUM_CONFIG: config, CRASH_AT: point }, 30_000, { entry: 'test/outbox/crash-node.ts' })
    t.after(() => child.stop('SIGKILL'))
    const answer = await fetch(`${child.url}/gateway/insert`, {
      method: 'PUT',
      headers: { apikey: ADMIN_KEY, 'x-athena-client': 'shop', 'content-type': 'application/json', 'x-publish-event': 'sentinel.created' },
      body: JSON.stringify({ table_name: 'sentinel', insert_body: { id, label: point } }),
    }).then((r) => r.status, () => 'no answer')
    assert.equal(answer, 'no answer', 'the process died before answering')
    const code = await child.stop('SIGKILL')
    assert.equal(child.child.signalCode, 'SIGKILL', `exit ${code}`)
  }
  const pending = async () => (await catalog.query<{ n: number }>('SELECT count(*)::int AS n FROM atrium.pending_events'))[0].n
  const sourceRows = async (id: number) => Number(Object.values((await db.query(`SELECT count(*) FROM sentinel WHERE id = ${id}`))[0])[0])

  // killed after the source committed: the write is there, its event pending
  await crashAt('after-source-commit', 50)
  assert.equal(await sourceRows(50), 1)
  // killed after the event was recorded, before the source's COMMIT: PostgreSQL rolls the open transaction
  // back when its connection drops; a MySQL/MariaDB XA transaction stays prepared, and the recorded decision
  // (prepared) means recovery commits it
  await crashAt('before-source-commit', 51)
  assert.equal(await pending(), 2)
  assert.equal((await catalog.query<{ n: number }>('SELECT count(*)::int AS n FROM atrium.events'))[0].n, 0)

  const atrium = await startTestAtrium(t, { catalog, sources: { shop: db.url }, settings: { 'events.recoverAfterMs': 200 } })
  t.after(async () => {
    await catalog.drop()
    rmSync(dataDir, { recursive: true, force: true })
  })
  await eventually(pending, (n) => n === 0)
  assert.equal(await pending(), 0)
  const published = await atrium.catalog.query<{ payload: RowEventV1 }>('SELECT payload FROM atrium.events ORDER BY id')
  const ids = published.map((e) => (e.payload.rows[0] as { id: number }).id).sort()
  if (db.dialect === 'postgres') {
    assert.deepEqual(ids, [50])
    assert.equal(await sourceRows(51), 0)
  } else {
    assert.deepEqual(ids, [50, 51])
    assert.equal(await sourceRows(51), 1)
  }
  assert.equal(published[0].payload.name, 'sentinel.created')
})

test('with Redis unreachable a process still starts, and events still travel through the catalog', async (t) => {
  // nothing listens on port 1 of the loopback address: every connection attempt is refused at once
  const atrium = await startTestAtrium(t, { env: { REDIS_URL: 'redis://127.0.0.1:1' } })
  const got: number[] = []
  atrium.handle.platform.outbox.subscribe('test.tick', (e) => got.push(Number(e.payload.n)))
  await atrium.handle.platform.outbox.publish({ payload: { type: 'test.tick', version: 1, n: 7 } })
  await eventually(() => got.length, (n) => n >= 1)
  assert.deepEqual(got, [7])
})
