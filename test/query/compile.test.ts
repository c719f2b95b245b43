import assert from 'node:assert/strict'
import { STAR, type DeleteQuery, type InsertQuery, type ReadQuery, type RpcQuery, type UpdateQuery } from '../../src/query/ast.js'
import type { Compiled, QueryCompiler } from '../../src/query/compile/compiled.js'
import { MysqlQueryCompiler } from '../../src/query/compile/mysql-query-compiler.js'
import { MYSQL } from '../../src/query/dialect.js'
import { parsePostgrestQuery, queryPairs } from '../../src/query/parse/postgrest.js'
import { compilerFor, executorFor, plan } from '../../src/query/pipeline.js'
import type { Runner } from '../../src/query/run/runner.js'
import type { Row, Statement } from '../../src/sources/driver.js'
import { Source } from '../../src/sources/source.js'
import type { DialectName } from '../helpers/databases.js'
import { forEachDialect } from '../helpers/dialects.js'

// The compile stage, pinned: for each planned query (planned by the real planner against the shop fixture's
// real schema), the exact statements and parameters each dialect compiles, and then what those statements
// answer when run on a fresh database of that dialect. A change to the SQL shows up here as a diff of text;
// a change that alters results shows up as other rows. On MySQL the database's name is written `<db>`.

/** every statement of a compiled query, by the part it plays; `readBack` fills in a read-back by primary key */
type Pinned = Record<string, [string, unknown[]]>

function statementsOf(c: Compiled, dbName: string, readBack?: [Row[], Row[]?]): Pinned {
  const out: Pinned = {}
  const put = (part: string, stmt: Statement | undefined) => {
    if (stmt) out[part] = [stmt.sql.replaceAll(dbName, '<db>'), [...stmt.params]]
  }
  switch (c.kind) {
    case 'read': put('page', c.page); break
    case 'stream': put('rows', c.rows); put('total', c.total); break
    case 'write':
      put('collisions', c.collisions)
      put('lockKeys', c.lockKeys)
      put('write', c.write)
      if (c.readBack && readBack) put('readBack', c.readBack(...readBack))
      break
    case 'rpc': put('call', c.call); break
    case 'count': break
  }
  const total = c.kind === 'read' || c.kind === 'rpc' || c.kind === 'count' ? c.total : undefined
  if (total && total.kind !== 'in-result') put(`total (${total.kind})`, total.stmt)
  // what runs instead when the estimate is too small to stand in for the total
  if (total?.kind === 'estimate' && total.exact) Object.assign(out, Object.fromEntries(Object.entries(statementsOf(total.exact, dbName)).map(([k, v]) => [`exact ${k}`, v])))
  return out
}

interface Case {
  name: string
  compile(compiler: QueryCompiler, planned: (ast: ReadQuery | InsertQuery | UpdateQuery | DeleteQuery | RpcQuery) => Promise<any>): Promise<Compiled>
  /** the keys (and keys left out) a write's read-back is compiled for: those the database answers in this run */
  readBack?: [Row[], Row[]?]
  sql: Partial<Record<DialectName, Pinned>>
  /** what the runner answers: rows (JSON) and, where it matters, the total or the rows written */
  result: Partial<Record<DialectName, unknown>> & { both?: unknown }
  /** a case of one dialect only */
  only?: DialectName
  /** the planner refuses this query on a dialect: the error code */
  refused?: Partial<Record<DialectName, string>>
}

const read = (relation: string, query: string, extra: Partial<ReadQuery> = {}): ReadQuery => {
  const q = parsePostgrestQuery(queryPairs(`/x?${query}`))
  return { kind: 'read', relation: { name: relation }, select: q.select, where: q.where, order: q.order, limit: q.limit, offset: q.offset, ...extra }
}

async function runCompiled(runner: Runner, c: Compiled): Promise<unknown> {
  switch (c.kind) {
    case 'read': {
      const r = await runner.read(c)
      return { rows: JSON.parse(r.body), total: r.total }
    }
    case 'count': return { total: await runner.count(c) }
    case 'stream': {
      const r = await runner.stream(c, 100)
      if (!('small' in r)) throw new Error('expected a small result')
      return { rows: JSON.parse(r.small.body), total: r.small.total }
    }
    case 'write': {
      const r = await runner.write(c)
      return { rows: JSON.parse(r.body), affected: r.affected }
    }
    case 'rpc': {
      const r = await runner.rpc(c)
      return { value: JSON.parse(r.body), total: r.total }
    }
  }
}

const CASES: Case[] = [
  {
    name: 'select with filters, order and limit',
    compile: async (c, p) => c.read(await p(read('orders', 'select=id,status,total&status=eq.paid&total=gt.1&order=id.desc&limit=2'))),
    sql: {
      postgres: {
        page: [
          `SELECT coalesce(json_agg(_r), '[]')::text AS body, count(*)::int AS rows FROM (SELECT "t0"."id" AS "id", "t0"."status" AS "status", "t0"."total" AS "total" FROM "public"."orders" AS "t0" WHERE "t0"."status" = $1 AND "t0"."total" > $2 ORDER BY "t0"."id" DESC LIMIT $3) _r`,
          ['paid', '1', 2],
        ],
      },
      mysql: {
        page: [
          'SELECT `t0`.`id` AS `id`, `t0`.`status` AS `status`, `t0`.`total` AS `total` FROM `<db>`.`orders` AS `t0` WHERE `t0`.`status` = ? AND `t0`.`total` > ? ORDER BY `t0`.`id` DESC LIMIT ?',
          ['paid', '1', 2],
        ],
      },
    },
    result: { both: { rows: [{ id: 3, status: 'paid', total: 2.5 }, { id: 1, status: 'paid', total: 21.24 }], total: undefined } },
  },
  {
    name: 'an or tree, a negation and an offset',
    compile: async (c, p) => c.read(await p(read('customers', 'select=id,name&or=(tier.eq.gold,tier.is.null)&id=not.eq.2&order=name.asc.nullsfirst&offset=0&limit=5'))),
    sql: {
      postgres: {
        page: [
          `SELECT coalesce(json_agg(_r), '[]')::text AS body, count(*)::int AS rows FROM (SELECT "t0"."id" AS "id", "t0"."name" AS "name" FROM "public"."customers" AS "t0" WHERE ("t0"."tier" = $1 OR "t0"."tier" IS NULL) AND NOT ("t0"."id" = $2) ORDER BY "t0"."name" ASC NULLS FIRST LIMIT $3) _r`,
          ['gold', '2', 5],
        ],
      },
      mysql: {
        page: [
          'SELECT `t0`.`id` AS `id`, `t0`.`name` AS `name` FROM `<db>`.`customers` AS `t0` WHERE (`t0`.`tier` = ? OR `t0`.`tier` IS NULL) AND NOT (`t0`.`id` = ?) ORDER BY `t0`.`name` ASC LIMIT ?',
          ['gold', '2', 5],
        ],
      },
    },
    result: { both: { rows: [{ id: 1, name: 'Ada' }], total: undefined } },
  },
  {
    name: 'in-lists and like patterns',
    compile: async (c, p) => c.read(await p(read('customers', 'select=id,name&id=in.(1,3,4)&name=like.*a*&order=id'))),
    sql: {
      postgres: {
        page: [
          `SELECT coalesce(json_agg(_r), '[]')::text AS body, count(*)::int AS rows FROM (SELECT "t0"."id" AS "id", "t0"."name" AS "name" FROM "public"."customers" AS "t0" WHERE "t0"."id" = ANY($1) AND "t0"."name" LIKE $2 ORDER BY "t0"."id" ASC) _r`,
          [['1', '3', '4'], '%a%'],
        ],
      },
      mysql: {
        page: [
          'SELECT `t0`.`id` AS `id`, `t0`.`name` AS `name` FROM `<db>`.`customers` AS `t0` WHERE `t0`.`id` IN (?, ?, ?) AND `t0`.`name` LIKE ? ORDER BY `t0`.`id` ASC',
          ['1', '3', '4', '%a%'],
        ],
      },
    },
    result: { both: { rows: [{ id: 1, name: 'Ada' }], total: undefined } },
  },
  {
    name: 'embeds: a to-one and a to-many with its own filter and order',
    compile: async (c, p) => c.read(await p(read('orders', 'select=id,customers(name),order_items(product_id,qty)&order_items.order=product_id.desc&id=lte.2&order=id'))),
    sql: {
      postgres: {
        page: [
          `SELECT coalesce(json_agg(_r), '[]')::text AS body, count(*)::int AS rows FROM (SELECT "t0"."id" AS "id", "e1".v AS "customers", "e4".v AS "order_items" FROM "public"."orders" AS "t0" LEFT JOIN LATERAL (SELECT row_to_json(_e3) AS v FROM (SELECT "t2"."name" AS "name" FROM "public"."customers" AS "t2" WHERE "t2"."id" = "t0"."customer_id") AS _e3) AS "e1" ON TRUE LEFT JOIN LATERAL (SELECT coalesce(json_agg(_e6), '[]'::json) AS v FROM (SELECT "t5"."product_id" AS "product_id", "t5"."qty" AS "qty" FROM "public"."order_items" AS "t5" WHERE "t5"."order_id" = "t0"."id" ORDER BY "t5"."product_id" DESC) AS _e6) AS "e4" ON TRUE WHERE "t0"."id" <= $1 ORDER BY "t0"."id" ASC) _r`,
          ['2'],
        ],
      },
      mysql: {
        page: [
          'SELECT `t0`.`id` AS `id`, (SELECT JSON_OBJECT(?, `t1`.`name`) FROM `<db>`.`customers` AS `t1` WHERE `t1`.`id` = `t0`.`customer_id` LIMIT 1) AS `customers`, (SELECT COALESCE(JSON_ARRAYAGG(JSON_OBJECT(?, `t2`.`product_id`, ?, `t2`.`qty`) ORDER BY `t2`.`product_id` DESC), JSON_ARRAY()) FROM `<db>`.`order_items` AS `t2` WHERE `t2`.`order_id` = `t0`.`id`) AS `order_items` FROM `<db>`.`orders` AS `t0` WHERE `t0`.`id` <= ? ORDER BY `t0`.`id` ASC',
          ['name', 'product_id', 'qty', '2'],
        ],
      },
    },
    result: {
      both: {
        rows: [
          { id: 1, customers: { name: 'Ada' }, order_items: [{ product_id: 3, qty: 1 }, { product_id: 1, qty: 1 }] },
          { id: 2, customers: { name: 'Ada' }, order_items: [{ product_id: 2, qty: 1 }] },
        ],
        total: undefined,
      },
    },
  },
  {
    name: 'aggregates inside a to-many embed, grouped per parent row by the embed\'s other columns',
    compile: async (c, p) => c.read(await p(read('customers', 'select=id,orders(status,n:count(),total.sum())&orders.order=status&order=id'))),
    sql: {
      postgres: {
        page: [
          `SELECT coalesce(json_agg(_r), '[]')::text AS body, count(*)::int AS rows FROM (SELECT "t0"."id" AS "id", "e1".v AS "orders" FROM "public"."customers" AS "t0" LEFT JOIN LATERAL (SELECT coalesce(json_agg(_e3), '[]'::json) AS v FROM (SELECT "t2"."status" AS "status", count(*) AS "n", sum("t2"."total") AS "sum" FROM "public"."orders" AS "t2" WHERE "t2"."customer_id" = "t0"."id" GROUP BY "t2"."status" ORDER BY "t2"."status" ASC) AS _e3) AS "e1" ON TRUE ORDER BY "t0"."id" ASC) _r`,
          [],
        ],
      },
      // no LATERAL on MariaDB: every customer's groups, keyed by the join column, and each customer reads its own
      mysql: {
        page: [
          'SELECT `t0`.`id` AS `id`, (SELECT COALESCE(JSON_ARRAYAGG(JSON_OBJECT(?, `g3`.`status`, ?, `g3`.`_a1`, ?, `g3`.`_a2`) ORDER BY `g3`.`status` ASC), JSON_ARRAY()) FROM (SELECT `t2`.`customer_id` AS `_k0`, `t2`.`status` AS `status`, COUNT(*) AS `_a1`, SUM(`t2`.`total`) AS `_a2` FROM `<db>`.`orders` AS `t2` GROUP BY `t2`.`customer_id`, `t2`.`status`) AS `g3` WHERE `g3`.`_k0` = `t0`.`id`) AS `orders` FROM `<db>`.`customers` AS `t0` ORDER BY `t0`.`id` ASC',
          ['status', 'n', 'sum'],
        ],
      },
    },
    result: {
      both: {
        rows: [
          { id: 1, orders: [{ status: 'paid', n: 1, sum: 21.24 }, { status: 'pending', n: 1, sum: 149.5 }] },
          { id: 2, orders: [{ status: 'paid', n: 1, sum: 2.5 }] },
          { id: 3, orders: [{ status: 'cancelled', n: 1, sum: 19.99 }] },
        ],
        total: undefined,
      },
    },
  },
  {
    name: 'JSON paths in select and filter',
    compile: async (c, p) => c.read(await p(read('products', 'select=id,color:attrs->>color&attrs->>color=eq.red'))),
    sql: {
      postgres: {
        page: [
          `SELECT coalesce(json_agg(_r), '[]')::text AS body, count(*)::int AS rows FROM (SELECT "t0"."id" AS "id", "t0"."attrs"->>$1::text AS "color" FROM "public"."products" AS "t0" WHERE "t0"."attrs"->>$2::text = $3) _r`,
          ['color', 'color', 'red'],
        ],
      },
    },
    result: { postgres: { rows: [{ id: 1, color: 'red' }], total: undefined } },
    refused: { mysql: 'unsupported_feature' },
  },
  {
    name: 'a page with its exact total',
    compile: async (c, p) => c.read(await p(read('orders', 'select=id&status=eq.paid&order=id&limit=1')), 'exact'),
    sql: {
      postgres: {
        page: [
          `SELECT coalesce(json_agg(_r), '[]')::text AS body, count(*)::int AS rows, (SELECT count(*) FROM "public"."orders" AS "t0" WHERE "t0"."status" = $1) AS total FROM (SELECT "t0"."id" AS "id" FROM "public"."orders" AS "t0" WHERE "t0"."status" = $1 ORDER BY "t0"."id" ASC LIMIT $2) _r`,
          ['paid', 1],
        ],
      },
      mysql: {
        page: [
          'SELECT `t0`.`id` AS `id` FROM `<db>`.`orders` AS `t0` WHERE `t0`.`status` = ? ORDER BY `t0`.`id` ASC LIMIT ?',
          ['paid', 1],
        ],
        'total (count)': [
          'SELECT COUNT(*) AS n FROM `<db>`.`orders` AS `t0` WHERE `t0`.`status` = ?',
          ['paid'],
        ],
      },
    },
    result: { both: { rows: [{ id: 1 }], total: 2 } },
  },
  {
    name: 'a count on its own',
    compile: async (c, p) => c.count(await p(read('orders', 'select=id&total=lt.100')), 'exact'),
    sql: {
      postgres: {
        'total (count)': [
          'SELECT count(*) FROM "public"."orders" AS "t0" WHERE "t0"."total" < $1',
          ['100'],
        ],
      },
      mysql: {
        'total (count)': [
          'SELECT COUNT(*) AS n FROM `<db>`.`orders` AS `t0` WHERE `t0`.`total` < ?',
          ['100'],
        ],
      },
    },
    result: { both: { total: 3 } },
  },
  {
    name: 'an estimated count: the planner first, the exact total while it guesses few rows',
    compile: async (c, p) => c.read(await p(read('orders', 'select=id&status=eq.paid&order=id&limit=1')), 'estimated'),
    sql: {
      postgres: {
        page: [
          `SELECT coalesce(json_agg(_r), '[]')::text AS body, count(*)::int AS rows FROM (SELECT "t0"."id" AS "id" FROM "public"."orders" AS "t0" WHERE "t0"."status" = $1 ORDER BY "t0"."id" ASC LIMIT $2) _r`,
          ['paid', 1],
        ],
        'total (estimate)': [
          'EXPLAIN (FORMAT JSON) SELECT 1 FROM "public"."orders" AS "t0" WHERE "t0"."status" = $1',
          ['paid'],
        ],
        'exact page': [
          `SELECT coalesce(json_agg(_r), '[]')::text AS body, count(*)::int AS rows, (SELECT count(*) FROM "public"."orders" AS "t0" WHERE "t0"."status" = $1) AS total FROM (SELECT "t0"."id" AS "id" FROM "public"."orders" AS "t0" WHERE "t0"."status" = $1 ORDER BY "t0"."id" ASC LIMIT $2) _r`,
          ['paid', 1],
        ],
      },
      mysql: {
        page: [
          'SELECT `t0`.`id` AS `id` FROM `<db>`.`orders` AS `t0` WHERE `t0`.`status` = ? ORDER BY `t0`.`id` ASC LIMIT ?',
          ['paid', 1],
        ],
        'total (count)': [
          'SELECT COUNT(*) AS n FROM `<db>`.`orders` AS `t0` WHERE `t0`.`status` = ?',
          ['paid'],
        ],
      },
    },
    result: { both: { rows: [{ id: 1 }], total: 2 } },
  },
  {
    name: 'a large read through a cursor, counted in its snapshot',
    compile: async (c, p) => c.stream(await p(read('messages', 'select=id,body&order=id'))),
    sql: {
      postgres: {
        rows: [
          'SELECT row_to_json(_r)::text FROM (SELECT "t0"."id" AS "id", "t0"."body" AS "body" FROM "public"."messages" AS "t0" ORDER BY "t0"."id" ASC) _r',
          [],
        ],
        total: [
          'SELECT count(*) FROM "public"."messages" AS "t0"',
          [],
        ],
      },
      mysql: {
        rows: [
          'SELECT `t0`.`id` AS `id`, `t0`.`body` AS `body` FROM `<db>`.`messages` AS `t0` ORDER BY `t0`.`id` ASC',
          [],
        ],
        total: [
          'SELECT COUNT(*) AS n FROM `<db>`.`messages` AS `t0`',
          [],
        ],
      },
    },
    result: { both: { rows: [{ id: 1, body: 'hello' }, { id: 2, body: 'hi back' }, { id: 3, body: 'ping' }], total: 3 } },
  },
  {
    name: 'a scalar function call',
    compile: async (c, p) => c.rpc(await p({ kind: 'rpc', fn: { name: 'order_total' }, args: { customer: 1 }, select: [STAR], where: [], order: [], readOnly: true })),
    sql: {
      postgres: {
        call: [
          'SELECT to_json("public"."order_total"("customer" := $1::bigint))::text, 1',
          [1],
        ],
      },
      mysql: {
        call: [
          'SELECT `<db>`.`order_total`(?) AS v',
          [1],
        ],
      },
    },
    result: { both: { value: 170.74, total: undefined } },
  },
  {
    name: 'a set-returning call, counted',
    compile: async (c, p) => c.rpc(await p({ kind: 'rpc', fn: { name: 'orders_of' }, args: { customer: 2 }, select: [STAR], where: [], order: [], readOnly: true }), 'exact'),
    sql: {
      postgres: {
        call: [
          `WITH "atrium_rpc_rows" AS (SELECT * FROM "public"."orders_of"("customer" := $1::bigint)) SELECT coalesce(json_agg(_r), '[]')::text AS body, count(*)::int AS rows, (SELECT count(*) FROM "atrium_rpc_rows" AS "t0") AS total FROM (SELECT "t0".* FROM "atrium_rpc_rows" AS "t0") _r`,
          [2],
        ],
      },
      mysql: {
        call: [
          'CALL `<db>`.`orders_of`(?)',
          [2],
        ],
      },
    },
    result: {
      postgres: { value: [{ id: 3, customer_id: 2, status: 'paid', total: 2.5, placed_at: '2024-02-02T10:00:00+00:00', note: null }], total: 1 },
      // a MySQL procedure's rows are its own SELECT's; the count applies to PostgreSQL's set-returning functions
      mysql: { value: [{ id: 3, status: 'paid', total: 2.5 }], total: undefined },
    },
  },
  {
    name: 'insert returning chosen columns',
    compile: async (c, p) => c.insert(await p({ kind: 'insert', relation: { name: 'customers' }, rows: [{ id: 10, name: 'Zed', email: 'zed@example.com' }], missing: 'null', returning: read('x', 'select=id,name').select })),
    readBack: [[{ id: 10 }]],
    sql: {
      postgres: {
        write: [
          `WITH "atrium_written" AS (INSERT INTO "public"."customers" AS "m0" ("id", "name", "email") SELECT "id", "name", "email" FROM json_populate_recordset(NULL::"public"."customers", $1::json) RETURNING "m0".*) SELECT coalesce(json_agg(_r), '[]')::text, count(*)::int FROM (SELECT "t1"."id" AS "id", "t1"."name" AS "name" FROM "atrium_written" AS "t1") _r`,
          ['[{"id":10,"name":"Zed","email":"zed@example.com"}]'],
        ],
      },
      mysql: {
        write: [
          'INSERT INTO `<db>`.`customers` (`id`, `name`, `email`) VALUES (?, ?, ?) RETURNING `id`',
          [10, 'Zed', 'zed@example.com'],
        ],
        readBack: [
          'SELECT `t0`.`id` AS `id`, `t0`.`name` AS `name` FROM `<db>`.`customers` AS `t0` WHERE `t0`.`id` IN (?)',
          [10],
        ],
      },
    },
    result: { both: { rows: [{ id: 10, name: 'Zed' }], affected: 1 } },
  },
  {
    name: 'upsert: merge on the primary key',
    compile: async (c, p) => c.insert(await p({ kind: 'insert', relation: { name: 'customers' }, rows: [{ id: 10, name: 'Zoe' }], missing: 'null', onConflict: { action: 'merge' }, returning: read('x', 'select=id,name').select })),
    readBack: [[{ id: 10 }]],
    sql: {
      postgres: {
        write: [
          `WITH "atrium_written" AS (INSERT INTO "public"."customers" AS "m0" ("id", "name") SELECT "id", "name" FROM json_populate_recordset(NULL::"public"."customers", $1::json) ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name" RETURNING "m0".*) SELECT coalesce(json_agg(_r), '[]')::text, count(*)::int FROM (SELECT "t1"."id" AS "id", "t1"."name" AS "name" FROM "atrium_written" AS "t1") _r`,
          ['[{"id":10,"name":"Zoe"}]'],
        ],
      },
      mysql: {
        write: [
          'INSERT INTO `<db>`.`customers` (`id`, `name`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`) RETURNING `id`',
          [10, 'Zoe'],
        ],
        readBack: [
          'SELECT `t0`.`id` AS `id`, `t0`.`name` AS `name` FROM `<db>`.`customers` AS `t0` WHERE `t0`.`id` IN (?)',
          [10],
        ],
      },
    },
    result: { both: { rows: [{ id: 10, name: 'Zoe' }], affected: 1 } },
  },
  {
    name: 'upsert: ignore duplicates answers only the rows inserted',
    compile: async (c, p) => c.insert(await p({ kind: 'insert', relation: { name: 'customers' }, rows: [{ id: 10, name: 'dup' }, { id: 11, name: 'Kim' }], missing: 'null', onConflict: { action: 'ignore' }, returning: read('x', 'select=id,name').select })),
    readBack: [[{ id: 10 }, { id: 11 }], [{ id: 10 }]],
    sql: {
      postgres: {
        write: [
          `WITH "atrium_written" AS (INSERT INTO "public"."customers" AS "m0" ("id", "name") SELECT "id", "name" FROM json_populate_recordset(NULL::"public"."customers", $1::json) ON CONFLICT ("id") DO NOTHING RETURNING "m0".*) SELECT coalesce(json_agg(_r), '[]')::text, count(*)::int FROM (SELECT "t1"."id" AS "id", "t1"."name" AS "name" FROM "atrium_written" AS "t1") _r`,
          ['[{"id":10,"name":"dup"},{"id":11,"name":"Kim"}]'],
        ],
      },
      mysql: {
        collisions: [
          'SELECT `t0`.`id` FROM `<db>`.`customers` AS `t0` WHERE (`t0`.`id` IN (?, ?))',
          [10, 11],
        ],
        write: [
          'INSERT INTO `<db>`.`customers` (`id`, `name`) VALUES (?, ?), (?, ?) ON DUPLICATE KEY UPDATE `id` = `id` RETURNING `id`',
          [10, 'dup', 11, 'Kim'],
        ],
        readBack: [
          'SELECT `t0`.`id` AS `id`, `t0`.`name` AS `name` FROM `<db>`.`customers` AS `t0` WHERE `t0`.`id` IN (?, ?) AND NOT (`t0`.`id` IN (?))',
          [10, 11, 10],
        ],
      },
    },
    result: { both: { rows: [{ id: 11, name: 'Kim' }], affected: 1 } },
  },
  {
    // only MariaDB runs locally; the MySQL flavour's statements are plain MySQL, which MariaDB runs too
    name: 'insert on the MySQL flavour: no RETURNING, the keys come from the request',
    only: 'mysql',
    compile: async (_c, p) => new MysqlQueryCompiler(MYSQL).insert(await p({ kind: 'insert', relation: { name: 'customers' }, rows: [{ id: 12, name: 'Max' }], missing: 'null', returning: read('x', 'select=id,name').select })),
    readBack: [[{ id: 12 }]],
    sql: {
      mysql: {
        write: [
          'INSERT INTO `<db>`.`customers` (`id`, `name`) VALUES (?, ?)',
          [12, 'Max'],
        ],
        readBack: [
          'SELECT `t0`.`id` AS `id`, `t0`.`name` AS `name` FROM `<db>`.`customers` AS `t0` WHERE `t0`.`id` IN (?)',
          [12],
        ],
      },
    },
    result: { mysql: { rows: [{ id: 12, name: 'Max' }], affected: 1 } },
  },
  {
    name: 'update returning the rows written',
    compile: async (c, p) => c.update(await p({ kind: 'update', relation: { name: 'orders' }, set: { note: 'rush' }, where: read('x', 'id=eq.2').where, returning: read('x', 'select=id,note').select })),
    readBack: [[{ id: 2 }]],
    sql: {
      postgres: {
        write: [
          `WITH "atrium_written" AS (UPDATE "public"."orders" AS "m0" SET "note" = $1 WHERE "m0"."id" = $2 RETURNING "m0".*) SELECT coalesce(json_agg(_r), '[]')::text, count(*)::int FROM (SELECT "t1"."id" AS "id", "t1"."note" AS "note" FROM "atrium_written" AS "t1") _r`,
          ['rush', '2'],
        ],
      },
      mysql: {
        lockKeys: [
          'SELECT `t0`.`id` FROM `<db>`.`orders` AS `t0` WHERE `t0`.`id` = ? FOR UPDATE',
          ['2'],
        ],
        write: [
          'UPDATE `<db>`.`orders` AS `t0` SET `t0`.`note` = ? WHERE `t0`.`id` = ?',
          ['rush', '2'],
        ],
        readBack: [
          'SELECT `t0`.`id` AS `id`, `t0`.`note` AS `note` FROM `<db>`.`orders` AS `t0` WHERE `t0`.`id` IN (?)',
          [2],
        ],
      },
    },
    result: { both: { rows: [{ id: 2, note: 'rush' }], affected: 1 } },
  },
  {
    name: 'delete returning the rows removed',
    compile: async (c, p) => c.delete(await p({ kind: 'delete', relation: { name: 'messages' }, where: read('x', 'id=in.(2,3)').where, returning: read('x', 'select=id,body').select })),
    readBack: [[{ id: 2 }, { id: 3 }]],
    sql: {
      postgres: {
        write: [
          `WITH "atrium_written" AS (DELETE FROM "public"."messages" AS "m0" WHERE "m0"."id" = ANY($1) RETURNING "m0".*) SELECT coalesce(json_agg(_r), '[]')::text, count(*)::int FROM (SELECT "t1"."id" AS "id", "t1"."body" AS "body" FROM "atrium_written" AS "t1") _r`,
          [['2', '3']],
        ],
      },
      mysql: {
        lockKeys: [
          'SELECT `t0`.`id` FROM `<db>`.`messages` AS `t0` WHERE `t0`.`id` IN (?, ?) FOR UPDATE',
          ['2', '3'],
        ],
        write: [
          'DELETE `t0` FROM `<db>`.`messages` AS `t0` WHERE `t0`.`id` IN (?, ?)',
          ['2', '3'],
        ],
        readBack: [
          'SELECT `t0`.`id` AS `id`, `t0`.`body` AS `body` FROM `<db>`.`messages` AS `t0` WHERE `t0`.`id` IN (?, ?)',
          [2, 3],
        ],
      },
    },
    result: { both: { rows: [{ id: 2, body: 'hi back' }, { id: 3, body: 'ping' }], affected: 2 } },
  },
]

forEachDialect('compiled statements, pinned and run', async (t, db) => {
  const dialect = db.dialect
  await db.load('shop')
  await db.load('functions')
  const source = new Source({ name: 'shop', url: db.url, origin: 'config', pool: { max: 2, idleTimeoutMs: 1_000, connectionTimeoutMs: 5_000 } })
  try {
    await source.schema()
    const compiler = compilerFor(source)
    const runner = executorFor(source)
    const planned = async (ast: ReadQuery | InsertQuery | UpdateQuery | DeleteQuery | RpcQuery) => plan(source, ast as never)
    for (const c of CASES) {
      if (c.only && c.only !== dialect) continue
      await t.test(c.name, async () => {
        const refusal = c.refused?.[dialect]
        if (refusal) {
          await assert.rejects(c.compile(compiler, planned), (err: { code?: string }) => err.code === refusal)
          return
        }
        const compiled = await c.compile(compiler, planned)
        assert.deepEqual(statementsOf(compiled, db.name, c.readBack), c.sql[dialect])
        assert.deepEqual(await runCompiled(runner, compiled), c.result[dialect] ?? c.result.both)
      })
    }
  } finally {
    // before the database is dropped
    await source.close()
  }
})
