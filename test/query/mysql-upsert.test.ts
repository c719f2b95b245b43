import assert from 'node:assert/strict'
import { test } from 'node:test'
import { STAR, type InsertQuery } from '../../src/query/ast.js'
import { displayName, MARIADB, MYSQL } from '../../src/query/dialect.js'
import { planInsert } from '../../src/query/plan/plan-mutation.js'
import { MysqlQueryCompiler } from '../../src/query/compile/mysql-query-compiler.js'
import { MysqlRunner } from '../../src/query/run/mysql-runner.js'
import { Source } from '../../src/sources/source.js'
import { createMysqlDatabase } from '../helpers/databases.js'

// Upserts that ignore duplicates report only the rows they inserted, on both MySQL-family paths: MariaDB's
// (INSERT … RETURNING) and MySQL's (keys from the request, no RETURNING). Only MariaDB runs locally, so the
// MySQL path runs here on MariaDB with MySQL's capabilities; the statements it sends are plain MySQL.
test('MySQL-family upserts with ignore-duplicates return only inserted rows', async (t) => {
  const db = await createMysqlDatabase(t)
  await db.load('shop')
  const source = new Source({ name: 'shop', url: db.url, origin: 'config', pool: { max: 2, idleTimeoutMs: 1_000, connectionTimeoutMs: 5_000 } })
  const schema = await source.schema()
  try {
    for (const [caps, base] of [[MARIADB, 100], [MYSQL, 200]] as const) {
      await t.test(displayName(caps), async () => {
        const compiler = new MysqlQueryCompiler(caps)
        const runner = new MysqlRunner(source.driver)
        const upsert = (rows: Array<Record<string, unknown>>, returning: InsertQuery['returning'] = [STAR]) =>
          runner.write(compiler.insert(planInsert({ schema, caps, source: 'shop' }, {
            kind: 'insert', relation: { name: 'customers' }, rows, columns: ['id', 'name', 'email'], missing: 'null',
            onConflict: { action: 'ignore' }, returning,
          })))
        const first = await upsert([{ id: base, name: 'first', email: null }])
        assert.deepEqual(JSON.parse(first.body).map((r: { id: number }) => r.id), [base])
        const again = await upsert([
          { id: base, name: 'same key', email: null },
          { id: 1, name: 'existing key', email: null },
          { id: base + 1, name: 'same email as Ada', email: 'ada@example.com' },
          { id: base + 2, name: 'new', email: null },
          { id: base + 2, name: 'same key within the request', email: null },
        ])
        assert.deepEqual(JSON.parse(again.body).map((r: { id: number; name: string }) => [r.id, r.name]), [[base + 2, 'new']])
        assert.equal(again.affected, 1)
        const ignored = await upsert([{ id: 1, name: 'x', email: null }])
        assert.equal(ignored.body, '[]')
        const minimal = await upsert([{ id: base + 3, name: 'no representation', email: null }], null)
        assert.equal(minimal.body, '[]')
        const names = await db.query<{ id: number; name: string }>(`SELECT id, name FROM customers WHERE id = 1 OR id >= ${base} ORDER BY id`)
        assert.deepEqual(names.map((r) => r.name), ['Ada', 'first', 'new', 'no representation'])
      })
    }
  } finally {
    await source.driver.close()
  }
})
