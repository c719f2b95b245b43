// A provisioned database is an Assistant connection: a user whose session token carries the e-mail of a platform
// user in the database's team reaches it by its uuid on /api/chat, /api/execute and GET /api/connections/{id},
// read-only; another e-mail, an unverified one, or a deleted database is the unknown-connection 404.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { asUser, JWT_SECRET, sessionToken } from '../../helpers/assistant.js'
import { runStatements, startDatabasesAtrium } from '../databases/helpers.js'

const SETUP = [
  'CREATE TABLE products (id integer PRIMARY KEY, name varchar(40) NOT NULL, price numeric(10,2) NOT NULL)',
  "INSERT INTO products VALUES (1, 'Lamp', 19.99), (2, 'Desk', 149.50), (3, 'Pen', 1.25)",
]

let run = 0

for (const engine of ['postgres', 'mysql'] as const) {
  test(`a provisioned ${engine} database is an Assistant connection of its team's users`, async (t) => {
    const atrium = await startDatabasesAtrium(t, { 'sessions.jwtSecret': JWT_SECRET })
    const email = `Owner${++run}-${process.pid}@example.test`
    const { key } = await atrium.createPlatformKey({ email, scopes: ['databases:read', 'databases:write'] })
    const created = await atrium.api('POST', '/api/v1/databases?wait=true&timeout=30', key, { body: { name: 'shop', db_type: engine } })
    assert.equal(created.status, 201, created.text)
    atrium.track(created.body.data)
    const db = created.body.data
    assert.equal(db.status, 'active')
    await runStatements(db.connection_string, SETUP)
    // the tables were made outside Atrium: the schema cache learns them on its next load
    await atrium.handle.platform.registry.get(db.db_name)!.refreshSchema()

    // the e-mail is matched whatever its case; the token's subject is not the platform user's id
    const owner = asUser(atrium, await sessionToken('owner-sub', email.toLowerCase()))
    const stranger = asUser(atrium, await sessionToken('stranger-sub', `stranger${run}-${process.pid}@example.test`))

    await t.test('chat with the builtin provider runs on the database by its uuid', async () => {
      const res = await owner('POST', '/api/chat', { connection_id: db.uuid, prompt: 'top 2 products by price', provider: 'builtin', auto_execute: true })
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.provider, 'builtin')
      assert.deepEqual(res.body.results.rows.map((r: unknown[]) => r[res.body.results.columns.indexOf('name')]), ['Desk', 'Lamp'])
    })

    await t.test('execute returns rows; the dialect check knows the engine', async () => {
      const res = await owner('POST', '/api/execute', { connection_id: db.uuid, sql: 'SELECT name FROM products ORDER BY id' })
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(res.body.results, { columns: ['name'], rows: [['Lamp'], ['Desk'], ['Pen']], row_count: 3, truncated: false, affected_rows: 0 })
      const wrong = await owner('POST', '/api/chat', { connection_id: db.uuid, prompt: 'count products', provider: 'builtin', dialect: engine === 'postgres' ? 'mysql' : 'postgresql' })
      assert.equal(wrong.status, 400, wrong.text)
    })

    await t.test('it is read-only: a write is refused and changes nothing', async () => {
      const res = await owner('POST', '/api/execute', { connection_id: db.uuid, sql: "UPDATE products SET name = 'Gone' WHERE id = 1" })
      assert.equal(res.status, 403, res.text)
      assert.equal(res.body.code, 'assistant_sql_refused')
      const after = await owner('POST', '/api/execute', { connection_id: db.uuid, sql: 'SELECT name FROM products WHERE id = 1' })
      assert.deepEqual(after.body.results.rows, [['Lamp']])
    })

    await t.test('GET /api/connections/{uuid} describes it, without credentials', async () => {
      const res = await owner('GET', `/api/connections/${db.uuid}`)
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(res.body, { name: 'shop', provider: engine === 'postgres' ? 'PostgresConnection' : 'MysqlConnection', allow_writes: false, source: 'database', status: { state: 'ready' } })
      assert.ok(!res.text.includes(db.db_username) && !res.text.includes(db.db_name), 'no login or server-side names')
    })

    await t.test('another e-mail, an unverified e-mail or no e-mail gets the unknown-connection 404', async () => {
      const unverified = asUser(atrium, await signed({ sub: 'unverified-sub', email, email_verified: false }))
      const noEmail = asUser(atrium, await signed({ sub: 'no-email-sub' }))
      for (const who of [stranger, unverified, noEmail]) {
        for (const [method, path, body] of [
          ['POST', '/api/execute', { connection_id: db.uuid, sql: 'SELECT 1' }],
          ['POST', '/api/chat', { connection_id: db.uuid, prompt: 'count products', provider: 'builtin' }],
          ['GET', `/api/connections/${db.uuid}`, undefined],
        ] as const) {
          const res = await who(method, path, body)
          assert.equal(res.status, 404, `${method} ${path}: ${res.text}`)
          assert.equal(res.body.code, 'assistant_connection_not_found')
        }
      }
      // nor can the owner delete it through the Assistant: that is the Databases API's DELETE
      assert.equal((await owner('DELETE', `/api/connections/${db.uuid}`)).status, 404)
    })

    await t.test('a deleted database is no connection any more', async () => {
      const del = await atrium.api('DELETE', `/api/v1/databases/${db.uuid}`, key)
      assert.ok(del.status < 300, del.text)
      const res = await owner('POST', '/api/execute', { connection_id: db.uuid, sql: 'SELECT 1' })
      assert.equal(res.status, 404, res.text)
      assert.equal(res.body.code, 'assistant_connection_not_found')
    })
  })
}

/** a session token with exactly these claims */
async function signed(claims: Record<string, unknown>): Promise<string> {
  const { SignJWT } = await import('jose')
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ role: 'authenticated', ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt(now).setExpirationTime(now + 600).sign(new TextEncoder().encode(JWT_SECRET))
}
