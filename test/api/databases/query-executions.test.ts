// POST /api/v1/query_executions on real provisioned databases: a question becomes SQL through the Assistant's
// providers (a local OpenAI-compatible server, and the offline builtin), validated, held to the key's scopes,
// run with maxRows and recorded; another team's database is a 404.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOpenAiServer } from '../../helpers/model-servers.js'
import { runStatements, startDatabasesAtrium } from './helpers.js'

const SETUP = [
  'CREATE TABLE products (id integer PRIMARY KEY, name varchar(40) NOT NULL, price numeric(10,2) NOT NULL, category varchar(20))',
  'INSERT INTO products VALUES (1, \'Lamp\', 19.99, \'home\'), (2, \'Desk\', 149.50, \'office\'), (3, \'Pen\', 1.25, \'office\'), (4, \'Rug\', 80, \'home\')',
]

for (const engine of ['postgres', 'mysql'] as const) {
  test(`query executions on a ${engine} database`, async (t) => {
    const openai = await startOpenAiServer(t)
    const atrium = await startDatabasesAtrium(t, { 'assistant.openaiApiKey': 'sk-test', 'assistant.openaiBaseUrl': openai.baseUrl })
    const { key } = await atrium.createPlatformKey({ scopes: ['databases:read', 'databases:write', 'queries:write'] })
    const { key: readOnlyKey } = await atrium.createPlatformKey({ scopes: ['databases:read', 'queries:write'] })
    const { key: noQueries } = await atrium.createPlatformKey({ scopes: ['databases:read'] })
    const created = await atrium.api('POST', '/api/v1/databases?wait=true&timeout=30', key, { body: { name: 'shop', db_type: engine } })
    assert.equal(created.status, 201, created.text)
    atrium.track(created.body.data)
    const db = created.body.data
    await runStatements(db.connection_string, SETUP)
    // the tables were made outside Atrium: the schema cache learns them on its next load
    await atrium.handle.platform.registry.get(db.db_name)!.refreshSchema()
    const ask = (k: string, body: Record<string, unknown>) => atrium.api('POST', '/api/v1/query_executions', k, { body: { database_uuid: db.uuid, ...body } })

    await t.test('the builtin provider: a question in its grammar, rows as objects, capped by maxRows', async () => {
      const res = await ask(key, { query: 'top 3 products by price', provider: 'builtin', maxRows: 2 })
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.success, true)
      assert.match(res.body.sql, /ORDER BY .price. DESC LIMIT 3/)
      assert.equal(res.body.result.type, 'SELECT')
      assert.deepEqual(res.body.result.rows.map((r: { name: string }) => r.name), ['Desk', 'Rug'])
      assert.equal(res.body.result.rowCount, 2)
      assert.equal(res.body.result.truncated, true)
      assert.equal(res.body.result.maxRows, 2)
      assert.equal(typeof res.body.query_id, 'number')
      assert.equal(typeof res.body.request_id, 'string')
      const [row] = await atrium.catalog.query<{ status: string; sql: string; provider: string }>('SELECT status, sql, provider FROM atrium.query_executions WHERE id = $1', [res.body.query_id])
      assert.deepEqual(row, { status: 'succeeded', sql: res.body.sql, provider: 'builtin' })
    })

    await t.test('the openai provider by default, with a correction round on an unknown column', async () => {
      openai.script({ text: 'SELECT title FROM products' }, { text: '```sql\nSELECT category, count(*) AS n FROM products GROUP BY category ORDER BY category\n```' })
      const res = await ask(key, { query: 'how many products per category?' })
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(res.body.result.rows, [{ category: 'home', n: 2 }, { category: 'office', n: 2 }])
      assert.match(openai.received.at(-1)!.body.messages.at(-1).content, /column "title" does not exist/)
    })

    await t.test('writes: refused without allow_writes, and allow_writes needs databases:write', async () => {
      openai.script({ text: 'DELETE FROM products' })
      const refused = await ask(key, { query: 'remove every product' })
      assert.equal(refused.status, 403, refused.text)
      assert.equal(refused.body.error.code, 'assistant_sql_refused')
      assert.equal(typeof refused.body.error.details.query_id, 'number')
      const scope = await ask(readOnlyKey, { query: 'remove the pen', allow_writes: true })
      assert.equal(scope.status, 403)
      assert.equal(scope.body.error.code, 'missing_scope')
      openai.script({ text: 'DELETE FROM products WHERE id = 3' })
      const allowed = await ask(key, { query: 'remove the pen', allow_writes: true })
      assert.equal(allowed.status, 200, allowed.text)
      assert.deepEqual(allowed.body.result, { type: 'DELETE', affectedRows: 1 })
      openai.script({ text: 'DROP TABLE products' })
      const ddl = await ask(key, { query: 'drop it', allow_writes: true })
      assert.equal(ddl.status, 403, ddl.text)
      const left = await ask(key, { query: 'count products', provider: 'builtin' })
      assert.deepEqual(Object.values(left.body.result.rows[0]).map(Number), [3])
    })

    await t.test('SQL still failing after the corrections is query_execution_failed with the SQL and query_id', async () => {
      openai.script({ text: 'SELECT nope FROM products' }, { text: 'SELECT nope FROM products' }, { text: 'SELECT nope FROM products' })
      const res = await ask(key, { query: 'something odd' })
      assert.equal(res.status, 422, res.text)
      assert.equal(res.body.error.code, 'query_execution_failed')
      assert.equal(res.body.error.details.sql, 'SELECT nope FROM products')
      const [row] = await atrium.catalog.query<{ status: string }>('SELECT status FROM atrium.query_executions WHERE id = $1', [res.body.error.details.query_id])
      assert.equal(row.status, 'failed')
    })

    await t.test('scope, team and input: 403 without queries:write, 404 for another team, 422 naming the field', async () => {
      const noScope = await ask(noQueries, { query: 'count products', provider: 'builtin' })
      assert.equal(noScope.status, 403)
      assert.equal(noScope.body.error.code, 'missing_scope')
      const { key: stranger } = await atrium.createPlatformKey({ scopes: ['queries:write'] })
      const other = await ask(stranger, { query: 'count products', provider: 'builtin' })
      assert.equal(other.status, 404)
      assert.equal(other.body.error.code, 'database_not_found')
      const bad = await atrium.api('POST', '/api/v1/query_executions', key, { body: { database_uuid: 'not-a-uuid', query: 'x' } })
      assert.equal(bad.status, 422)
      assert.equal(bad.body.error.details.field, 'database_uuid')
      assert.equal((await atrium.api('POST', '/api/v1/query_executions', null, { body: { database_uuid: db.uuid, query: 'x' } })).status, 401)
    })
  })
}
