// POST /gateway/query with dry_run: the class the SQL would run as, the right it needs and whether the caller
// holds it, with nothing run; error positions in the query as sent; and GET /schema/columns's keys and relationships (both used by the console).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { createPgDatabase } from '../../helpers/databases.js'

test('raw SQL dry_run and schema relationships', async (t) => {
  const db = await createPgDatabase(t)
  await db.query(`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
    CREATE TABLE orders (id serial PRIMARY KEY, item_id int NOT NULL REFERENCES items (id), qty int);
    INSERT INTO items VALUES (1, 'apple'), (2, 'pear'); INSERT INTO orders (item_id, qty) VALUES (1, 3)`)
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const reader = await createKey(atrium, { rights: ['sql.read'] })
  const rowsOnly = await createKey(atrium, { rights: ['gateway.read'] })
  const dryRun = (query: string, key?: string | null) => atrium.post('/gateway/query', { client: 'shop', key, body: { query, dry_run: true } })

  await t.test('classifies without running: a write stays unrun, even for the admin key', async () => {
    const res = await dryRun('DELETE FROM items')
    assert.equal(res.status, 200)
    assert.deepEqual(res.body.data, [])
    assert.equal(res.body.meta.dry_run, true)
    assert.equal(res.body.meta.sql_class, 'write')
    assert.equal(res.body.meta.required_right, 'sql.write')
    assert.equal(res.body.meta.allowed, true)
    assert.equal((await db.query('SELECT count(*)::int AS n FROM items'))[0].n, 2)
  })

  await t.test('tells a read key what it may run, before it tries', async () => {
    const read = await dryRun('SELECT name FROM items; SELECT 1', reader.key)
    assert.equal(read.status, 200)
    assert.deepEqual([read.body.meta.sql_class, read.body.meta.allowed, read.body.meta.statement_count], ['read', true, 2])
    const ddl = await dryRun('DROP TABLE items', reader.key)
    assert.deepEqual([ddl.body.meta.sql_class, ddl.body.meta.required_right, ddl.body.meta.allowed], ['ddl', 'sql.ddl', false])
    const volatile = await dryRun("SELECT nextval('orders_id_seq')", reader.key)
    assert.equal(volatile.body.meta.sql_class, 'write')
    assert.equal(volatile.body.meta.allowed, false)
    assert.ok(volatile.body.meta.reason, 'the reason the class was raised is given')
    // running it is still refused, as before
    const run = await atrium.post('/gateway/query', { client: 'shop', key: reader.key, body: { query: 'DROP TABLE items' } })
    assert.equal(run.status, 403)
    assert.equal(run.body.code, 'missing_right')
  })

  await t.test('a caller with no raw SQL right is refused (403), no key is 401, bad SQL is a 400', async () => {
    const refused = await dryRun('SELECT 1', rowsOnly.key)
    assert.equal(refused.status, 403)
    assert.equal(refused.body.code, 'missing_right')
    assert.equal(refused.body.data.required_right, 'sql.read')
    assert.equal((await dryRun('SELECT 1', null)).status, 401)
    const bad = await dryRun('SELEC 1', reader.key)
    assert.equal(bad.status, 400)
  })

  await t.test("a database error's position points into the query as sent, whichever statement failed", async () => {
    for (const [query, index] of [['select id,\n  nme from items', 0], ['UPDATE items SET nme = 1', 0], ['select 1; select 2;\n update items set nme = 1', 2]] as const) {
      const res = await atrium.post('/gateway/query', { client: 'shop', body: { query } })
      assert.equal(res.status, 400)
      assert.equal(res.body.data.statement_index, index)
      assert.match(query.slice(res.body.data.position - 1), /^nme\b/, query)
    }
  })

  await t.test('GET /schema/columns answers the primary key and relationships both ways', async () => {
    const orders = await atrium.get('/schema/columns?table_name=orders', { client: 'shop' })
    assert.equal(orders.status, 200)
    assert.deepEqual(orders.body.primary_key, ['id'])
    assert.equal(orders.body.foreign_keys.length, 1)
    assert.deepEqual(orders.body.foreign_keys[0].columns, ['item_id'])
    assert.deepEqual(orders.body.foreign_keys[0].references, { table_schema: 'public', table_name: 'items', columns: ['id'] })
    const items = await atrium.get('/schema/columns?table_name=items', { client: 'shop' })
    assert.deepEqual(items.body.foreign_keys, [])
    assert.equal(items.body.referenced_by[0].table_name, 'orders')
  })
})
