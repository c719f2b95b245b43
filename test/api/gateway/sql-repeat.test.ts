// Raw SQL sent again and again on PostgreSQL: the parse of a text is kept, but what the source says about it
// (new and replaced functions, new tables) and who may run it are decided afresh every time; and whatever a
// script leaves in its session is gone before the connection serves the next request, whether it succeeded or not.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { createPgDatabase } from '../../helpers/databases.js'

test('raw SQL texts sent again on PostgreSQL', async (t) => {
  const db = await createPgDatabase(t, 'atrium_sqlrepeat')
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const reader = await createKey(atrium, { rights: ['gateway.read', 'sql.read'] })
  const writer = await createKey(atrium, { rights: ['gateway.read', 'sql.read', 'sql.write'] })
  const sql = (query: string, key?: string) => atrium.post('/gateway/query', { client: 'shop', key, body: { query } })
  const admin = async (query: string) => {
    const res = await sql(query)
    assert.equal(res.status, 200, `${query}: ${res.text}`)
    return res
  }

  await t.test('a function created after a text was first classified decides its class', async () => {
    const text = 'SELECT stamp_visit() AS v'
    for (let i = 0; i < 3; i++) {
      const missing = await sql(text, reader.key)
      assert.equal(missing.status, 400, missing.text)
      assert.match(missing.body.message, /stamp_visit/)
    }
    // created outside Atrium: no schema refresh tells anyone
    await db.query("CREATE FUNCTION stamp_visit() RETURNS int LANGUAGE sql VOLATILE AS $$ INSERT INTO sentinel VALUES (900, 'visit') RETURNING id $$")
    const refused = await sql(text, reader.key)
    assert.equal(refused.status, 403, refused.text)
    assert.equal((await db.query('SELECT count(*)::int AS n FROM sentinel WHERE id = 900'))[0].n, 0)
    const written = await sql(text, writer.key)
    assert.equal(written.status, 200, written.text)
    assert.equal(written.body.meta.sql_class, 'write')
  })

  await t.test('a function replaced through Atrium is seen by the very next request with the same text', async () => {
    await admin('CREATE FUNCTION shout(t text) RETURNS text LANGUAGE sql STABLE AS $$ SELECT upper(t) $$')
    const text = "SELECT shout('hi') AS v"
    for (let i = 0; i < 3; i++) {
      const res = await sql(text, reader.key)
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(res.body.data, [{ v: 'HI' }])
      assert.equal(res.body.meta.sql_class, 'read')
    }
    await admin("CREATE OR REPLACE FUNCTION shout(t text) RETURNS text LANGUAGE sql VOLATILE AS $$ INSERT INTO sentinel VALUES (901, 'shout') RETURNING upper(t) $$")
    const refused = await sql(text, reader.key)
    assert.equal(refused.status, 403, refused.text)
    assert.equal((await db.query('SELECT count(*)::int AS n FROM sentinel WHERE id = 901'))[0].n, 0)
  })

  await t.test('a table created after a text failed is found by the same text', async () => {
    const text = 'SELECT * FROM visits ORDER BY id'
    const missing = await sql(text, reader.key)
    assert.equal(missing.status, 400, missing.text)
    assert.match(missing.body.message, /visits/)
    await db.query("CREATE TABLE visits (id int PRIMARY KEY, who text); INSERT INTO visits VALUES (1, 'ann')")
    const found = await sql(text, reader.key)
    assert.equal(found.status, 200, found.text)
    assert.deepEqual(found.body.data, [{ id: 1, who: 'ann' }])
  })

  await t.test('a write text run before by a writer is never served to a reader as a read', async () => {
    const text = "INSERT INTO sentinel VALUES (902, 'w')"
    assert.equal((await sql(text, writer.key)).status, 200)
    await db.query('DELETE FROM sentinel WHERE id = 902')
    for (let i = 0; i < 3; i++) {
      const res = await sql(text, reader.key)
      assert.equal(res.status, 403, res.text)
    }
    const cte = "WITH x AS (DELETE FROM sentinel RETURNING id) SELECT count(*) FROM x"
    assert.equal((await sql(cte, writer.key)).body.meta.sql_class, 'write')
    await db.query("INSERT INTO sentinel VALUES (903, 'back')")
    assert.equal((await sql(cte, reader.key)).status, 403)
    assert.equal((await db.query('SELECT count(*)::int AS n FROM sentinel WHERE id = 903'))[0].n, 1)
  })

  // every connection of the raw pool is reused by the probes below (more probes than connections)
  const probe = "SELECT current_user = session_user AS own_role, current_setting('search_path') AS path, (SELECT count(*)::int FROM pg_prepared_statements) AS prepared, (SELECT count(*)::int FROM pg_cursors) AS cursors, (SELECT count(*)::int FROM pg_listening_channels()) AS listening, to_regclass('pg_temp.left_behind') IS NULL AS no_temp"
  const clean = { own_role: true, path: '"$user", public', prepared: 0, cursors: 0, listening: 0, no_temp: true }
  const advisoryLocks = async () => (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid IN (515151, 616161)"))[0].n

  await t.test('what a successful script leaves in its session is gone before the next request', async () => {
    await db.query('DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \'atrium_sqlrepeat_role\') THEN CREATE ROLE atrium_sqlrepeat_role; END IF; END $$')
    t.after(() => db.query('DROP ROLE IF EXISTS atrium_sqlrepeat_role').then(() => {}, () => {}))
    for (let i = 0; i < 4; i++) {
      await admin([
        'SELECT pg_advisory_lock(515151)',
        'CREATE TEMP TABLE left_behind (x int)',
        'PREPARE left_plan AS SELECT 1',
        'DECLARE left_cursor CURSOR WITH HOLD FOR SELECT 1',
        'LISTEN left_channel',
        "SELECT set_config('search_path', 'pg_catalog', false)",
        'SET ROLE atrium_sqlrepeat_role',
      ].join(';\n'))
      assert.equal(await advisoryLocks(), 0)
    }
    for (let i = 0; i < 12; i++) {
      const res = await sql(probe)
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(res.body.data, [clean])
    }
  })

  await t.test('what a failed script left in its session is gone too', async () => {
    for (let i = 0; i < 4; i++) {
      // the advisory lock is a session lock: the rollback keeps it
      const res = await sql("SELECT pg_advisory_lock(616161);\nSELECT set_config('search_path', 'pg_catalog', false);\nSELECT 1 / 0")
      assert.equal(res.status, 400, res.text)
      assert.equal(await advisoryLocks(), 0)
    }
    for (let i = 0; i < 12; i++) assert.deepEqual((await sql(probe)).body.data, [clean])
  })
})
