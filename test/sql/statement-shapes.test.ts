// The shape of a normalized statement as pg_stat_statements and performance_schema report it: the one table a
// SELECT reads and the columns of its top-level AND conditions, equality first. Anything else has no shape.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { shapeOfStatement } from '../../src/monitoring/statement-shapes.js'

test('a PostgreSQL statement with $n parameters', () => {
  assert.deepEqual(shapeOfStatement('SELECT id, total FROM public.orders WHERE total > $1 AND status = $2 ORDER BY id LIMIT $3', 'postgres'),
    { schema: 'public', table: 'orders', columns: ['status', 'total'] })
  assert.deepEqual(shapeOfStatement('select * from "Orders" where "customerId" = $1', 'postgres'), { schema: null, table: 'Orders', columns: ['customerId'] })
})

test('a MySQL digest with ? placeholders', () => {
  assert.deepEqual(shapeOfStatement('SELECT * FROM `events` WHERE `kind` = ? AND `account_id` IN (...) LIMIT ?', 'mysql'), undefined, 'a digest list is not SQL')
  assert.deepEqual(shapeOfStatement('SELECT * FROM `events` WHERE `kind` = ? AND `account_id` = ? LIMIT ?', 'mysql'), { schema: null, table: 'events', columns: ['kind', 'account_id'] })
})

test('joins, OR-only filters, unfiltered reads and writes have no shape', () => {
  assert.equal(shapeOfStatement('SELECT * FROM a JOIN b ON a.id = b.a_id WHERE a.x = $1', 'postgres'), undefined)
  assert.equal(shapeOfStatement('SELECT * FROM a WHERE x = $1 OR y = $2', 'postgres'), undefined)
  assert.equal(shapeOfStatement('SELECT * FROM a', 'postgres'), undefined)
  assert.equal(shapeOfStatement('UPDATE a SET x = $1 WHERE y = $2', 'postgres'), undefined)
  assert.equal(shapeOfStatement('not sql at all', 'mysql'), undefined)
})
