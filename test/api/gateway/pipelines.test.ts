import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startTestAtrium, type TestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { assertMatchesSpec } from '../../helpers/athena-contract.js'
import { createMysqlDatabase, createPgDatabase } from '../../helpers/databases.js'
import pgDriver from 'pg'

/** polls the run (bounded) until it finishes; returns its job record */
async function finished(atrium: TestAtrium, id: string, key?: string): Promise<any> {
  // bounded: a retried attempt waits out pg-boss's retry delay (5–10 s) first
  for (let i = 0; i < 400; i++) {
    const res = await atrium.get(`/pipelines/runs/${id}`, { client: 'pg', key })
    assert.equal(res.status, 200, res.text)
    const job = res.body.data.job
    if (['succeeded', 'failed', 'cancelled'].includes(job.status)) return job
    await sleep(100)
  }
  assert.fail(`pipeline run ${id} did not finish`)
}

async function runPipeline(atrium: TestAtrium, body: unknown, key?: string): Promise<any> {
  const res = await atrium.post('/pipelines', { client: 'pg', key, body })
  assert.equal(res.status, 202, res.text)
  assert.equal(res.headers.get('location'), `/pipelines/runs/${res.body.data.job_id}`)
  const job = await finished(atrium, res.body.data.job_id, key)
  assert.equal(job.status, 'succeeded', JSON.stringify(job))
  return job
}

test('pipelines: PostgreSQL ⇄ MariaDB, transforms, upsert, incremental runs, simulate, templates, rights', async (t) => {
  const pg = await createPgDatabase(t)
  const maria = await createMysqlDatabase(t)
  await pg.query(`CREATE TABLE people (id integer PRIMARY KEY, name text NOT NULL, age text, city text, score numeric(6,2));
    INSERT INTO people VALUES (1, ' Ada ', '36', 'london', 12.5), (2, 'Brian', 'forty', 'paris', 20), (3, 'Cleo', '29', 'rome', 3),
      (4, 'Dan', '51', NULL, 15);
    CREATE TABLE products (sku text PRIMARY KEY, price numeric(8,2) NOT NULL, qty integer NOT NULL);
    CREATE TABLE stock (sku text PRIMARY KEY, qty integer);
    CREATE TABLE people_copy (LIKE people);
    CREATE TABLE ticks (id integer PRIMARY KEY, at text);
    INSERT INTO ticks SELECT g, 'tick ' || g FROM generate_series(1, 8) g;
    CREATE TABLE ticks_copy (id integer PRIMARY KEY, at text);
    CREATE TABLE readings_q (id integer PRIMARY KEY, value integer);
    CREATE TABLE readings_t (id integer PRIMARY KEY, value integer);
    -- the first write of row 5 fails as if the server were out of resources; a sequence is not rolled back with it
    CREATE SEQUENCE ticks_failures;
    CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.id = 5 AND nextval('ticks_failures') = 1 THEN RAISE EXCEPTION 'out of resources, for a moment' USING ERRCODE = '53000'; END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER fail_once BEFORE INSERT ON ticks_copy FOR EACH ROW EXECUTE FUNCTION fail_once();
    -- the write of row 5 here waits for an advisory lock the test holds, so a run is surely in the middle of a batch
    CREATE TABLE ticks_slow (id integer PRIMARY KEY, at text);
    CREATE FUNCTION wait_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.id = 5 THEN PERFORM pg_advisory_xact_lock(777); END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER wait_for_test BEFORE INSERT ON ticks_slow FOR EACH ROW EXECUTE FUNCTION wait_for_test()`)
  await maria.query(`CREATE TABLE contacts (id int PRIMARY KEY, full_name varchar(100) NOT NULL, age int, label varchar(200), score decimal(6,2));
    CREATE TABLE products (sku varchar(20) PRIMARY KEY, price decimal(8,2) NOT NULL, qty int NOT NULL);
    INSERT INTO products VALUES ('A-1', 9.99, 3), ('B-2', 120.00, 0), ('C-3', 5.00, 7);
    CREATE TABLE names (id int PRIMARY KEY, name varchar(4) NOT NULL);
    CREATE TABLE readings (id int AUTO_INCREMENT PRIMARY KEY, value int NOT NULL);
    INSERT INTO readings (value) VALUES (10), (20), (30)`)
  const templates = {
    'people-to-contacts': {
      description: 'people with a score of 10 or more, as contacts',
      source: { client: 'pg', table_name: 'people', cursor_column: 'id' },
      transforms: [
        { rename: { name: 'full_name' } },
        { cast: { age: 'integer' } },
        { map: { full_name: 'trim(full_name)' } },
        { derive: { label: "upper(full_name) || ' from ' || coalesce(city, 'nowhere')" } },
        { filter: 'score >= 10' },
        { drop: ['city'] },
      ],
      sink: { client: 'maria', table_name: 'contacts', mode: 'insert' },
    },
  }
  const atrium = await startTestAtrium(t, { sources: { pg: pg.url, maria: maria.url }, settings: { 'pipelines.templates': templates, 'pipelines.batchSize': 2, 'pipelines.simulateMaxRows': 7 } })

  await t.test('a template runs PostgreSQL → MariaDB as a job: rename, cast, map, derive, filter, drop; a failed cast is rejected with its reason', async () => {
    const job = await runPipeline(atrium, { pipeline: 'people-to-contacts' })
    assert.equal(job.progress, 1)
    const r = job.result
    assert.deepEqual([r.rows_read, r.rows_written, r.rows_rejected, r.rows_filtered], [4, 2, 1, 1])
    assert.equal(r.rejected_rows[0].row.id, 2)
    assert.match(r.rejected_rows[0].reason, /cannot cast column "age" value "forty" to integer/)
    assert.equal(r.cursor, 4)
    const rows = await maria.query('SELECT id, full_name, age, label, score FROM contacts ORDER BY id')
    assert.deepEqual(rows.map((x: any) => [x.id, x.full_name, x.age, x.label, Number(x.score)]), [
      [1, 'Ada', 36, 'ADA from london', 12.5],
      [4, 'Dan', 51, 'DAN from nowhere', 15],
    ])
  })

  await t.test('an incremental rerun of a named pipeline copies only the rows after its cursor', async () => {
    await pg.query(`INSERT INTO people VALUES (5, 'Eve', '40', 'oslo', 99), (6, 'Finn', '33', 'bergen', 50), (7, 'Gus', '20', 'turku', 11)`)
    const job = await runPipeline(atrium, { pipeline: 'people-to-contacts' })
    assert.deepEqual([job.result.rows_read, job.result.rows_written, job.result.rows_rejected, job.result.cursor], [3, 3, 0, 7])
    assert.deepEqual((await maria.query('SELECT id FROM contacts ORDER BY id')).map((x: any) => x.id), [1, 4, 5, 6, 7])
    const again = await runPipeline(atrium, { pipeline: 'people-to-contacts' })
    assert.deepEqual([again.result.rows_read, again.result.rows_written], [0, 0], 'nothing new: nothing copied')
  })

  await t.test('MariaDB → PostgreSQL upserts on the key: a rerun updates rows instead of duplicating them', async () => {
    const body = {
      source: { client: 'maria', table_name: 'products' },
      transforms: [{ cast: { price: 'number' } }, { map: { price: 'round(price * 1.1, 2)' } }],
      sink: { client: 'pg', table_name: 'products', mode: 'upsert', key: ['sku'] },
    }
    const first = await runPipeline(atrium, body)
    assert.deepEqual([first.result.rows_read, first.result.rows_written], [3, 3])
    await maria.query(`UPDATE products SET qty = 42 WHERE sku = 'A-1'`)
    await runPipeline(atrium, body)
    const rows = await pg.query<any>('SELECT sku, price::text AS price, qty FROM products ORDER BY sku')
    assert.deepEqual(rows.map((x) => [x.sku, x.price, x.qty]), [['A-1', '10.99', 42], ['B-2', '132.00', 0], ['C-3', '5.50', 7]])
  })

  await t.test('a retried run continues after the last finished batch: nothing is written twice', async () => {
    const job = await runPipeline(atrium, { source: { table_name: 'ticks', cursor_column: 'id' }, sink: { table_name: 'ticks_copy' }, batch_size: 2 })
    assert.equal(job.attempts, 2, 'the first attempt failed on the third batch')
    assert.deepEqual([job.result.rows_read, job.result.rows_written, job.result.rows_rejected, job.result.batches], [8, 8, 0, 4])
    assert.deepEqual((await pg.query<any>('SELECT id FROM ticks_copy ORDER BY id')).map((x) => x.id), [1, 2, 3, 4, 5, 6, 7, 8])
  })

  await t.test('a read query on MariaDB as the source, with a filter', async () => {
    const job = await runPipeline(atrium, {
      source: { client: 'maria', query: 'SELECT sku, qty FROM products ORDER BY sku' },
      transforms: [{ filter: 'qty > 0' }],
      sink: { client: 'pg', table_name: 'stock' },
    })
    assert.deepEqual([job.result.rows_read, job.result.rows_written, job.result.rows_filtered], [3, 2, 1])
    assert.deepEqual((await pg.query<any>('SELECT sku FROM stock ORDER BY sku')).map((x) => x.sku), ['A-1', 'C-3'])
    const write = await atrium.post('/pipelines/simulate', { client: 'pg', body: { source: { client: 'maria', query: 'DELETE FROM products' }, sink: { table_name: 'stock' } } })
    assert.equal(write.status, 400, write.text)
    assert.match(write.body.message, /only a read-only query/)
    assert.equal((await maria.query('SELECT count(*) AS n FROM products'))[0]!.n, 3, 'the query was never run')
  })

  await t.test('a running run is cancelled by its owner and stops after the batch in hand', async () => {
    const holder = new pgDriver.Client({ connectionString: pg.url })
    holder.on('error', () => {})
    await holder.connect()
    try {
      await holder.query('SELECT pg_advisory_lock(777)')
      const res = await atrium.post('/pipelines', { client: 'pg', body: { source: { table_name: 'ticks', cursor_column: 'id' }, sink: { table_name: 'ticks_slow' }, batch_size: 2 } })
      const id = res.body.data.job_id
      for (let i = 0; i < 300; i++) {
        const [row] = await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)
        if (row!.n === 1) break
        await sleep(100)
      }
      const stranger = await createKey(atrium, { rights: ['gateway.read'] })
      const refused = await atrium.post(`/pipelines/runs/${id}/cancel`, { client: 'pg', key: stranger.key })
      assert.deepEqual([refused.status, refused.body.code], [404, 'job_not_found'])
      const cancelled = await atrium.post(`/pipelines/runs/${id}/cancel`, { client: 'pg' })
      assert.deepEqual([cancelled.status, cancelled.body.data.job.status], [200, 'cancelled'])
      await holder.query('SELECT pg_advisory_unlock(777)')
      for (let i = 0; i < 300; i++) {
        if ((await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM ticks_slow'))[0]!.n === 6) break
        await sleep(100)
      }
      assert.equal((await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM ticks_slow'))[0]!.n, 6, 'the batch in hand was written')
      assert.equal((await atrium.get(`/pipelines/runs/${id}`, { client: 'pg' })).body.data.job.status, 'cancelled')
    } finally {
      await holder.end()
    }
  })

  await t.test('incremental runs from MariaDB, from a table and from a query, continue after their cursors', async () => {
    const fromTable = { name: 'readings-t', source: { client: 'maria', table_name: 'readings', cursor_column: 'id' }, sink: { client: 'pg', table_name: 'readings_t' }, batch_size: 2 }
    const fromQuery = { name: 'readings-q', source: { client: 'maria', query: 'SELECT id, value * 2 AS value FROM readings', cursor_column: 'id' }, sink: { client: 'pg', table_name: 'readings_q' }, batch_size: 2 }
    for (const body of [fromTable, fromQuery]) assert.equal((await runPipeline(atrium, body)).result.rows_written, 3, body.name)
    await maria.query('INSERT INTO readings (value) VALUES (40), (50)')
    for (const body of [fromTable, fromQuery]) {
      const job = await runPipeline(atrium, body)
      assert.deepEqual([job.result.rows_read, job.result.rows_written, job.result.cursor], [2, 2, 5], body.name)
    }
    assert.deepEqual((await pg.query<any>('SELECT id, value FROM readings_t ORDER BY id')).map((x) => x.value), [10, 20, 30, 40, 50])
    assert.deepEqual((await pg.query<any>('SELECT id, value FROM readings_q ORDER BY id')).map((x) => x.value), [20, 40, 60, 80, 100])
  })

  await t.test('a database refusal rejects only the offending rows, with the database\'s reason', async () => {
    const job = await runPipeline(atrium, { source: { table_name: 'people', columns: 'id,name' }, transforms: [{ map: { name: 'trim(name)' } }], sink: { client: 'maria', table_name: 'names' } })
    // 'Brian' does not fit varchar(4); MariaDB in strict mode refuses it and its batch is retried row by row
    assert.equal(job.result.rows_rejected, 1, JSON.stringify(job.result))
    assert.equal(job.result.rejected_rows[0].row.id, 2)
    assert.equal(job.result.rows_written, 6)
    assert.equal((await maria.query('SELECT count(*) AS n FROM names'))[0]!.n, 6)
  })

  await t.test('simulate runs the same transforms and writes nothing; dry_run on POST /pipelines is the same', async () => {
    const before = (await maria.query('SELECT count(*) AS n FROM contacts'))[0]!.n
    const body = { pipeline: 'people-to-contacts', name: 'a-fresh-name' }
    for (const [path, extra] of [['/pipelines/simulate', {}], ['/pipelines', { dry_run: true }]] as const) {
      const res = await atrium.post(path, { client: 'pg', body: { ...body, ...extra } })
      assert.equal(res.status, 200, res.text)
      const d = res.body
      assert.deepEqual([d.dry_run, d.rows_fetched, d.would_insert, d.rows_inserted, d.rows_rejected, d.rows_filtered, d.truncated], [true, 7, 5, 0, 1, 1, false])
      assert.equal(d.rejected_rows[0].row.id, 2)
      assert.deepEqual(d.data[0], { id: 1, full_name: 'Ada', age: 36, label: 'ADA from london', score: 12.5 })
      assert.equal(d.data.length, 5)
      assert.ok(await assertMatchesSpec('POST', '/pipelines', 200, res.body))
    }
    assert.equal((await maria.query('SELECT count(*) AS n FROM contacts'))[0]!.n, before)
    // a simulation moves no cursor: the real run of that name still starts from the beginning
    const sim = await atrium.post('/pipelines/simulate', { client: 'pg', body })
    assert.equal(sim.body.rows_fetched, 7)
    const few = await atrium.post('/pipelines/simulate', { client: 'pg', body: { ...body, source: { limit: 3 } } })
    assert.deepEqual([few.body.rows_fetched, few.body.truncated], [3, false])
    const capped = await atrium.post('/pipelines/simulate', { client: 'pg', body: { source: { table_name: 'ticks' }, sink: { table_name: 'ticks_copy' } } })
    assert.deepEqual([capped.body.rows_fetched, capped.body.truncated, capped.body.data.length], [7, true, 7], 'pipelines.simulateMaxRows is 7 here; ticks holds 8')
  })

  await t.test('templates are listed', async () => {
    const res = await atrium.get('/pipelines/templates', { client: 'pg' })
    assert.equal(res.status, 200, res.text)
    assert.ok(await assertMatchesSpec('GET', '/pipelines/templates', 200, res.body))
    assert.deepEqual(res.body.templates, [{
      name: 'people-to-contacts', description: 'people with a score of 10 or more, as contacts', source_client: 'pg', source_table: 'people',
      sink_client: 'maria', sink_table: 'contacts', has_transform: true, incremental: true,
    }])
    const unknown = await atrium.post('/pipelines', { client: 'pg', body: { pipeline: 'nope' } })
    assert.deepEqual([unknown.status, unknown.body.code], [404, 'pipeline_template_not_found'])
  })

  await t.test('bad definitions are 400s that say what is wrong; a bad expression points at its position', async () => {
    const bad = await atrium.post('/pipelines', { client: 'pg', body: { source: { table_name: 'people' }, transforms: [{ derive: { x: 'score * (2 + ' } }], sink: { table_name: 'people' } } })
    assert.equal(bad.status, 400, bad.text)
    assert.equal(bad.body.code, 'invalid_expression')
    assert.equal(bad.body.data.position, 13)
    assert.match(bad.body.message, /transforms\[0\]\.derive\.x: the expression ends too early \(at position 13\)/)
    const fn = await atrium.post('/pipelines/simulate', { client: 'pg', body: { source: { table_name: 'people' }, transforms: [{ filter: "process.exit(1) = 'x'" }], sink: { table_name: 'people' } } })
    assert.deepEqual([fn.status, fn.body.code, fn.body.data.position], [400, 'invalid_expression', 7])
    const eval_ = await atrium.post('/pipelines/simulate', { client: 'pg', body: { source: { table_name: 'people' }, transforms: [{ map: { name: 'eval(name)' } }], sink: { table_name: 'people' } } })
    assert.deepEqual([eval_.status, eval_.body.code], [400, 'invalid_expression'])
    assert.match(eval_.body.message, /unknown function "eval"/)
    const table = await atrium.post('/pipelines', { client: 'pg', body: { source: { table_name: 'nope' }, sink: { client: 'maria', table_name: 'contacts' } } })
    assert.deepEqual([table.status, table.body.code], [400, 'unknown_table'])
    const sink = await atrium.post('/pipelines', { client: 'pg', body: { source: { table_name: 'people' }, sink: { client: 'maria', table_name: 'nope' } } })
    assert.deepEqual([sink.status, sink.body.code], [400, 'unknown_table'])
    const both = await atrium.post('/pipelines', { client: 'pg', body: { source: { table_name: 'people', query: 'SELECT 1' }, sink: { table_name: 'x' } } })
    assert.deepEqual([both.status, both.body.code], [400, 'invalid_pipeline'])
    const cursor = await atrium.post('/pipelines', { client: 'pg', body: { source: { table_name: 'people', columns: 'name,age', cursor_column: 'id' }, sink: { table_name: 'people_copy' } } })
    assert.deepEqual([cursor.status, cursor.body.code, cursor.body.message], [400, 'invalid_pipeline', 'source.columns must include the cursor_column "id"'])
    const step = await atrium.post('/pipelines', { client: 'pg', body: { source: { table_name: 'people' }, transforms: [{ explode: 'x' }], sink: { table_name: 'x' } } })
    assert.equal(step.status, 400)
    const client = await atrium.post('/pipelines', { client: 'pg', body: { source: { table_name: 'people' }, sink: { client: 'nowhere', table_name: 'x' } } })
    assert.deepEqual([client.status, client.body.code], [400, 'unknown_client'])
  })

  await t.test('rights: 401 without a key, 403 without the rights or for a client the key may not reach; runs are the owner\'s', async () => {
    const body = { source: { table_name: 'people' }, sink: { client: 'maria', table_name: 'contacts' } }
    for (const [method, path] of [['POST', '/pipelines'], ['POST', '/pipelines/simulate'], ['GET', '/pipelines/templates']] as const) {
      const res = await atrium.request(method, path, { client: 'pg', key: null, body: method === 'POST' ? body : undefined })
      assert.deepEqual([res.status, res.body.code], [401, 'missing_api_key'], path)
    }
    const none = await createKey(atrium, { rights: [] })
    for (const [method, path] of [['POST', '/pipelines'], ['POST', '/pipelines/simulate'], ['GET', '/pipelines/templates']] as const) {
      const res = await atrium.request(method, path, { client: 'pg', key: none.key, body: method === 'POST' ? body : undefined })
      assert.deepEqual([res.status, res.body.code], [403, 'missing_right'], path)
    }
    const reader = await createKey(atrium, { rights: ['gateway.read'] })
    const sim = await atrium.post('/pipelines/simulate', { client: 'pg', key: reader.key, body })
    assert.equal(sim.status, 200, 'simulating needs only the read right')
    const run = await atrium.post('/pipelines', { client: 'pg', key: reader.key, body })
    assert.deepEqual([run.status, run.body.code, run.body.data.required_right], [403, 'missing_right', 'gateway.insert'])
    const inserter = await createKey(atrium, { rights: ['gateway.read', 'gateway.insert'] })
    const upsert = await atrium.post('/pipelines', { client: 'pg', key: inserter.key, body: { ...body, sink: { ...body.sink, mode: 'upsert' } } })
    assert.deepEqual([upsert.status, upsert.body.data.required_right], [403, 'gateway.update'])
    const bound = await createKey(atrium, { client_name: 'pg', rights: ['gateway.read', 'gateway.insert'] })
    const elsewhere = await atrium.post('/pipelines', { client: 'pg', key: bound.key, body })
    assert.deepEqual([elsewhere.status, elsewhere.body.code], [403, 'client_not_allowed'])
    assert.equal((await atrium.post('/pipelines/simulate', { client: 'pg', key: bound.key, body })).body.code, 'client_not_allowed', 'a simulation reaches the sink client too')

    const own = await runPipeline(atrium, { source: { table_name: 'people' }, sink: { table_name: 'people_copy' } }, bound.key)
    assert.equal(own.result.rows_written, 7)
    assert.deepEqual(own.owner, { kind: 'key', id: bound.id })
    const other = await atrium.get(`/pipelines/runs/${own.id}`, { client: 'pg', key: inserter.key })
    assert.deepEqual([other.status, other.body.code], [404, 'job_not_found'], 'another key\'s run is not found')
    const admin = await atrium.get(`/admin/jobs/${own.id}`)
    assert.equal(admin.body.data.job.kind, 'pipeline-run')
  })
})
