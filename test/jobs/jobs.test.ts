// Durable jobs against a real catalog database: records and their transitions, retries, transactional enqueue,
// cancellation, API-only nodes, shutdown hand-back, and exactly-once effects after kill -9.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { Catalog } from '../../src/catalog/catalog.js'
import type { Config } from '../../src/config/schema.js'
import { AppError } from '../../src/errors/app-error.js'
import { JobInterrupted, JobQueue, type JobRecord } from '../../src/jobs/job-queue.js'
import { createPgDatabase, type TestDatabase } from '../helpers/databases.js'

const logger = pino({ level: 'silent' })
const settings = (workers: number): Config['jobs'] => ({ workers, pollIntervalMs: 200, maintenanceIntervalSeconds: 1, shutdownGraceMs: 1_000, recordRetentionDays: 30 })

/** one "process": its own catalog connections and job service; stopped after the test */
async function startNode(t: TestContext, db: TestDatabase, workers: number): Promise<{ jobs: JobQueue; catalog: Catalog }> {
  const catalog = new Catalog(db.url, logger)
  await catalog.migrate()
  const jobs = new JobQueue(catalog, settings(workers), logger)
  await jobs.start()
  t.after(async () => {
    await jobs.stop()
    await catalog.close()
  })
  return { jobs, catalog }
}

/** polls until `check` returns a value, for at most `ms` */
async function until<T>(what: string, check: () => Promise<T | undefined | null | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

const statusIs = (jobs: JobQueue, id: string, status: JobRecord['status']) => async () => {
  const record = await jobs.get(id)
  return record?.status === status ? record : undefined
}

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void
  const wait = new Promise<void>((resolve) => { open = resolve })
  return { wait, open }
}

test('jobs', async (t) => {
  const db = await createPgDatabase(t)
  const a = await startNode(t, db, 2)

  await t.test('a job runs, reports progress, and its record goes queued → running → succeeded', async () => {
    const release = gate()
    await a.jobs.define<{ n: number }>('report', async (data, ctx) => {
      await ctx.progress(0.5, 'half way')
      await release.wait
      return { rows: data.n, attempt: ctx.attempt }
    })
    const id = await a.jobs.enqueue('report', { n: 3 }, { owner: { kind: 'key', id: 'key-1' } })
    const running = await until('running', statusIs(a.jobs, id, 'running'))
    assert.equal(running.attempts, 1)
    assert.equal(running.max_attempts, 3)
    assert.deepEqual(running.owner, { kind: 'key', id: 'key-1' })
    assert.ok(running.started_at)
    const halfway = await until('progress', async () => {
      const r = await a.jobs.get(id)
      return r?.progress === 0.5 ? r : undefined
    })
    assert.equal(halfway.progress_message, 'half way')
    assert.equal(halfway.finished_at, null)
    release.open()
    const done = await until('succeeded', statusIs(a.jobs, id, 'succeeded'))
    assert.deepEqual(done.result, { rows: 3, attempt: 1 })
    assert.equal(done.progress, 1)
    assert.equal(done.error, null)
    assert.ok(done.finished_at && done.finished_at >= done.started_at!)
    assert.equal(done.boss_job_id, id)
  })

  await t.test('list filters by owner, kind and status and pages with a cursor', async () => {
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push(await a.jobs.enqueue('report', { n: i }, { owner: { kind: 'tenant', id: 't-list' } }))
    const first = await a.jobs.list({ owner: { kind: 'tenant', id: 't-list' }, limit: 2 })
    assert.deepEqual(first.jobs.map((j) => j.id), [ids[2], ids[1]])
    assert.ok(first.next_cursor)
    const second = await a.jobs.list({ owner: { kind: 'tenant', id: 't-list' }, limit: 2, cursor: first.next_cursor! })
    assert.deepEqual(second.jobs.map((j) => j.id), [ids[0]])
    assert.equal(second.next_cursor, null)
    assert.ok((await a.jobs.list({ kind: 'report', status: 'succeeded' })).jobs.every((j) => j.kind === 'report' && j.status === 'succeeded'))
    await assert.rejects(a.jobs.list({ cursor: 'not-a-cursor' }), (err: AppError) => err.code === 'invalid_cursor')
    assert.equal(await a.jobs.get('nope'), null)
  })

  await t.test('a failing job is retried with growing delays, then failed with its error recorded', async () => {
    const tries: number[] = []
    await a.jobs.define('flaky', async () => {
      tries.push(Date.now())
      throw new Error(`upstream said no (try ${tries.length})`)
    }, { retryLimit: 2, retryDelay: 1, retryBackoff: true })
    const id = await a.jobs.enqueue('flaky')
    // between attempts the record is queued again, with the last error on it
    const waiting = await until('queued after a failure', async () => {
      const r = await a.jobs.get(id)
      return r?.status === 'queued' && r.error ? r : undefined
    })
    assert.equal(waiting.attempts, 1)
    assert.deepEqual(waiting.error, { code: 'job_failed', message: 'upstream said no (try 1)' })
    const failed = await until('failed', statusIs(a.jobs, id, 'failed'), 20_000)
    assert.equal(tries.length, 3)
    assert.equal(failed.attempts, 3)
    assert.equal(failed.max_attempts, 3)
    assert.deepEqual(failed.error, { code: 'job_failed', message: 'upstream said no (try 3)' })
    assert.ok(failed.finished_at)
    // backoff: retry n waits retryDelay * 2^(n-1) to twice that
    assert.ok(tries[1]! - tries[0]! >= 1_000, `first retry after ${tries[1]! - tries[0]!} ms`)
    assert.ok(tries[2]! - tries[1]! >= 2_000, `second retry after ${tries[2]! - tries[1]!} ms`)
    await sleep(500)
    assert.equal(tries.length, 3, 'no attempt after the last')
  })

  await t.test('an Atrium error thrown by a handler is recorded with its own code', async () => {
    await a.jobs.define('missing', async () => { throw new AppError('object_not_found', 'no object exports/x.csv') }, { retryLimit: 0 })
    const failed = await until('failed', statusIs(a.jobs, await a.jobs.enqueue('missing'), 'failed'))
    assert.deepEqual(failed.error, { code: 'object_not_found', message: 'no object exports/x.csv' })
    assert.equal(failed.attempts, 1)
  })

  await t.test('a run past its expiry is stopped and failed with job_expired', async () => {
    let reason: unknown
    await a.jobs.define('slow', async (_data, ctx) => {
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }))
      reason = ctx.signal.reason
      throw ctx.signal.reason
    }, { retryLimit: 0, expireIn: 1 })
    const failed = await until('failed', statusIs(a.jobs, await a.jobs.enqueue('slow'), 'failed'))
    assert.ok(reason instanceof JobInterrupted && reason.reason === 'expired')
    assert.equal(failed.error?.code, 'job_expired')
  })

  await t.test('a run whose handler ignores its expiry is failed by maintenance, and its record follows', async () => {
    const stuck = gate()
    t.after(() => stuck.open())
    await a.jobs.define('stuck', async () => { await stuck.wait }, { retryLimit: 0, expireIn: 1 })
    const id = await a.jobs.enqueue('stuck')
    await until('running', statusIs(a.jobs, id, 'running'))
    const failed = await until('failed', statusIs(a.jobs, id, 'failed'))
    assert.equal(failed.error?.code, 'job_expired')
    assert.ok(failed.finished_at)
    // the handler finishing late changes nothing
    stuck.open()
    await sleep(300)
    assert.equal((await a.jobs.get(id))!.status, 'failed')
  })

  await t.test('enqueue inside a transaction: rolled back, neither job nor record exists; committed, both do', async () => {
    let ran = 0
    await a.jobs.define('outbox', async () => { ran++ })
    await a.catalog.query({ sql: 'CREATE TABLE IF NOT EXISTS public.orders (id int PRIMARY KEY)', params: [] })
    let doomed = ''
    await assert.rejects(a.catalog.transaction(async (tx) => {
      await tx.query({ sql: 'INSERT INTO public.orders VALUES (1)', params: [] })
      doomed = await a.jobs.enqueue('outbox', { order: 1 }, { tx })
      throw new Error('the write failed after the enqueue')
    }))
    assert.ok(doomed)
    assert.equal(await a.jobs.get(doomed), null)
    assert.deepEqual(await a.catalog.rows('SELECT id FROM atrium_jobs.job WHERE id = $1', [doomed]), [])
    assert.deepEqual(await a.catalog.rows('SELECT id FROM public.orders'), [])

    const kept = await a.catalog.transaction(async (tx) => {
      await tx.query({ sql: 'INSERT INTO public.orders VALUES (2)', params: [] })
      return a.jobs.enqueue('outbox', { order: 2 }, { tx })
    })
    await until('succeeded', statusIs(a.jobs, kept, 'succeeded'))
    assert.equal(ran, 1, 'only the committed job ran')
  })

  await t.test('a queued job is cancelled and never runs', async () => {
    const api = await startNode(t, db, 0)
    let ran = 0
    await api.jobs.define('later', async () => { ran++ })
    const id = await api.jobs.enqueue('later')
    assert.equal((await api.jobs.get(id))!.status, 'queued')
    const cancelled = await api.jobs.cancel(id)
    assert.equal(cancelled.status, 'cancelled')
    assert.ok(cancelled.finished_at)
    assert.deepEqual(await api.catalog.rows('SELECT state FROM atrium_jobs.job WHERE id = $1', [id]), [{ state: 'cancelled' }])
    // a node with workers learns the kind now; the cancelled job is not taken
    await a.jobs.define('later', async () => { ran++ })
    await sleep(800)
    assert.equal(ran, 0)
    assert.equal((await a.jobs.get(id))!.status, 'cancelled')
    await assert.rejects(api.jobs.cancel('00000000-0000-4000-8000-000000000000'), (err: AppError) => err.code === 'job_not_found')
  })

  await t.test('a running job cancelled from another node: its handler sees the signal, the record stays cancelled', async () => {
    const api = await startNode(t, db, 0)
    const started = gate()
    let reason: unknown
    const handler = async (_data: unknown, ctx: { signal: AbortSignal }) => {
      started.open()
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }))
      reason = ctx.signal.reason
      throw ctx.signal.reason
    }
    await a.jobs.define('long', handler)
    await api.jobs.define('long', handler)
    const id = await api.jobs.enqueue('long')
    await started.wait
    await until('running', statusIs(api.jobs, id, 'running'))
    assert.equal((await api.jobs.cancel(id)).status, 'cancelled')
    await until('handler aborted', async () => reason)
    assert.ok(reason instanceof JobInterrupted)
    assert.equal(reason.reason, 'cancelled')
    await sleep(300)
    const record = (await a.jobs.get(id))!
    assert.equal(record.status, 'cancelled')
    assert.equal(record.error, null)
  })

  await t.test('workers = 0 never runs a handler; a node with workers runs every job', async () => {
    const api = await startNode(t, db, 0)
    const ranOn: string[] = []
    await api.jobs.define('count', async () => { ranOn.push('api') })
    await a.jobs.define('count', async () => { ranOn.push('worker') })
    const ids: string[] = []
    for (let i = 0; i < 6; i++) ids.push(await api.jobs.enqueue('count', { i }))
    for (const id of ids) await until('succeeded', statusIs(api.jobs, id, 'succeeded'))
    assert.deepEqual(ranOn, Array(6).fill('worker'))
  })

  await t.test('stopping a node hands its running job back: queued again, then done elsewhere without a lost attempt', async () => {
    const leaving = await startNode(t, db, 1)
    const started = gate()
    let sawAbort: unknown
    await leaving.jobs.define('handover', async (_data, ctx) => {
      started.open()
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }))
      sawAbort = ctx.signal.reason
      throw ctx.signal.reason
    })
    const id = await leaving.jobs.enqueue('handover')
    await started.wait
    await until('running', statusIs(leaving.jobs, id, 'running'))
    await leaving.jobs.stop()
    assert.ok(sawAbort instanceof JobInterrupted && sawAbort.reason === 'shutdown')
    const back = (await a.jobs.get(id))!
    assert.equal(back.status, 'queued')
    assert.equal(back.error, null)
    assert.deepEqual(await a.catalog.rows('SELECT state FROM atrium_jobs.job WHERE id = $1', [id]), [{ state: 'retry' }])
    let attempt = 0
    await a.jobs.define('handover', async (_data, ctx) => { attempt = ctx.attempt; return 'finished here' })
    const done = await until('succeeded', statusIs(a.jobs, id, 'succeeded'))
    assert.equal(attempt, 1, 'the handed-back run did not count as an attempt')
    assert.equal(done.attempts, 1)
    assert.deepEqual(done.result, 'finished here')
  })
})

test('after kill -9 mid-job another process runs it again and its effect happens exactly once', async (t) => {
  const db = await createPgDatabase(t)
  const catalog = new Catalog(db.url, logger)
  t.after(() => catalog.close())
  await catalog.migrate()
  for (const sql of ['CREATE SCHEMA jobs_test', 'CREATE TABLE jobs_test.transfers (job_id uuid PRIMARY KEY, amount int NOT NULL)',
    'CREATE TABLE jobs_test.account (balance int NOT NULL)', 'INSERT INTO jobs_test.account VALUES (0)']) await catalog.query({ sql, params: [] })

  const first = spawnWorker(db.url, true)
  t.after(() => first.kill())
  await first.waitFor(/READY/)
  // an API-only node enqueues (it defines the kind so it may, but runs nothing)
  const api = new JobQueue(catalog, settings(0), logger)
  await api.start()
  t.after(() => api.stop())
  await api.define('transfer', async () => { throw new Error('an API-only node never runs a handler') }, { retryLimit: 2, retryDelay: 0, retryBackoff: false, expireIn: 2 })
  const id = await api.enqueue('transfer', { amount: 10 })

  // the first worker did the transfer step and now hangs; kill it without a chance to clean up
  await first.waitFor(new RegExp(`STEP_DONE ${id}`))
  assert.deepEqual(await catalog.rows('SELECT balance FROM jobs_test.account'), [{ balance: 10 }])
  first.kill('SIGKILL')
  await first.exited
  assert.equal((await api.get(id))!.status, 'running')

  // a second worker: pg-boss expires the dead run (expireIn 2 s) and it takes the job again
  const second = spawnWorker(db.url, false)
  t.after(() => second.kill())
  await second.waitFor(/READY/)
  const done = await until('succeeded', statusIs(api, id, 'succeeded'), 30_000)
  assert.equal(done.attempts, 2)
  assert.deepEqual(done.result, { transferred: 10 })
  assert.deepEqual(await catalog.rows('SELECT count(*)::int AS n FROM jobs_test.transfers'), [{ n: 1 }])
  assert.deepEqual(await catalog.rows('SELECT balance FROM jobs_test.account'), [{ balance: 10 }], 'the step ran once')
  assert.deepEqual(await catalog.rows('SELECT step FROM atrium.job_steps WHERE job_id = $1', [id]), [{ step: 'transfer' }])
})

/** a worker process (test/jobs/job-worker.ts) on the catalog; only this PID is ever signalled */
function spawnWorker(catalogUrl: string, hangFirstAttempt: boolean) {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./job-worker.ts', import.meta.url).pathname], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', CATALOG_URL: catalogUrl, HANG_FIRST_ATTEMPT: hangFirstAttempt ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { err += d })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    exited,
    kill: (signal: NodeJS.Signals = 'SIGTERM') => { if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal) },
    waitFor: (pattern: RegExp) => until(`worker output ${pattern}`, async () => {
      if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}: ${err}`)
      return pattern.test(out)
    }, 30_000),
  }
}
