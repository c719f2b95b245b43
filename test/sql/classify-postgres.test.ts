// The PostgreSQL classifier on its own: statement kinds, function families, CTE scoping and exposure checks,
// with no database (so no volatility lookups: those are covered by test/security/postgres-classification).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { analysePostgres, classifyPostgres } from '../../src/sql/classify-postgres.js'
import { functionFamilyOf } from '../../src/sql/pg-function-families.js'

const classOf = async (sql: string) => (await classifyPostgres(sql)).class

test('statement kinds get the class they deserve', async () => {
  const cases: Array<[string, string]> = [
    ['SELECT 1', 'read'],
    ['VALUES (1), (2)', 'read'],
    ['TABLE orders', 'read'],
    ['SHOW search_path', 'read'],
    ['EXPLAIN SELECT * FROM orders', 'read'],
    ['EXPLAIN DELETE FROM orders', 'read'],
    ['EXPLAIN ANALYZE DELETE FROM orders', 'write'],
    ['EXPLAIN (ANALYZE, BUFFERS) UPDATE orders SET note = 1', 'write'],
    ['EXPLAIN ANALYZE CREATE TABLE x AS SELECT 1', 'ddl'],
    ['INSERT INTO orders DEFAULT VALUES', 'write'],
    ["MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", 'write'],
    ['WITH d AS (DELETE FROM orders RETURNING id) SELECT * FROM d', 'write'],
    ['SELECT * FROM orders FOR UPDATE', 'write'],
    ['SELECT * FROM (SELECT * FROM orders FOR SHARE) s', 'write'],
    ['CALL do_things()', 'write'],
    ['COPY orders FROM STDIN', 'write'],
    ["COPY orders TO '/tmp/x'", 'ddl'],
    ["COPY orders FROM PROGRAM 'cat /etc/passwd'", 'ddl'],
    ["COPY (SELECT 1) TO PROGRAM 'sh'", 'ddl'],
    ['SELECT * INTO copy FROM orders', 'ddl'],
    ["DO $$ BEGIN END $$", 'ddl'],
    ['PREPARE p AS SELECT 1', 'ddl'],
    ['EXECUTE p', 'ddl'],
    ['DEALLOCATE ALL', 'ddl'],
    ['LISTEN c', 'ddl'],
    ['UNLISTEN *', 'ddl'],
    ["NOTIFY c, 'x'", 'ddl'],
    ['LOCK TABLE orders', 'ddl'],
    ['SET statement_timeout = 0', 'ddl'],
    ['SET LOCAL statement_timeout = 0', 'ddl'],
    ['RESET ALL', 'ddl'],
    ['SET ROLE postgres', 'ddl'],
    ['SET SESSION AUTHORIZATION postgres', 'ddl'],
    ['DISCARD ALL', 'ddl'],
    ["LOAD 'plpgsql'", 'ddl'],
    ['CHECKPOINT', 'ddl'],
    ['VACUUM orders', 'ddl'],
    ['REFRESH MATERIALIZED VIEW mv', 'ddl'],
    ['CREATE TABLE t (id int)', 'ddl'],
    ['SELECT 1; DELETE FROM orders', 'write'],
  ]
  for (const [sql, expected] of cases) assert.equal(await classOf(sql), expected, sql)
})

test('families outside the transaction are ddl whatever the spelling or nesting', async () => {
  for (const sql of [
    "SELECT pg_read_file('PG_VERSION')",
    "SELECT PG_CATALOG.PG_READ_FILE('PG_VERSION')",
    `SELECT "pg_read_file"('PG_VERSION')`,
    "SELECT * FROM orders WHERE note = (SELECT dblink_exec('x', 'y'))",
    "WITH c AS (SELECT lo_import('/etc/passwd')) SELECT * FROM c",
    "INSERT INTO t VALUES (set_config('statement_timeout', '0', false))",
    'SELECT coalesce(NULL, pg_terminate_backend(1))',
    "SELECT * FROM dblink('x', 'y') AS r(v text)",
    "EXPLAIN ANALYZE SELECT pg_notify('c', 'x')",
    'CALL pg_advisory_lock(1)',
    "SELECT query_to_xml('DELETE FROM orders', true, false, '')",
    'SELECT txid_current()',
  ]) {
    const res = await classifyPostgres(sql)
    assert.equal(res.class, 'ddl', sql)
    assert.match(res.reason ?? '', /^call /, sql)
  }
  assert.equal(functionFamilyOf('PG_Create_Physical_Replication_Slot')?.family, 'replication')
  assert.equal(functionFamilyOf('lowrite')?.family, 'large objects')
  assert.equal(functionFamilyOf('now'), undefined)
  assert.equal(functionFamilyOf('pg_sleep'), undefined)
})

test('relations: CTE names are scoped as PostgreSQL scopes them, DML targets are always tables', async () => {
  const names = async (sql: string) => (await analysePostgres(sql)).flatMap((s) => s.relations.map((r) => (r.schema ? `${r.schema}.${r.name}` : r.name)))
  assert.deepEqual(await names('WITH pg_authid AS (SELECT 1) SELECT * FROM pg_authid'), [])
  assert.deepEqual(await names('SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) s, x'), ['x'])
  assert.deepEqual(await names('WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a'), ['b'])
  assert.deepEqual(await names('WITH RECURSIVE a AS (SELECT * FROM a) SELECT * FROM a'), [])
  assert.deepEqual(await names('WITH pg_class AS (SELECT 1) SELECT * FROM pg_catalog.pg_class'), ['pg_catalog.pg_class'])
  assert.deepEqual(await names('WITH pg_authid AS (SELECT 1) DELETE FROM pg_authid'), ['pg_authid'])
  assert.deepEqual(await names('WITH s AS (SELECT 1) INSERT INTO s SELECT * FROM s'), ['s'])
  assert.deepEqual(await names("COPY hidden.t TO STDOUT; LOCK TABLE public.o; CREATE TABLE n AS SELECT * FROM information_schema.tables"),
    ['hidden.t', 'public.o', 'information_schema.tables', 'n'])
})

test('exposure: relations and qualified functions outside the exposed schemas, and search_path changes, are refused', async () => {
  const refused = async (sql: string) => {
    await assert.rejects(classifyPostgres(sql, { exposedSchemas: ['public'] }), (err: any) => err.code === 'schema_not_exposed', sql)
  }
  for (const sql of [
    'SELECT * FROM pg_catalog.pg_authid', 'SELECT * FROM information_schema.tables', 'SELECT * FROM hidden.t',
    'SELECT hidden.f()', 'SET search_path TO hidden', "SELECT set_config('search_path', 'hidden', true)",
    "SELECT set_config(current_user, 'x', true)", "COPY hidden.t FROM STDIN",
  ]) await refused(sql)
  // qualified names in exposed schemas and pg_catalog functions pass without a catalogue
  const ok = await classifyPostgres('SELECT pg_catalog.upper(name) FROM public.customers', { exposedSchemas: ['public'] })
  assert.equal(ok.class, 'read')
  assert.equal((await classifyPostgres('SELECT * FROM hidden.t', { exposedSchemas: null })).class, 'read')
})
