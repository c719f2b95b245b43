import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'

// /admin/jobs: job records over HTTP, admin key only, in the gateway envelope; one process with workers, one without.
test('admin job records', async (t) => {
  const atrium = await startTestAtrium(t, { env: { ATRIUM_WORKERS: '1' } })
  const apiOnly = await startTestAtrium(t, { catalog: atrium.catalog, env: { ATRIUM_WORKERS: '0' } })
  assert.equal(apiOnly.handle.platform.jobs.workers, 0)
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  const ran: string[] = []
  await atrium.handle.platform.jobs.define('export', async (data, ctx) => {
    ran.push('worker')
    await ctx.progress(0.25, 'reading rows')
    await released
    return { object: `exports/${String(data.table)}.csv` }
  })
  await apiOnly.handle.platform.jobs.define('export', async () => { ran.push('api-only') })
  const id = await apiOnly.handle.platform.jobs.enqueue('export', { table: 'orders' }, { owner: { kind: 'key', id: 'k-1' } })

  await t.test('GET /admin/jobs/{id} shows the running job with its progress', async () => {
    let res = await apiOnly.get(`/admin/jobs/${id}`)
    for (let i = 0; i < 100 && res.body.data?.job.progress !== 0.25; i++) {
      await sleep(100)
      res = await apiOnly.get(`/admin/jobs/${id}`)
    }
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.status, 'success')
    assert.equal(res.body.data.job.status, 'running')
    assert.equal(res.body.data.job.progress_message, 'reading rows')
    assert.deepEqual(res.body.data.job.owner, { kind: 'key', id: 'k-1' })
    release()
    for (let i = 0; i < 100 && res.body.data.job.status !== 'succeeded'; i++) {
      await sleep(100)
      res = await apiOnly.get(`/admin/jobs/${id}`)
    }
    assert.equal(res.body.data.job.status, 'succeeded')
    assert.deepEqual(res.body.data.job.result, { object: 'exports/orders.csv' })
    assert.deepEqual(ran, ['worker'], 'the API-only process ran nothing')
  })

  await t.test('GET /admin/jobs lists by owner and pages', async () => {
    const res = await apiOnly.get('/admin/jobs?owner_kind=key&owner_id=k-1&limit=1')
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body.data.jobs.map((j: { id: string }) => j.id), [id])
    assert.equal(res.body.data.next_cursor, null)
    assert.deepEqual((await apiOnly.get('/admin/jobs?owner_kind=key&owner_id=nobody')).body.data.jobs, [])
  })

  await t.test('bad input is a 400 with a stable code; an unknown job is 404', async () => {
    const half = await apiOnly.get('/admin/jobs?owner_kind=key')
    assert.equal(half.status, 400)
    assert.equal(half.body.code, 'invalid_request')
    const cursor = await apiOnly.get('/admin/jobs?cursor=garbage')
    assert.equal(cursor.status, 400)
    assert.equal(cursor.body.code, 'invalid_cursor')
    assert.equal((await apiOnly.get('/admin/jobs?status=exploded')).status, 400)
    for (const missing of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const res = await apiOnly.get(`/admin/jobs/${missing}`)
      assert.equal(res.status, 404)
      assert.equal(res.body.code, 'job_not_found')
    }
  })

  await t.test('POST /admin/jobs/{id}/cancel cancels a queued job', async () => {
    await apiOnly.handle.platform.jobs.define('later', async () => {})
    const queued = await apiOnly.handle.platform.jobs.enqueue('later')
    const res = await apiOnly.post(`/admin/jobs/${queued}/cancel`)
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.data.job.status, 'cancelled')
  })

  await t.test('only the admin key sees job records', async () => {
    const { key } = await createKey(atrium, { rights: ['*'] })
    const res = await apiOnly.get(`/admin/jobs/${id}`, { key })
    assert.ok(res.status === 401 || res.status === 403, `status ${res.status}`)
    assert.equal((await apiOnly.get('/admin/jobs', { key: null })).status, 401)
  })
})
