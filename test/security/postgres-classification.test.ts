// Raw SQL on PostgreSQL is classified by what will run: a key holding only gateway.read + sql.read cannot reach
// outside the transaction, write through functions, or read relations /rest/v1 does not expose. The source
// connects as the superuser, so the classifier (and the read-only transaction behind it) is the only wall.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { test } from 'node:test'
import pg from 'pg'
import { startTestAtrium } from '../helpers/atrium.js'
import { createKey } from '../helpers/auth-grid.js'
import { createPgDatabase } from '../helpers/databases.js'

test('PostgreSQL raw SQL classification against a read key', async (t) => {
  const db = await createPgDatabase(t, 'atrium_pgclass')
  await db.load('shop')
  const other = await createPgDatabase(t, 'atrium_pgclass_other')
  await other.query("CREATE TABLE secret (v text); INSERT INTO secret VALUES ('other database')")
  await db.query("CREATE SCHEMA hidden; CREATE TABLE hidden.secrets (v text); INSERT INTO hidden.secrets VALUES ('hidden row')")
  await db.query('CREATE FUNCTION hidden.peek() RETURNS text LANGUAGE sql STABLE AS $$ SELECT v FROM hidden.secrets $$')

  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const reader = await createKey(atrium, { rights: ['gateway.read', 'sql.read'] })
  const writer = await createKey(atrium, { rights: ['gateway.read', 'sql.read', 'sql.write'] })
  const sql = (query: string, key: string | undefined = reader.key) => atrium.post('/gateway/query', { client: 'shop', key, body: { query } })
  const admin = async (query: string) => {
    const res = await atrium.post('/gateway/query', { client: 'shop', body: { query } })
    assert.equal(res.status, 200, `${query}: ${res.text}`)
    return res
  }
  // the extension really exists, installed by the admin key through Atrium
  await admin('CREATE EXTENSION dblink')

  // a second backend that must survive, and a listener that must hear nothing
  const bystander = new pg.Client({ connectionString: db.url })
  await bystander.connect()
  const listener = new pg.Client({ connectionString: db.url })
  await listener.connect()
  // the database's own teardown terminates them if a subtest failed first: never wait on them there
  for (const c of [bystander, listener]) c.on('error', () => {})
  t.after(() => { void bystander.end().catch(() => {}); void listener.end().catch(() => {}) })
  const heard: string[] = []
  listener.on('notification', (n) => heard.push(`${n.channel}:${n.payload}`))
  await listener.query('LISTEN atrium_probe')
  const bystanderPid = (await bystander.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number

  const slot = `atrium_probe_${Date.now().toString(36)}`
  const exportPath = `/tmp/${slot}.out`
  const conn = `dbname=${other.name} user=postgres host=127.0.0.1`
  const snapshot = async () => ({
    sentinel: await db.query('SELECT * FROM sentinel ORDER BY id'),
    otherDb: await other.query('SELECT * FROM secret ORDER BY v'),
    largeObjects: (await db.query<{ n: string }>('SELECT count(*) AS n FROM pg_largeobject_metadata'))[0].n,
    slots: (await db.query<{ n: string }>('SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name LIKE $1', [`${slot}%`]))[0].n,
    advisory: (await db.query<{ n: string }>("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 424242"))[0].n,
    confLoaded: (await db.query<{ t: string }>('SELECT pg_conf_load_time()::text AS t'))[0].t,
    sequence: (await db.query<{ v: string }>('SELECT last_value::text AS v FROM products_id_seq'))[0].v,
  })
  const before = await snapshot()

  await t.test('families that reach outside the transaction need sql.ddl, however they are written or nested', async () => {
    const calls = [
      `dblink_exec('${conn}', 'INSERT INTO secret VALUES (''pwned'')')`,
      `public.dblink_exec('${conn}', 'DELETE FROM secret')`,
      `"dblink_exec"('${conn}', 'DELETE FROM secret')`,
      `DBLINK_CONNECT('probe', '${conn}')`,
      `(SELECT v FROM dblink('${conn}', 'SELECT v FROM secret') AS r(v text) LIMIT 1)`,
      "lo_from_bytea(0, 'x'::bytea)",
      `lo_export(lo_from_bytea(0, 'x'::bytea), '${exportPath}')`,
      "pg_catalog.lo_import('/etc/hostname')",
      "pg_read_file('PG_VERSION')",
      "PG_CATALOG.\"pg_read_file\"('PG_VERSION')",
      "pg_read_binary_file('PG_VERSION')",
      "(SELECT count(*) FROM pg_ls_dir('.'))",
      "pg_stat_file('PG_VERSION')",
      `pg_terminate_backend(${bystanderPid})`,
      `Pg_Cancel_Backend(${bystanderPid})`,
      "pg_notify('atrium_probe', 'from a read key')",
      "set_config('statement_timeout', '0', false)",
      `pg_create_physical_replication_slot('${slot}')`,
      `pg_create_logical_replication_slot('${slot}_l', 'test_decoding')`,
      'pg_reload_conf()',
      'pg_rotate_logfile()',
      'pg_advisory_lock(424242)',
      'pg_try_advisory_xact_lock(424242)',
      "query_to_xml('SELECT * FROM hidden.secrets', true, false, '')",
      "table_to_xml('pg_authid', true, false, '')",
      'pg_export_snapshot()',
      'txid_current()',
    ]
    const wrap = (e: string) => [
      `SELECT ${e}`,
      `SELECT * FROM (SELECT ${e} AS v) s`,
      `WITH c AS (SELECT ${e} AS v) SELECT * FROM c`,
      `WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 2) SELECT ${e} FROM c`,
      `EXPLAIN ANALYZE SELECT ${e}`,
      `VALUES ((${e})::text)`,
      `SELECT coalesce(NULL, length((${e})::text))`,
      `SELECT id FROM orders WHERE (${e})::text IS NOT NULL`,
      `SELECT 1; SELECT ${e}`,
    ]
    for (const call of calls) {
      for (const query of wrap(call)) {
        const res = await sql(query)
        assert.equal(res.status, 403, `${query}: ${res.text}`)
        assert.equal(res.body.code, 'missing_right', query)
        assert.equal(res.body.data.required_right, 'sql.ddl', query)
      }
    }
    // the message says what was called and why it is more than a read
    const res = await sql("SELECT pg_read_file('PG_VERSION')")
    assert.match(res.body.message, /sql\.ddl.*pg_read_file\(\).*files on the database server/)
    // a write key is no closer: these are DDL/admin whatever their volatility
    const asWriter = await sql(`SELECT dblink_exec('${conn}', 'DELETE FROM secret')`, writer.key)
    assert.equal(asWriter.status, 403)
    assert.equal(asWriter.body.data.required_right, 'sql.ddl')
  })

  await t.test('statements that act outside the transaction by their kind need sql.ddl', async () => {
    for (const query of [
      `COPY sentinel TO '${exportPath}'`, "COPY sentinel TO PROGRAM 'true'", "COPY sentinel FROM PROGRAM 'echo 9,x'",
      "NOTIFY atrium_probe, 'kind'", 'LISTEN atrium_probe', 'LOCK TABLE sentinel IN ACCESS EXCLUSIVE MODE',
      "DO $$ BEGIN PERFORM pg_notify('atrium_probe', 'do'); END $$", 'PREPARE p AS SELECT 1', 'EXECUTE p',
      'DISCARD ALL', "LOAD 'auto_explain'", 'CHECKPOINT', 'VACUUM sentinel', 'SET ROLE postgres', 'SET statement_timeout = 0',
      'SELECT * INTO stolen FROM sentinel', 'CREATE TABLE t AS SELECT 1',
    ]) {
      const res = await sql(query)
      assert.equal(res.status, 403, `${query}: ${res.text}`)
      assert.equal(res.body.code, 'missing_right', query)
      assert.equal(res.body.data.required_right, 'sql.ddl', query)
    }
  })

  await t.test('volatile functions and row-changing shapes need sql.write', async () => {
    await admin("CREATE FUNCTION public.bump() RETURNS int LANGUAGE sql VOLATILE AS $$ UPDATE sentinel SET label = 'bumped' RETURNING 1 $$")
    for (const query of [
      "SELECT nextval('products_id_seq')", "SELECT setval('products_id_seq', 99)", 'SELECT bump()', 'SELECT * FROM (SELECT public.bump()) s',
      'SELECT pg_sleep(0)', 'SELECT setseed(0.5)', 'CALL nonexistent_procedure()',
      'SELECT * FROM (SELECT * FROM sentinel FOR UPDATE) s', 'WITH gone AS (DELETE FROM sentinel RETURNING *) SELECT count(*) FROM gone',
      'EXPLAIN ANALYZE DELETE FROM sentinel', "INSERT INTO sentinel VALUES (77, 'x')",
    ]) {
      const res = await sql(query)
      assert.equal(res.status, 403, `${query}: ${res.text}`)
      assert.equal(res.body.data.required_right, 'sql.write', query)
    }
    const written = await sql("SELECT nextval('products_id_seq') AS n", writer.key)
    assert.equal(written.status, 200, written.text)
    assert.equal(written.body.meta.sql_class, 'write')
    await admin("SELECT setval('products_id_seq', " + before.sequence + ')')
  })

  await t.test('ordinary reads still run for the read key', async () => {
    for (const query of [
      'SELECT count(*) AS n, sum(total) AS s, max(placed_at) AS m FROM orders',
      'SELECT now() AS t, random() AS r, gen_random_uuid() AS u, clock_timestamp() AS c, pg_catalog.upper(name) AS up FROM customers',
      'SELECT c.name, count(o.id) AS n FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY c.name',
      'WITH big AS (SELECT * FROM orders WHERE total > 20) SELECT count(*) AS n FROM big',
      'SELECT id, rank() OVER (ORDER BY total DESC) AS r, sum(total) OVER () AS all_total FROM orders',
      'SELECT g FROM generate_series(1, 3) AS g',
      'SELECT extract(year FROM placed_at) AS y, coalesce(note, \'-\') AS note FROM orders ORDER BY id LIMIT 1',
      'WITH pg_authid AS (SELECT 1 AS x) SELECT * FROM pg_authid',
      'EXPLAIN SELECT * FROM orders',
      'SHOW search_path',
    ]) {
      const res = await sql(query)
      assert.equal(res.status, 200, `${query}: ${res.text}`)
      assert.equal(res.body.meta.sql_class, 'read', query)
    }
    assert.deepEqual((await sql('WITH pg_authid AS (SELECT 1 AS x) SELECT * FROM pg_authid')).body.data, [{ x: 1 }])
  })

  await t.test('relations and functions outside the exposed schemas are refused to keys, allowed to the admin key', async () => {
    const outside = [
      'SELECT * FROM pg_authid', 'SELECT rolname FROM "pg_authid"', 'TABLE pg_authid', 'SELECT * FROM pg_catalog.pg_class',
      'SELECT * FROM PG_CATALOG.PG_CLASS', 'SELECT * FROM information_schema.tables', 'SELECT * FROM hidden.secrets',
      'SELECT (SELECT count(*) FROM pg_stat_activity) AS n', 'SELECT * FROM orders WHERE id IN (SELECT oid::int FROM pg_proc)',
      'SELECT * FROM (WITH pg_authid AS (SELECT 1 AS x) SELECT * FROM pg_authid) a, pg_authid',
      'WITH a AS (SELECT * FROM pg_class), pg_class AS (SELECT 1) SELECT * FROM a',
      'WITH c AS (SELECT * FROM pg_authid) SELECT * FROM c', 'EXPLAIN SELECT * FROM hidden.secrets',
      'SELECT hidden.peek()', 'SELECT information_schema._pg_truetypid(a, t) FROM pg_attribute a, pg_type t LIMIT 1',
      'SET search_path TO hidden, public', "SELECT set_config('search_path', 'hidden', true)",
    ]
    for (const query of outside) {
      const res = await sql(query)
      assert.equal(res.status, 403, `${query}: ${res.text}`)
      assert.equal(res.body.code, 'schema_not_exposed', `${query}: ${res.text}`)
      assert.match(res.body.message, /exposed schemas \(public\)/, query)
    }
    const named = await sql('SELECT * FROM pg_authid')
    assert.match(named.body.message, /"pg_catalog"\."pg_authid"/)
    // the write key is held to the same schemas
    assert.equal((await sql("INSERT INTO hidden.secrets VALUES ('x')", writer.key)).body.code, 'schema_not_exposed')
    for (const query of ['SELECT count(*) AS n FROM pg_authid', 'SELECT count(*) AS n FROM information_schema.tables', 'SELECT v FROM hidden.secrets', 'SELECT hidden.peek() AS v']) {
      const res = await atrium.post('/gateway/query', { client: 'shop', body: { query } })
      assert.equal(res.status, 200, `${query}: ${res.text}`)
    }
  })

  await t.test('a function whose volatility changes through Atrium is re-classified at once', async () => {
    await admin('CREATE FUNCTION public.flip() RETURNS int LANGUAGE sql STABLE AS $$ SELECT 1 $$')
    const calm = await sql('SELECT flip() AS v')
    assert.equal(calm.status, 200, calm.text)
    assert.equal(calm.body.meta.sql_class, 'read')
    await admin('CREATE OR REPLACE FUNCTION public.flip() RETURNS int LANGUAGE sql VOLATILE AS $$ SELECT 2 $$')
    const volatile = await sql('SELECT flip() AS v')
    assert.equal(volatile.status, 403, volatile.text)
    assert.equal(volatile.body.data.required_right, 'sql.write')
  })

  await t.test('nothing changed, leaked or stopped', async () => {
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.deepEqual(heard, [], 'the listener heard no notification')
    assert.equal((await bystander.query('SELECT 1 AS one')).rows[0].one, 1, 'the other backend is alive')
    assert.equal(existsSync(exportPath), false, 'no server file was written')
    assert.deepEqual(await snapshot(), before)
    await Promise.all([bystander.end(), listener.end()])
  })
})
