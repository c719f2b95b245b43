// /admin/clients/{client_name}/query-optimizations*: the slowest query shapes of a client (here from the request
// log: the test servers keep no statement statistics), index suggestions confirmed by EXPLAIN, and applying one
// through the management layer (audited; CONCURRENTLY on PostgreSQL), on PostgreSQL and MariaDB.
import assert from 'node:assert/strict'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { forEachDialect } from '../../helpers/dialects.js'

const ALL_RIGHTS = ['gateway.read', 'gateway.insert', 'gateway.update', 'gateway.delete', 'schema.read', 'management.read', 'management.indexes.write']

forEachDialect('query optimizations', async (t, db) => {
  const pg = db.dialect === 'postgres'
  await db.query(pg
    ? 'CREATE TABLE events (id serial PRIMARY KEY, account_id integer NOT NULL, kind text NOT NULL, note text)'
    : 'CREATE TABLE events (id integer AUTO_INCREMENT PRIMARY KEY, account_id integer NOT NULL, kind varchar(40) NOT NULL, note text)')
  const rows = Array.from({ length: 300 }, (_, i) => `(${i % 30}, '${['signup', 'login', 'logout'][i % 3]}', 'n${i}')`)
  await db.query(`INSERT INTO events (account_id, kind, note) VALUES ${rows.join(', ')}`)
  if (pg) await db.query('ANALYZE events')
  const atrium = await startTestAtrium(t, { sources: { app: db.url }, settings: { 'gateway.requestLogFlushMs': 600_000 } })
  const base = '/admin/clients/app/query-optimizations'

  await t.test('admin only: 401 without a key, 403 for an API key with every data right', async () => {
    const { key } = await createKey(atrium, { rights: ALL_RIGHTS })
    for (const [method, path] of [['GET', base], ['GET', `${base}/qo_0000000000000000`], ['POST', `${base}/qo_0000000000000000/apply`]]) {
      const none = await atrium.request(method, path, { key: null })
      assert.equal(none.status, 401, `${method} ${path}: ${none.text}`)
      const refused = await atrium.request(method, path, { key })
      assert.equal(refused.status, 403, `${method} ${path}: ${refused.text}`)
    }
  })

  await t.test('a client with no logged reads has no shapes and no suggestions; an unknown client is a 400', async () => {
    const res = await atrium.get(base)
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.data.shapes_from, 'request_log')
    assert.deepEqual(res.body.data.suggestions, [])
    const unknown = await atrium.get('/admin/clients/nowhere/query-optimizations')
    assert.equal(unknown.status, 400, unknown.text)
    assert.equal(unknown.body.code, 'unknown_client')
  })

  let id = ''
  await t.test('reads filtered on an unindexed column give a suggestion that EXPLAIN confirms; reads by key give none', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await atrium.post('/gateway/fetch', { client: 'app', body: { table_name: 'events', columns: 'id', conditions: [{ eq_column: 'account_id', eq_value: i }, { eq_column: 'kind', eq_value: 'login' }] } })
      assert.equal(res.status, 200, res.text)
    }
    assert.equal((await atrium.get('/rest/v1/events?select=id&account_id=eq.4', { client: 'app' })).status, 200)
    assert.equal((await atrium.get('/rest/v1/events?select=id&id=eq.4', { client: 'app' })).status, 200)
    const res = await atrium.get(base)
    assert.equal(res.status, 200, res.text)
    const { slow_queries: shapes, suggestions } = res.body.data
    assert.ok(shapes.some((s: { table: string; columns: string[]; calls: number }) => s.table === 'events' && s.columns.join() === 'account_id,kind' && s.calls === 3), res.text)
    assert.ok(shapes.some((s: { columns: string[] }) => s.columns.join() === 'id'), 'the read by key is a shape too')
    const forPair = suggestions.find((s: { columns: string[] }) => s.columns.join() === 'account_id,kind')
    assert.ok(forPair, res.text)
    assert.equal(forPair.table_name, 'events')
    assert.equal(forPair.explain.full_scan, true)
    assert.equal(forPair.explain.plan, pg ? 'Seq Scan' : 'ALL (full table scan)')
    assert.match(forPair.statement, pg ? /^CREATE INDEX CONCURRENTLY "events_account_id_kind_idx" ON "public"."events" USING btree \("account_id", "kind"\)$/ : /^CREATE INDEX `events_account_id_kind_idx` ON `events` \(`account_id`, `kind`\) USING BTREE$/)
    assert.ok(!suggestions.some((s: { columns: string[] }) => s.columns[0] === 'id'), 'the primary key serves reads by id')
    id = forPair.id
    assert.match(id, /^qo_[0-9a-f]{16}$/)
    const again = await atrium.get(base)
    assert.ok(again.body.data.suggestions.some((s: { id: string }) => s.id === id), 'the id is stable')
  })

  await t.test('GET one suggestion, or a 404 that says where to look', async () => {
    const one = await atrium.get(`${base}/${id}`)
    assert.equal(one.status, 200, one.text)
    assert.equal(one.body.data.suggestion.id, id)
    const missing = await atrium.get(`${base}/qo_0000000000000000`)
    assert.equal(missing.status, 404)
    assert.equal(missing.body.code, 'query_optimization_not_found')
    assert.match(missing.body.hint, /GET \/admin\/clients\/app\/query-optimizations/)
  })

  await t.test('apply creates the index through the management layer, audited; the suggestion is then gone', async () => {
    assert.equal((await atrium.post('/admin/clients/app/audit-log')).status, 200)
    const res = await atrium.post(`${base}/${id}/apply`)
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.data.index.index_name, 'events_account_id_kind_idx')
    assert.ok(Number.isInteger(res.body.data.index.audit_log_id))
    // on PostgreSQL, a concurrent build that failed would leave an invalid index
    const indexes = pg
      ? await db.query<{ valid: boolean }>("SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'events_account_id_kind_idx'")
      : await db.query<{ valid: boolean }>("SELECT DISTINCT true AS valid FROM information_schema.statistics WHERE table_schema = DATABASE() AND index_name = 'events_account_id_kind_idx'")
    assert.equal(indexes.length, 1)
    assert.ok(indexes[0].valid)
    const audit = await db.query<{ operation: string; statement: string }>('SELECT operation, statement FROM database_audit_log ORDER BY id DESC LIMIT 1')
    assert.equal(audit[0].operation, 'management.indexes.create')
    if (pg) assert.match(audit[0].statement, /CREATE INDEX CONCURRENTLY/)
    const after = await atrium.get(base)
    assert.ok(!after.body.data.suggestions.some((s: { id: string }) => s.id === id))
    const twice = await atrium.post(`${base}/${id}/apply`)
    assert.equal(twice.status, 404, twice.text)
    assert.equal(twice.body.code, 'query_optimization_not_found')
  })
})
