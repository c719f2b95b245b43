import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import pg from 'pg'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'
import { spawnAtrium } from '../../helpers/process.js'
import { untilTrue as until } from '../../helpers/until.js'

/** polls (bounded) until `ready` holds */

// A process killed (SIGKILL) in the middle of a pipeline run: the run is a durable job, so another process takes
// it up once the dead attempt expires, and continues after the last finished batch. The batch that was being
// written when the process died is written again; an upsert sink keeps every row once.
test('a pipeline run whose process is killed mid-batch is finished by another process', async (t) => {
  const db = await createPgDatabase(t)
  await db.query(`CREATE TABLE ticks (id integer PRIMARY KEY, at text);
    INSERT INTO ticks SELECT g, 'tick ' || g FROM generate_series(1, 8) g;
    CREATE TABLE ticks_copy (id integer PRIMARY KEY, at text);
    -- the write of row 5 waits for an advisory lock this test holds: the run is then surely in the middle of a batch
    CREATE FUNCTION wait_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.id = 5 THEN PERFORM pg_advisory_xact_lock(4242); END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER wait_for_test BEFORE INSERT ON ticks_copy FOR EACH ROW EXECUTE FUNCTION wait_for_test()`)
  const holder = new pg.Client({ connectionString: db.url })
  // the database is dropped (WITH FORCE) in an earlier after-hook than any added here: a late end must not throw
  holder.on('error', () => {})
  await holder.connect()
  await holder.query('SELECT pg_advisory_lock(4242)')

  const catalog = await createPgDatabase(null, 'atrium_catalog')
  const dataDir = mkdtempSync(join(tmpdir(), 'atrium-pipelines-'))
  const env = {
    DATABASE_URL: catalog.url, ATHENA_KEY_12: ADMIN_KEY, ATRIUM_DATA_DIR: dataDir, ATRIUM_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789',
    ATRIUM_CLIENT_PG: db.url, ATRIUM_PIPELINES_BATCH_SIZE: '2', ATRIUM_PIPELINES_JOB_TIMEOUT_SECONDS: '10',
  }
  const doomed = await spawnAtrium({ ...env, ATRIUM_WORKERS: '1' })
  t.after(() => doomed.stop('SIGKILL'))
  const body = { name: 'ticks', source: { table_name: 'ticks', cursor_column: 'id' }, sink: { table_name: 'ticks_copy', mode: 'upsert' } }
  const res = await fetch(`${doomed.url}/pipelines`, { method: 'POST', headers: { apikey: ADMIN_KEY, 'x-athena-client': 'pg', 'content-type': 'application/json' }, body: JSON.stringify(body) })
  assert.equal(res.status, 202)
  const jobId = ((await res.json()) as any).data.job_id as string
  await until('the third batch waits for the lock', async () => {
    const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)
    return row!.n === 1
  })
  await doomed.stop('SIGKILL')
  assert.equal(doomed.child.signalCode, 'SIGKILL')
  await holder.query('SELECT pg_advisory_unlock(4242)')
  await holder.end()

  // the survivor's job maintenance expires the dead attempt (after 10 s), then the retry runs here
  const atrium = await startTestAtrium(t, { catalog, sources: { pg: db.url }, settings: { 'jobs.maintenanceIntervalSeconds': 1, 'jobs.pollIntervalMs': 200 } })
  t.after(async () => {
    await catalog.drop()
    rmSync(dataDir, { recursive: true, force: true })
  })
  let job: any
  await until('the run finishes on the survivor', async () => {
    job = (await atrium.get(`/pipelines/runs/${jobId}`, { client: 'pg' })).body.data.job
    return job.status === 'succeeded' || job.status === 'failed'
  }, 900)
  assert.equal(job.status, 'succeeded', JSON.stringify(job))
  assert.equal(job.attempts, 2)
  assert.deepEqual([job.result.rows_read, job.result.rows_written, job.result.rows_rejected, job.result.cursor], [8, 8, 0, 8])
  assert.deepEqual((await db.query<any>('SELECT id FROM ticks_copy ORDER BY id')).map((r) => r.id), [1, 2, 3, 4, 5, 6, 7, 8])
  // the cursor moved with each finished batch: a rerun has nothing left to copy
  const again = await atrium.post('/pipelines/simulate', { client: 'pg', body })
  assert.equal(again.body.rows_fetched, 0)
})
