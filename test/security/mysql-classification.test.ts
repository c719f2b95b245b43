// MySQL/MariaDB raw SQL: a read key cannot smuggle DDL, files, locks, variables or other databases past the
// classifier, and ordinary SQL still returns the right rows after the parse and re-emit round trip.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { test } from 'node:test'
import mysql from 'mysql2/promise'
import { startTestAtrium } from '../helpers/atrium.js'
import { createKey } from '../helpers/auth-grid.js'
import { createMysqlDatabase, MYSQL_ADMIN_URL } from '../helpers/databases.js'

const SENTINEL = [{ id: 1, label: 'keep' }, { id: 2, label: "it's me" }]

test('MySQL raw SQL classification', async (t) => {
  const db = await createMysqlDatabase(t, 'atrium_myclass')
  const other = await createMysqlDatabase(t, 'atrium_myclass_other')
  await db.load('shop')
  await db.query("DELETE FROM sentinel; INSERT INTO sentinel VALUES (1, 'keep'), (2, 'it''s me')")
  await other.query("CREATE TABLE secret (id int PRIMARY KEY, token varchar(50)); INSERT INTO secret VALUES (1, 'other-tenant')")
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const reader = await createKey(atrium, { name: 'reader', rights: ['gateway.read', 'sql.read'] })
  const writer = await createKey(atrium, { name: 'writer', rights: ['gateway.read', 'sql.read', 'sql.write'] })
  const owner = await createKey(atrium, { name: 'owner', rights: ['gateway.read', 'sql.read', 'sql.write', 'sql.ddl'] })
  const sql = (key: string | undefined, query: string) => atrium.post('/gateway/query', { client: 'shop', key, body: { query } })

  const tag = randomBytes(4).toString('hex')
  const outfile = `/tmp/atrium-outfile-${tag}`
  const lock = `atrium_probe_${tag}`

  const assertSentinelUnchanged = async () => {
    assert.deepEqual(await db.query('SELECT id, label FROM sentinel ORDER BY id'), SENTINEL)
    const tables = await db.query<{ n: number }>('SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', ['pwned'])
    assert.equal(tables[0].n, 0, 'no table was created')
  }

  // [payload, acceptable codes]; every one must be refused before anything runs
  const attacks: Array<[string, string[]]> = [
    // executable comments, with and without version numbers, MySQL and MariaDB flavours
    ["/*! CREATE OR REPLACE TABLE sentinel AS */ SELECT 9 AS id, 'pwned' AS label", ['ambiguous_sql']],
    ["/*!100000 CREATE OR REPLACE TABLE sentinel AS */ SELECT 9 AS id, 'pwned' AS label", ['ambiguous_sql']],
    ["/*M! CREATE OR REPLACE TABLE sentinel AS */ SELECT 9 AS id, 'pwned' AS label", ['ambiguous_sql']],
    ["/*M!100301 CREATE OR REPLACE TABLE sentinel AS */ SELECT 9 AS id, 'pwned' AS label", ['ambiguous_sql']],
    ['SELECT 1 /*!, (SELECT count(*) FROM mysql.user) */ AS n', ['ambiguous_sql']],
    [`SELECT id FROM sentinel /*! INTO OUTFILE '${outfile}' */`, ['ambiguous_sql']],
    [`SELECT id FROM sentinel /*!50000INTO DUMPFILE '${outfile}'*/`, ['ambiguous_sql']],
    ['/*! SET STATEMENT max_statement_time=0 FOR */ SELECT SLEEP(3)', ['ambiguous_sql']],
    ["SELECT 1 FROM sentinel /*!*/; /*!DELETE FROM sentinel*/", ['ambiguous_sql']],
    // -- without a space is arithmetic to MariaDB and a comment to the parser
    ['SELECT 1 --x\n, 2', ['ambiguous_sql']],
    ['SELECT id FROM sentinel WHERE id = 1 --1\n', ['ambiguous_sql']],
    // hints (SET_VAR would change session settings for the statement on servers that read hints)
    ['SELECT /*+ SET_VAR(max_statement_time=0) */ SLEEP(3)', ['ambiguous_sql']],
    ['SELECT /*+ MAX_EXECUTION_TIME(100000) */ id FROM sentinel', ['ambiguous_sql']],
    // quoting the two could split differently
    ["SELECT 'x\\' /*! , LOAD_FILE('/etc/hostname') */ -- '", ['ambiguous_sql']],
    ["SELECT 'a' 'b' AS x", ['ambiguous_sql']],
    ["SELECT _binary'x' AS x", ['ambiguous_sql']],
    ['SELECT \\N', ['ambiguous_sql']],
    ['DELIMITER //\nSELECT 1 //', ['ambiguous_sql']],
    ['SELECT 1\0; DELETE FROM sentinel', ['nul_byte', 'ambiguous_sql']],
    // the same payloads written plainly: the classifier sees them and ranks them above a read
    ["CREATE OR REPLACE TABLE sentinel AS SELECT 9 AS id, 'pwned' AS label", ['sql_error', 'missing_right']],
    ['CREATE TABLE pwned (id int)', ['missing_right']],
    ['SELECT 1; CREATE TABLE pwned (id int)', ['missing_right']],
    ['SELECT 1 AS id; DELETE FROM sentinel WHERE id > 0', ['missing_right']],
    [`SELECT id FROM sentinel INTO OUTFILE '${outfile}'`, ['missing_right']],
    [`SELECT id INTO DUMPFILE '${outfile}' FROM sentinel LIMIT 1`, ['missing_right']],
    [`SELECT id FROM sentinel UNION SELECT 3 INTO OUTFILE '${outfile}'`, ['missing_right']],
    [`SELECT * FROM (SELECT id FROM sentinel) s INTO OUTFILE '${outfile}'`, ['missing_right']],
    ['SELECT id FROM sentinel LIMIT 1 INTO @stolen', ['missing_right']],
    ['SET STATEMENT max_statement_time=0 FOR SELECT SLEEP(3)', ['sql_error', 'missing_right']],
    ['SET max_statement_time = 0', ['missing_right']],
    ['SET @v = 1', ['missing_right']],
    ['SELECT @v := label FROM sentinel', ['missing_right']],
    [`SELECT GET_LOCK('${lock}', 0) AS got`, ['missing_right']],
    [`SELECT id FROM sentinel WHERE GET_LOCK('${lock}', 0) = 1`, ['missing_right']],
    [`SELECT lower(IS_USED_LOCK('${lock}')) AS holder`, ['missing_right']],
    ['SELECT RELEASE_ALL_LOCKS()', ['missing_right']],
    ['SELECT SLEEP(3)', ['missing_right']],
    ['SELECT * FROM (SELECT SLEEP(3) AS s) x', ['missing_right']],
    ["SELECT BENCHMARK(100000000, MD5('x'))", ['missing_right']],
    ['DO SLEEP(3)', ['sql_error', 'missing_right']],
    ["SELECT LOAD_FILE('/etc/hostname') AS f", ['missing_right']],
    ["SELECT id FROM sentinel UNION SELECT LOAD_FILE('/etc/passwd')", ['missing_right']],
    ["SELECT MASTER_POS_WAIT('x', 1, 1)", ['missing_right']],
    ["SELECT MASTER_GTID_WAIT('0-1-1', 1)", ['missing_right']],
    ["SELECT sys_exec('touch /tmp/atrium-pwned')", ['missing_right']],
    ['SELECT NEXTVAL(seq)', ['missing_right']],
    ['SELECT LAST_INSERT_ID(42)', ['missing_right']],
    ['SELECT * FROM sentinel FOR UPDATE', ['missing_right']],
    ["LOAD DATA INFILE '/etc/passwd' INTO TABLE sentinel", ['missing_right']],
    ['LOCK TABLES sentinel WRITE', ['missing_right']],
    ['HANDLER sentinel OPEN', ['sql_error', 'missing_right']],
    ['FLUSH TABLES', ['sql_error', 'missing_right']],
    ['KILL 1', ['sql_error', 'missing_right']],
    ["GRANT ALL ON *.* TO 'nobody'", ['missing_right']],
    ['CALL sentinel_proc()', ['missing_right']],
    ["PREPARE s FROM 'DELETE FROM sentinel'", ['sql_error', 'missing_right']],
    ['SHOW PROCESSLIST', ['missing_right']],
    ['SHOW GRANTS', ['missing_right']],
    ['SHOW DATABASES', ['missing_right']],
    // other databases and the server catalogues
    ['SELECT * FROM information_schema.processlist', ['schema_not_exposed']],
    ['SELECT table_schema FROM INFORMATION_SCHEMA.TABLES', ['schema_not_exposed']],
    ['SELECT user, host FROM mysql.user', ['schema_not_exposed']],
    ['SELECT * FROM `mysql`.`user`', ['schema_not_exposed']],
    ['SELECT * FROM performance_schema.threads', ['schema_not_exposed']],
    [`SELECT token FROM \`${other.name}\`.secret`, ['schema_not_exposed']],
    [`SELECT (SELECT token FROM \`${other.name}\`.secret LIMIT 1) AS t FROM sentinel`, ['schema_not_exposed']],
    [`SELECT s.id FROM sentinel s JOIN \`${other.name}\`.secret x ON x.id = s.id`, ['schema_not_exposed']],
    [`SELECT id FROM sentinel WHERE id IN (SELECT id FROM \`${other.name}\`.secret)`, ['schema_not_exposed']],
    [`USE \`${other.name}\``, ['schema_not_exposed']],
    ['SHOW COLUMNS FROM mysql.user', ['schema_not_exposed']],
    ['EXPLAIN SELECT * FROM mysql.user', ['schema_not_exposed']],
    ['SELECT mysql.some_function(1)', ['schema_not_exposed']],
  ]

  await t.test('a read key: every smuggling variant is refused with a 4xx and a stable code, quickly', async () => {
    for (const [payload, expected] of attacks) {
      const started = Date.now()
      const res = await sql(reader.key, payload)
      const label = `${JSON.stringify(payload)} → ${res.status} ${JSON.stringify(res.body)}`
      assert.ok(res.status === 400 || res.status === 403, label)
      assert.equal(res.body.status, 'error', label)
      assert.ok(expected.includes(res.body.code), label)
      // nothing ran: the SLEEP(3) variants did not sleep
      assert.ok(Date.now() - started < 2500, `${label} took ${Date.now() - started} ms`)
    }
    await assertSentinelUnchanged()
  })

  await t.test('the refusals name the construct and what to write instead', async () => {
    const comment = await sql(reader.key, '/*! DROP TABLE sentinel */ SELECT 1')
    assert.match(comment.body.message, /executable comment/)
    assert.match(comment.body.message, /without the comment markers/)
    const dashes = await sql(reader.key, 'SELECT 1 --1')
    assert.match(dashes.body.message, /put a space after --/)
    const foreign = await sql(reader.key, 'SELECT user FROM mysql.user')
    assert.equal(foreign.status, 403)
    assert.match(foreign.body.message, new RegExp(`own database "${db.name}", not "mysql"`))
  })

  await t.test('no file was written and no named lock is held afterwards', async () => {
    assert.equal(existsSync(outfile), false)
    const loaded = await sql(undefined, `SELECT LOAD_FILE('${outfile}') IS NULL AS missing`)
    assert.equal(loaded.status, 200, JSON.stringify(loaded.body))
    assert.deepEqual(loaded.body.data, [{ missing: 1 }])
    const probe = await mysql.createConnection({ uri: MYSQL_ADMIN_URL })
    try {
      const [rows] = await probe.query('SELECT IS_FREE_LOCK(?) AS free', [lock])
      assert.deepEqual(rows, [{ free: 1 }])
    } finally {
      await probe.end()
    }
  })

  await t.test('keys with every SQL right still cannot reach other databases', async () => {
    for (const key of [writer.key, owner.key]) {
      for (const payload of ['SELECT user FROM mysql.user', `SELECT token FROM \`${other.name}\`.secret`, `INSERT INTO sentinel SELECT id, token FROM \`${other.name}\`.secret`, `CREATE TABLE pwned AS SELECT 1 AS id FROM information_schema.tables`]) {
        const res = await sql(key, payload)
        assert.ok(res.status === 403 || res.status === 400, `${payload} → ${res.status} ${JSON.stringify(res.body)}`)
        assert.ok(['schema_not_exposed', 'sql_error'].includes(res.body.code), `${payload} → ${JSON.stringify(res.body)}`)
      }
    }
    // statements the parser cannot read run for the admin key only
    const unreadable = await sql(owner.key, "CREATE OR REPLACE TABLE pwned AS SELECT token FROM mysql.user")
    assert.equal(unreadable.status, 400)
    assert.equal(unreadable.body.code, 'sql_error')
    assert.match(unreadable.body.message, /cannot read this SQL/)
    await assertSentinelUnchanged()
  })

  await t.test('the admin key may read the server catalogues', async () => {
    const res = await sql(undefined, "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'sentinel'")
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.deepEqual(res.body.data, [{ n: 1 }])
  })

  // [query, rows]: ordinary reads must survive the parse and re-emit round trip unchanged in meaning
  const reads: Array<[string, unknown[]]> = [
    ['SELECT c.name, count(*) AS n FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY c.name',
      [{ name: 'Ada', n: 2 }, { name: 'Grace', n: 1 }, { name: 'Linus', n: 1 }]],
    ['SELECT c.name FROM customers c LEFT JOIN orders o ON o.customer_id = c.id AND o.status = \'cancelled\' WHERE o.id IS NULL ORDER BY c.id',
      [{ name: 'Ada' }, { name: 'Grace' }]],
    ["SELECT id FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE tier = 'gold') ORDER BY id", [{ id: 1 }, { id: 2 }]],
    ['SELECT x.n FROM (SELECT count(*) AS n FROM order_items) x', [{ n: 5 }]],
    ['SELECT id FROM orders ORDER BY id LIMIT 2 OFFSET 1', [{ id: 2 }, { id: 3 }]],
    ['SELECT id FROM orders ORDER BY id DESC LIMIT 1, 2', [{ id: 3 }, { id: 2 }]],
    ['SELECT `status`, count(*) AS n FROM orders GROUP BY `status` HAVING count(*) > 1', [{ status: 'paid', n: 2 }]],
    ["SELECT JSON_UNQUOTE(JSON_EXTRACT(attrs, '$.color')) AS color, JSON_LENGTH(tags) AS tags FROM products WHERE id = 1", [{ color: 'red', tags: 2 }]],
    ["SELECT name FROM products WHERE JSON_CONTAINS(tags, '\"office\"') ORDER BY id", [{ name: 'Desk' }, { name: 'Pen' }]],
    ['SELECT `name` AS `the name` FROM `customers` WHERE `id` = 2', [{ 'the name': 'Grace' }]],
    ["SELECT 'it''s' AS a, 'tab\\there' AS b, 'new\\nline' AS c, '50%' AS d", [{ a: "it's", b: 'tab\there', c: 'new\nline', d: '50%' }]],
    ["SELECT label FROM sentinel WHERE label LIKE '%''s%'", [{ label: "it's me" }]],
    ["SELECT '/*! not a comment */' AS s, '-- nor this' AS t, '#' AS u -- a real comment", [{ s: '/*! not a comment */', t: '-- nor this', u: '#' }]],
    ['SELECT 1 AS one # a hash comment\n', [{ one: 1 }]],
    ['SELECT /* a plain comment */ 2 AS two', [{ two: 2 }]],
    ['SELECT 3 - -1 AS four, 3 - - 1 AS also_four', [{ four: 4, also_four: 4 }]],
    ["SELECT DATE_FORMAT(placed_at, '%Y-%m-%d') AS d FROM orders WHERE placed_at >= '2024-02-02' ORDER BY id", [{ d: '2024-02-02' }, { d: '2024-02-03' }]],
    ["SELECT id FROM orders WHERE placed_at < DATE '2024-02-01' + INTERVAL 1 DAY ORDER BY id", [{ id: 1 }, { id: 2 }]],
    ["SELECT name FROM customers WHERE id = 1 UNION SELECT name FROM products WHERE id = 2 ORDER BY name", [{ name: 'Ada' }, { name: 'Desk' }]],
    ["WITH paid AS (SELECT * FROM orders WHERE status = 'paid') SELECT count(*) AS n FROM paid", [{ n: 2 }]],
    ["SELECT id FROM orders WHERE status IN ('paid', 'pending') AND note IS NULL ORDER BY id", [{ id: 2 }, { id: 3 }]],
    ['SELECT CASE WHEN total > 100 THEN \'big\' ELSE \'small\' END AS size FROM orders WHERE id = 2', [{ size: 'big' }]],
    ["SELECT CONCAT(name, ' <', COALESCE(email, '?'), '>') AS who FROM customers WHERE id = 3", [{ who: 'Linus <?>' }]],
    ['SELECT CAST(total AS CHAR) AS t FROM orders WHERE id = 3', [{ t: '2.50' }]],
    ['SELECT LAST_INSERT_ID() AS id, DATABASE() = DATABASE() AS same', [{ id: 0, same: 1 }]],
    [`SELECT count(*) AS n FROM \`${db.name}\`.orders`, [{ n: 4 }]],
  ]

  await t.test('ordinary reads still return the right rows for the read key', async () => {
    for (const [query, rows] of reads) {
      const res = await sql(reader.key, query)
      assert.equal(res.status, 200, `${query} → ${res.status} ${JSON.stringify(res.body)}`)
      assert.equal(res.body.meta.sql_class, 'read', query)
      assert.deepEqual(res.body.data, rows, query)
    }
    const tables = await sql(reader.key, 'SHOW TABLES')
    assert.equal(tables.status, 200, JSON.stringify(tables.body))
    assert.ok(tables.body.data.some((r: Record<string, string>) => Object.values(r).includes('sentinel')))
  })

  await t.test('ordinary writes round-trip for a write key; SQL the parser cannot read is a clear 400', async () => {
    const multi = await sql(writer.key, "INSERT INTO sentinel (id, label) VALUES (10, 'a'), (11, 'b\\'c')")
    assert.equal(multi.status, 400, 'a backslash-escaped quote is refused')
    assert.equal(multi.body.code, 'ambiguous_sql')
    const insert = await sql(writer.key, "INSERT INTO sentinel (id, label) VALUES (10, 'a'), (11, 'b''c')")
    assert.equal(insert.status, 200, JSON.stringify(insert.body))
    assert.equal(insert.body.meta.rows_affected, 2)
    const upsert = await sql(writer.key, "INSERT INTO sentinel (id, label) VALUES (10, 'x') ON DUPLICATE KEY UPDATE label = VALUES(label)")
    assert.equal(upsert.status, 200, JSON.stringify(upsert.body))
    const update = await sql(writer.key, "UPDATE sentinel SET label = CONCAT(label, '!') WHERE id >= 10")
    assert.equal(update.status, 200, JSON.stringify(update.body))
    assert.deepEqual(await db.query('SELECT id, label FROM sentinel WHERE id >= 10 ORDER BY id'), [{ id: 10, label: 'x!' }, { id: 11, label: "b'c!" }])
    const limited = await sql(writer.key, "UPDATE sentinel SET label = 'y' WHERE id >= 10 ORDER BY id DESC LIMIT 1")
    assert.equal(limited.status, 200, JSON.stringify(limited.body))
    assert.deepEqual(await db.query('SELECT id, label FROM sentinel WHERE id >= 10 ORDER BY id'), [{ id: 10, label: 'x!' }, { id: 11, label: 'y' }])
    const unreadable = await sql(writer.key, "INSERT INTO sentinel VALUES (12, 'z') RETURNING id, label; SELECT NEXT VALUE FOR nope")
    assert.equal(unreadable.status, 400, JSON.stringify(unreadable.body))
    assert.equal(unreadable.body.code, 'sql_error')
    const removed = await sql(writer.key, 'DELETE FROM sentinel WHERE id >= 10')
    assert.equal(removed.status, 200, JSON.stringify(removed.body))
    await assertSentinelUnchanged()
  })
})
