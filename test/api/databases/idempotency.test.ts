// Idempotency-Key on the Databases API (Stripe's semantics): a retry replays the first answer, the same key
// with another body is refused, concurrent requests with one key create one database, keys last 24 hours.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { deleteOlderThan } from '../../../src/jobs/retention-job.js'
import { IDEMPOTENCY_KEYS } from '../../../src/idempotency/idempotency-retention-job.js'
import { startDatabasesAtrium } from './helpers.js'

test('Idempotency-Key', async (t) => {
  const atrium = await startDatabasesAtrium(t)
  const { key } = await atrium.createPlatformKey()
  const other = await atrium.createPlatformKey()
  const create = (idempotencyKey: string, body: unknown, as = key) =>
    atrium.api('POST', '/api/v1/databases?wait=true&timeout=30', as, { body, headers: { 'idempotency-key': idempotencyKey } })
  const countNamed = async (name: string) => Number((await atrium.catalog.query<{ n: string }>('SELECT count(*) AS n FROM atrium.managed_databases WHERE name = $1', [name]))[0]!.n)

  await t.test('the same key and body replay the first answer, status and body, with Idempotent-Replayed', async () => {
    const ik = randomUUID()
    const first = await create(ik, { name: 'replayed' })
    assert.equal(first.status, 201, first.text)
    atrium.track(first.body.data)
    assert.equal(first.headers.get('idempotent-replayed'), null)
    const again = await create(ik, { name: 'replayed' })
    assert.equal(again.status, 201)
    assert.equal(again.headers.get('idempotent-replayed'), 'true')
    assert.deepEqual(again.body, first.body)
    assert.equal(await countNamed('replayed'), 1)
  })

  await t.test('the same key with another body is 422 idempotency_key_reused', async () => {
    const ik = randomUUID()
    const first = await create(ik, { name: 'first-body' })
    atrium.track(first.body.data)
    const res = await create(ik, { name: 'second-body' })
    assert.equal(res.status, 422, res.text)
    assert.equal(res.body.error.code, 'idempotency_key_reused')
    assert.equal(await countNamed('second-body'), 0)
    // and on another route
    const patch = await atrium.api('PATCH', `/api/v1/databases/${first.body.data.uuid}`, key, { body: { name: 'first-body' }, headers: { 'idempotency-key': ik } })
    assert.equal(patch.status, 422)
  })

  await t.test('concurrent requests with one key create one database and all get its answer', async () => {
    const ik = randomUUID()
    const answers = await Promise.all(Array.from({ length: 5 }, () => create(ik, { name: 'concurrent' })))
    for (const res of answers) if (res.body?.data?.db_name) atrium.track(res.body.data)
    assert.equal(await countNamed('concurrent'), 1)
    const uuids = new Set(answers.map((r) => r.body.data?.uuid))
    assert.equal(uuids.size, 1, JSON.stringify(answers.map((r) => [r.status, r.body.error?.code])))
    assert.deepEqual(answers.map((r) => r.status).sort(), [201, 201, 201, 201, 201])
    assert.equal(answers.filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 4)
  })

  await t.test('keys belong to their user: another user with the same key runs its own request', async () => {
    const ik = randomUUID()
    const mine = await create(ik, { name: 'per-user' })
    atrium.track(mine.body.data)
    const theirs = await create(ik, { name: 'per-user' }, other.key)
    atrium.track(theirs.body.data)
    assert.equal(theirs.status, 201)
    assert.equal(theirs.headers.get('idempotent-replayed'), null)
    assert.notEqual(theirs.body.data.uuid, mine.body.data.uuid)
  })

  await t.test('errors are replayed too, but a request refused by validation stores nothing', async () => {
    const ik = randomUUID()
    const invalid = await create(ik, { name: 'Bad Name' })
    assert.equal(invalid.status, 422)
    const valid = await create(ik, { name: 'after-invalid' })
    assert.equal(valid.status, 201, 'the key was not used up by the refused request')
    atrium.track(valid.body.data)
    const missing = randomUUID()
    const del = (ikey: string) => atrium.api('DELETE', '/api/v1/databases/00000000-0000-4000-8000-000000000000', key, { headers: { 'idempotency-key': ikey } })
    const first = await del(missing)
    assert.equal(first.status, 404)
    const replay = await del(missing)
    assert.equal(replay.status, 404)
    assert.equal(replay.headers.get('idempotent-replayed'), 'true')
    assert.deepEqual(replay.body, first.body)
  })

  await t.test('a key older than 24 hours is free again', async () => {
    const ik = randomUUID()
    const first = await create(ik, { name: 'expiring' })
    atrium.track(first.body.data)
    await atrium.catalog.query("UPDATE atrium.idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1", [ik])
    const later = await create(ik, { name: 'expiring' })
    atrium.track(later.body.data)
    assert.equal(later.status, 201)
    assert.equal(later.headers.get('idempotent-replayed'), null)
    assert.notEqual(later.body.data.uuid, first.body.data.uuid)
  })

  await t.test('the retention job deletes keys two days old and keeps younger ones', async () => {
    const old = randomUUID()
    await create(old, { name: 'Not Valid' })
    await atrium.api('DELETE', '/api/v1/databases/00000000-0000-4000-8000-000000000000', key, { headers: { 'idempotency-key': old } })
    await atrium.catalog.query("UPDATE atrium.idempotency_keys SET created_at = now() - interval '3 days' WHERE key = $1", [old])
    const before = Number((await atrium.catalog.query<{ n: string }>('SELECT count(*) AS n FROM atrium.idempotency_keys'))[0]!.n)
    assert.equal(await deleteOlderThan(atrium.handle.platform.catalog, IDEMPOTENCY_KEYS, 2), 1)
    const after = Number((await atrium.catalog.query<{ n: string }>('SELECT count(*) AS n FROM atrium.idempotency_keys'))[0]!.n)
    assert.equal(after, before - 1)
  })

  await t.test('a malformed key is 422', async () => {
    const res = await create('x'.repeat(300), { name: 'long-key' })
    assert.equal(res.status, 422)
    assert.equal(res.body.error.details.field, 'Idempotency-Key')
  })

  // every database this test made, through the API (the safety net drops anything left)
  const list = await atrium.api('GET', '/api/v1/databases?limit=100', key)
  for (const db of list.body.data) await atrium.api('DELETE', `/api/v1/databases/${db.uuid}`, key)
  const theirs = await atrium.api('GET', '/api/v1/databases?limit=100', other.key)
  for (const db of theirs.body.data) await atrium.api('DELETE', `/api/v1/databases/${db.uuid}`, other.key)
})
