// POST /api/lineage against hand-written answers: the statement's kind, tables read and written (CTE names are not
// tables, qualified names keep their schema), columns used (qualified by the table an alias stands for; bare when
// written bare) and CTEs, for PostgreSQL (libpg-query) and MySQL (node-sql-parser).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'
import { asUser, JWT_SECRET, sessionToken } from '../../helpers/assistant.js'

type Answer = [type: string, read: string[], written: string[], columns: string[], ctes?: string[]]

const POSTGRES: Array<[string, Answer]> = [
  ['SELECT * FROM customers', ['SELECT', ['customers'], [], ['*']]],
  ['SELECT id, name FROM customers WHERE tier = \'gold\'', ['SELECT', ['customers'], [], ['id', 'name', 'tier']]],
  ['SELECT c.name, o.total FROM customers c JOIN orders o ON o.customer_id = c.id', ['SELECT', ['customers', 'orders'], [], ['customers.id', 'customers.name', 'orders.customer_id', 'orders.total']]],
  ['SELECT s.orders.id FROM s.orders', ['SELECT', ['s.orders'], [], ['s.orders.id']]],
  ['SELECT count(*) FROM orders', ['SELECT', ['orders'], [], []]],
  ['SELECT status, count(*) AS n FROM orders GROUP BY status HAVING count(*) > 1 ORDER BY n DESC', ['SELECT', ['orders'], [], ['status']]],
  ['WITH recent AS (SELECT * FROM orders WHERE placed_at > now() - interval \'7 days\') SELECT count(*) FROM recent', ['SELECT', ['orders'], [], ['*', 'placed_at'], ['recent']]],
  ['WITH a AS (SELECT id FROM customers), b AS (SELECT id FROM a) SELECT * FROM b', ['SELECT', ['customers'], [], ['*', 'id'], ['a', 'b']]],
  ['WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT n FROM t', ['SELECT', [], [], ['n'], ['t']]],
  ['INSERT INTO orders (id, customer_id, status, total, placed_at) VALUES (9, 1, \'new\', 1, now())', ['INSERT', [], ['orders'], ['orders.customer_id', 'orders.id', 'orders.placed_at', 'orders.status', 'orders.total']]],
  ['INSERT INTO archive SELECT * FROM orders', ['INSERT', ['orders'], ['archive'], ['*']]],
  ['INSERT INTO archive (id, total) SELECT id, total FROM public.orders WHERE status = \'paid\'', ['INSERT', ['public.orders'], ['archive'], ['archive.id', 'archive.total', 'id', 'status', 'total']]],
  ['UPDATE orders SET status = \'paid\' WHERE id = 1', ['UPDATE', [], ['orders'], ['id', 'orders.status']]],
  ['UPDATE orders SET note = c.name FROM customers c WHERE c.id = orders.customer_id', ['UPDATE', ['customers'], ['orders'], ['customers.id', 'customers.name', 'orders.customer_id', 'orders.note']]],
  ['UPDATE orders o SET total = o.total * 2 WHERE o.id = 3', ['UPDATE', [], ['orders'], ['orders.id', 'orders.total']]],
  ['DELETE FROM orders WHERE status = \'cancelled\'', ['DELETE', [], ['orders'], ['status']]],
  ['DELETE FROM orders o USING customers c WHERE c.id = o.customer_id', ['DELETE', ['customers'], ['orders'], ['customers.id', 'orders.customer_id']]],
  ['WITH d AS (DELETE FROM orders WHERE status = \'x\' RETURNING id) SELECT count(*) FROM d', ['SELECT', [], ['orders'], ['id', 'status'], ['d']]],
  ['WITH moved AS (DELETE FROM orders RETURNING *) INSERT INTO archive SELECT * FROM moved', ['INSERT', [], ['archive', 'orders'], ['*'], ['moved']]],
  ['SELECT * FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE total > 100)', ['SELECT', ['customers', 'orders'], [], ['*', 'customer_id', 'id', 'total']]],
  ['SELECT name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)', ['SELECT', ['customers', 'orders'], [], ['customers.id', 'name', 'orders.customer_id']]],
  ['SELECT x.total FROM (SELECT total FROM orders) x', ['SELECT', ['orders'], [], ['total', 'x.total']]],
  ['SELECT name FROM customers UNION SELECT name FROM products', ['SELECT', ['customers', 'products'], [], ['name']]],
  ['SELECT * FROM analytics.events e JOIN public.users u ON u.id = e.user_id', ['SELECT', ['analytics.events', 'public.users'], [], ['*', 'analytics.events.user_id', 'public.users.id']]],
  ['CREATE TABLE summary AS SELECT customer_id, sum(total) AS spent FROM orders GROUP BY customer_id', ['CREATE', ['orders'], ['summary'], ['customer_id', 'total']]],
  ['SELECT id INTO backup FROM orders', ['SELECT', ['orders'], ['backup'], ['id']]],
  ['CREATE VIEW v AS SELECT id FROM orders', ['CREATE', ['orders'], ['v'], ['id']]],
  ['TRUNCATE orders, public.order_items', ['TRUNCATE', [], ['orders', 'public.order_items'], []]],
  ['DROP TABLE orders', ['DROP', [], ['orders'], []]],
  ['MERGE INTO customers t USING staging s ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, s.name)', ['MERGE', ['staging'], ['customers'], ['customers.id', 'customers.name', 'staging.id', 'staging.name']]],
  ['SELECT o.id, p.name FROM orders o JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id', ['SELECT', ['order_items', 'orders', 'products'], [], ['order_items.order_id', 'order_items.product_id', 'orders.id', 'products.id', 'products.name']]],
  ['SELECT c.* FROM customers c', ['SELECT', ['customers'], [], ['customers.*']]],
  ['EXPLAIN SELECT * FROM orders', ['EXPLAIN', ['orders'], [], ['*']]],
  ['SELECT upper(name), length(email) FROM customers LIMIT 5', ['SELECT', ['customers'], [], ['email', 'name']]],
  ['SELECT * FROM generate_series(1, 3) g', ['SELECT', [], [], ['*']]],
  ['COPY orders TO STDOUT', ['COPY', ['orders'], [], []]],
]

const MYSQL: Array<[string, Answer]> = [
  ['SELECT * FROM customers', ['SELECT', ['customers'], [], ['*']]],
  ['SELECT id, name FROM customers WHERE tier = \'gold\'', ['SELECT', ['customers'], [], ['id', 'name', 'tier']]],
  ['SELECT c.name, o.total FROM customers c JOIN orders o ON o.customer_id = c.id', ['SELECT', ['customers', 'orders'], [], ['customers.id', 'customers.name', 'orders.customer_id', 'orders.total']]],
  ['SELECT c.name FROM shop.customers c', ['SELECT', ['shop.customers'], [], ['customers.name']]],
  ['SELECT `order`.id FROM `order`', ['SELECT', ['order'], [], ['order.id']]],
  ['SELECT status, COUNT(*) AS n FROM orders GROUP BY status', ['SELECT', ['orders'], [], ['status']]],
  ['WITH recent AS (SELECT * FROM orders WHERE placed_at > NOW() - INTERVAL 7 DAY) SELECT COUNT(id) FROM recent', ['SELECT', ['orders'], [], ['*', 'id', 'placed_at'], ['recent']]],
  ['WITH a AS (SELECT id FROM customers), b AS (SELECT id FROM a) SELECT * FROM b', ['SELECT', ['customers'], [], ['*', 'id'], ['a', 'b']]],
  ['INSERT INTO orders (id, customer_id, status) VALUES (9, 1, \'new\')', ['INSERT', [], ['orders'], ['orders.customer_id', 'orders.id', 'orders.status']]],
  ['INSERT INTO archive (id, total) SELECT id, total FROM orders WHERE status = \'paid\'', ['INSERT', ['orders'], ['archive'], ['archive.id', 'archive.total', 'id', 'status', 'total']]],
  ['INSERT INTO archive SELECT * FROM orders', ['INSERT', ['orders'], ['archive'], ['*']]],
  ['REPLACE INTO settings (k, v) VALUES (\'a\', \'b\')', ['INSERT', [], ['settings'], ['settings.k', 'settings.v']]],
  ['UPDATE orders SET status = \'paid\' WHERE id = 1', ['UPDATE', [], ['orders'], ['id', 'orders.status']]],
  ['UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.note = c.name WHERE c.tier = \'gold\'', ['UPDATE', ['customers'], ['orders'], ['customers.id', 'customers.name', 'customers.tier', 'orders.customer_id', 'orders.note']]],
  ['DELETE FROM orders WHERE status = \'cancelled\'', ['DELETE', [], ['orders'], ['status']]],
  ['DELETE o FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.tier IS NULL', ['DELETE', ['customers'], ['orders'], ['customers.id', 'customers.tier', 'orders.customer_id']]],
  ['SELECT * FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE total > 100)', ['SELECT', ['customers', 'orders'], [], ['*', 'customer_id', 'id', 'total']]],
  ['SELECT name FROM customers UNION SELECT name FROM products', ['SELECT', ['customers', 'products'], [], ['name']]],
  ['SELECT * FROM (SELECT id FROM orders) x', ['SELECT', ['orders'], [], ['*', 'id']]],
  ['SELECT c.* FROM customers c', ['SELECT', ['customers'], [], ['customers.*']]],
  ['SELECT o.id, p.name FROM orders o JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id', ['SELECT', ['order_items', 'orders', 'products'], [], ['order_items.order_id', 'order_items.product_id', 'orders.id', 'products.id', 'products.name']]],
  ['SELECT UPPER(name), LENGTH(email) FROM customers LIMIT 5', ['SELECT', ['customers'], [], ['email', 'name']]],
  ['SELECT * FROM analytics.events e JOIN app.users u ON u.id = e.user_id', ['SELECT', ['analytics.events', 'app.users'], [], ['*', 'events.user_id', 'users.id']]],
  ['CREATE TABLE summary AS SELECT customer_id FROM orders', ['CREATE', ['orders'], ['summary'], ['customer_id']]],
  ['SELECT name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)', ['SELECT', ['customers', 'orders'], [], ['customers.id', 'name', 'orders.customer_id']]],
  ['SELECT DISTINCT tier FROM customers ORDER BY tier', ['SELECT', ['customers'], [], ['tier']]],
  ['SELECT c.name, SUM(o.total) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.name HAVING SUM(o.total) > 10', ['SELECT', ['customers', 'orders'], [], ['customers.id', 'customers.name', 'orders.customer_id', 'orders.total']]],
  ['UPDATE customers SET tier = NULL', ['UPDATE', [], ['customers'], ['customers.tier']]],
  ['DELETE FROM shop.orders WHERE id = 2', ['DELETE', [], ['shop.orders'], ['id']]],
  ['INSERT INTO shop.archive (id) SELECT id FROM shop.orders', ['INSERT', ['shop.orders'], ['shop.archive'], ['archive.id', 'id']]],
  ['SELECT COUNT(*) FROM orders WHERE placed_at BETWEEN \'2024-01-01\' AND \'2024-12-31\'', ['SELECT', ['orders'], [], ['placed_at']]],
  ['SELECT id FROM orders WHERE note LIKE \'%gift%\' LIMIT 10 OFFSET 5', ['SELECT', ['orders'], [], ['id', 'note']]],
]

const answerOf = ([query_type, tables_read, tables_written, columns_used, ctes = []]: Answer) => ({ query_type, tables_read, tables_written, columns_used, ctes })

test('POST /api/lineage', async (t) => {
  const atrium = await startTestAtrium(t, { env: { ATRIUM_JWT_SECRET: JWT_SECRET } })
  const user = asUser(atrium, await sessionToken('ada'))
  assert.ok(POSTGRES.length >= 30 && MYSQL.length >= 30)

  for (const [dialect, cases] of [['postgresql', POSTGRES], ['mysql', MYSQL]] as const) {
    await t.test(`${dialect}: ${cases.length} statements`, async () => {
      for (const [sql, answer] of cases) {
        const res = await user('POST', '/api/lineage', { sql, dialect })
        assert.equal(res.status, 200, `${sql}: ${res.text}`)
        assert.deepEqual(res.body, answerOf(answer), sql)
      }
    })
  }

  await t.test('bad input is a 400: syntax, several statements, an unknown dialect; no token is a 401', async () => {
    for (const [sql, dialect, code] of [['SELEC 1', 'postgresql', 'sql_error'], ['SELECT 1; SELECT 2', 'postgresql', 'invalid_request'], ['SELECT FROM WHERE', 'mysql', 'sql_error'], ['SELECT 1', 'oracle', 'invalid_request']]) {
      const res = await user('POST', '/api/lineage', { sql, dialect })
      assert.equal(res.status, 400, `${sql}: ${res.text}`)
      assert.equal(res.body.code, code)
    }
    assert.equal((await asUser(atrium, null)('POST', '/api/lineage', { sql: 'SELECT 1' })).status, 401)
  })
})
