import assert from 'node:assert/strict'
import { startTestAtrium } from '../../helpers/atrium.js'
import { forEachDialect } from '../../helpers/dialects.js'

forEachDialect('raw SQL routes', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_STATEMENT_TIMEOUT_MS: '1500' } })
  const sql = (query: string, path = '/gateway/query') => atrium.post(path, { client: 'shop', body: { query } })
  const isPg = db.dialect === 'postgres'

  await t.test('a read returns rows with to_json typing and the meta block', async () => {
    const res = await sql('SELECT id, total, placed_at FROM orders WHERE id <= 2 ORDER BY id')
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.deepEqual(res.body.data, [
      { id: 1, total: 21.24, placed_at: '2024-02-01T08:00:00+00:00' },
      { id: 2, total: 149.5, placed_at: '2024-02-01T09:30:00+00:00' },
    ])
    assert.deepEqual(res.body.meta, { backend: isPg ? 'postgresql' : 'mysql', returned_row_count: 2, rows_affected: 0, statement_count: 1, sql_class: 'read', truncated: false })
  })

  await t.test('/gateway/sql is the same route under its other name', async () => {
    const res = await sql('SELECT count(*) AS n FROM customers', '/gateway/sql')
    assert.deepEqual(res.body.data, [{ n: 3 }])
  })

  await t.test('several statements run in one transaction; a failure rolls all back', async () => {
    const ok = await sql("INSERT INTO sentinel VALUES (10, 'a'); INSERT INTO sentinel VALUES (11, 'b'); SELECT count(*) AS n FROM sentinel")
    assert.equal(ok.status, 200, JSON.stringify(ok.body))
    assert.equal(ok.body.meta.statement_count, 3)
    assert.equal(ok.body.meta.rows_affected, 2)
    assert.equal(ok.body.meta.sql_class, 'write')
    assert.deepEqual(ok.body.data, [{ n: 3 }])
    const failed = await sql("INSERT INTO sentinel VALUES (12, 'c'); INSERT INTO sentinel VALUES (10, 'dup')")
    assert.equal(failed.status, 409)
    assert.equal(failed.body.code, 'unique_violation')
    assert.equal((await db.query('SELECT count(*) AS n FROM sentinel WHERE id = 12'))[0].n, isPg ? '0' : 0)
  })

  await t.test('DDL is classified and the schema cache sees the new table', async () => {
    const res = await sql('CREATE TABLE notes (id int PRIMARY KEY, body text)')
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.equal(res.body.meta.sql_class, 'ddl')
    const tables = await atrium.get('/schema/tables', { client: 'shop' })
    assert.ok(tables.body.tables.some((x: { table_name: string }) => x.table_name === 'notes'))
  })

  await t.test('transaction control, empty and malformed SQL are 400s', async () => {
    const tx = await sql('BEGIN; SELECT 1; COMMIT')
    assert.equal(tx.status, 400)
    assert.match(tx.body.message, /transaction/)
    const empty = await atrium.post('/gateway/query', { client: 'shop', body: { query: '   ' } })
    assert.equal(empty.status, 400)
    const broken = await sql('SELEC * FROM orders')
    assert.equal(broken.status, 400)
    assert.equal(broken.body.code, 'sql_error')
  })

  if (isPg) {
    await t.test('statements past the configured timeout are cancelled with 504', async () => {
      const res = await sql('SELECT pg_sleep(5)')
      assert.equal(res.status, 504)
      assert.equal(res.body.code, 'statement_timeout')
    })

    await t.test('session settings changed by SQL do not leak into later requests', async () => {
      await sql("SET search_path TO pg_catalog; SELECT set_config('statement_timeout', '1', false)")
      for (let i = 0; i < 12; i++) {
        const res = await sql('SELECT count(*) AS n, pg_sleep(0.01) IS NULL AS slept FROM orders')
        assert.equal(res.status, 200, JSON.stringify(res.body))
        assert.equal(res.body.data[0].n, 4)
      }
    })

    await t.test('statements kept prepared for speed still see columns added later', async () => {
      const fetchNotes = () => atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'notes', conditions: [{ eq_column: 'id', eq_value: '1' }] }, headers: { 'cache-control': 'no-cache' } })
      const rawNotes = () => sql('SELECT * FROM notes WHERE id = 1')
      await sql("INSERT INTO notes VALUES (1, 'first')")
      for (let i = 0; i < 5; i++) {
        assert.deepEqual((await fetchNotes()).body.data, [{ id: 1, body: 'first' }])
        assert.deepEqual((await rawNotes()).body.data, [{ id: 1, body: 'first' }])
      }
      await sql("ALTER TABLE notes ADD COLUMN mood text DEFAULT 'calm'")
      assert.deepEqual((await fetchNotes()).body.data, [{ id: 1, body: 'first', mood: 'calm' }])
      const raw = await rawNotes()
      assert.equal(raw.status, 200, JSON.stringify(raw.body))
      assert.deepEqual(raw.body.data, [{ id: 1, body: 'first', mood: 'calm' }])
    })

    await t.test('comments, semicolons in literals and dollar quotes survive; results come back per statement', async () => {
      const res = await sql(`SELECT 'a;b' AS x -- trailing comment
        ; /* a block; comment */ SELECT $q$it's; quoted$q$ AS y, 2 AS z -- last comment`)
      assert.equal(res.status, 200, JSON.stringify(res.body))
      assert.equal(res.body.meta.statement_count, 2)
      assert.deepEqual(res.body.data, [{ y: "it's; quoted", z: 2 }])
      const fn = await sql(`CREATE FUNCTION twice(n int) RETURNS int LANGUAGE sql AS $$ SELECT n * 2; $$; SELECT twice(21) AS v`)
      assert.equal(fn.status, 200, JSON.stringify(fn.body))
      assert.deepEqual(fn.body.data, [{ v: 42 }])
    })

    await t.test('a failing statement stops the rest and the connection serves the next request', async () => {
      for (let i = 0; i < 12; i++) {
        const failed = await sql("INSERT INTO sentinel VALUES (20, 'x'); SELECT 1 / 0; INSERT INTO sentinel VALUES (21, 'y')")
        assert.equal(failed.status, 400, JSON.stringify(failed.body))
      }
      assert.equal((await db.query('SELECT count(*) AS n FROM sentinel WHERE id IN (20, 21)'))[0].n, '0')
      assert.equal((await sql('SELECT 1 AS one')).body.data[0].one, 1)
    })

    await t.test('a data-modifying CTE is a write, not a read', async () => {
      const res = await sql('WITH gone AS (DELETE FROM sentinel WHERE id = 11 RETURNING id) SELECT * FROM gone')
      assert.equal(res.body.meta.sql_class, 'write')
      assert.deepEqual(res.body.data, [{ id: 11 }])
    })
  }
})

forEachDialect('POST /query/sql names the client in the body', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const res = await atrium.post('/query/sql', { body: { query: 'SELECT count(*) AS n FROM orders', driver: 'postgresql', db_name: 'shop' } })
  assert.equal(res.status, 200, res.text)
  assert.deepEqual(res.body.data, [{ n: 4 }])
  const unknown = await atrium.post('/query/sql', { body: { query: 'SELECT 1', driver: 'athena', db_name: 'nope' } })
  assert.equal(unknown.body.code, 'unknown_client')
  const badDriver = await atrium.post('/query/sql', { body: { query: 'SELECT 1', driver: 'oracle', db_name: 'shop' } })
  assert.equal(badDriver.status, 400)
  assert.equal((await atrium.post('/query/sql', { key: null, body: { query: 'SELECT 1', driver: 'athena', db_name: 'shop' } })).status, 401)
})
