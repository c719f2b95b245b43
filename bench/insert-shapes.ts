// Statement shapes for a 1,000-row bulk insert, measured on PostgreSQL alone (no HTTP): the multi-row VALUES a
// hand-written server sends, the one-JSON-parameter json_populate_recordset statement, and unnest over one
// array per column. Two targets: a bare heap (the bench fixture's items_ins) and a table with an identity
// primary key that the rows do not name (what an application's table usually is).
//   node --import tsx bench/insert-shapes.ts [--batches=40]
import pg from 'pg'
import { PG_ADMIN } from './fixture.js'

const DB = 'atrium_bench_shapes'
const ROWS = 1000
const batches = Number(process.argv.find((a) => a.startsWith('--batches='))?.split('=')[1] ?? 40)
const COLS = ['name', 'category', 'price', 'in_stock', 'created_at'] as const
const TYPES = ['text', 'text', 'numeric', 'boolean', 'timestamptz']

const rowsOf = (n: number) => Array.from({ length: ROWS }, (_, i) => ({
  id: n * ROWS + i + 1, name: `item ${i}`, category: `cat${i % 20}`, price: (i % 1000) + 0.99, in_stock: i % 3 !== 0, created_at: '2024-01-01T00:00:00Z',
}))

type Shape = (table: string, cols: string[], rows: Array<Record<string, unknown>>) => [string, unknown[]]
const shapes: Record<string, Shape> = {
  values: (table, cols, rows) => {
    const params: unknown[] = []
    const tuples = rows.map((r, i) => `(${cols.map((c, j) => { params.push(r[c]); return `$${i * cols.length + j + 1}` }).join(',')})`)
    return [`INSERT INTO ${table} (${cols.join(',')}) VALUES ${tuples.join(',')}`, params]
  },
  json_populate_recordset: (table, cols, rows) =>
    [`INSERT INTO ${table} (${cols.join(',')}) SELECT ${cols.join(',')} FROM json_populate_recordset(NULL::${table}, $1::json)`, [JSON.stringify(rows)]],
  // what Prefer: missing=default compiled to before: one jsonb_populate_record per row, a CASE per column
  jsonb_per_row_defaults: (table, cols, rows) => {
    const values = cols.map((c) => `CASE WHEN _j.r ? '${c}' THEN _p.${c} ELSE NULL END`)
    return [`INSERT INTO ${table} (${cols.join(',')}) SELECT ${values.join(', ')} FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS _j(r, n), LATERAL jsonb_populate_record(NULL::${table}, _j.r) AS _p ORDER BY _j.n`, [JSON.stringify(rows)]]
  },
  unnest: (table, cols, rows) => {
    const types = cols.map((c) => (c === 'id' ? 'bigint' : TYPES[COLS.indexOf(c as (typeof COLS)[number])]))
    return [`INSERT INTO ${table} (${cols.join(',')}) SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`, cols.map((c) => rows.map((r) => r[c]))]
  },
}

const admin = new pg.Client({ connectionString: PG_ADMIN })
await admin.connect()
await admin.query(`DROP DATABASE IF EXISTS ${DB}`)
await admin.query(`CREATE DATABASE ${DB}`)
const c = new pg.Client({ connectionString: PG_ADMIN.replace(/\/[^/]*$/, `/${DB}`) })
await c.connect()
await c.query(`CREATE TABLE heap (id bigint, name text, category text, price numeric(10,2), in_stock boolean, created_at timestamptz);
  CREATE TABLE keyed (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, category text NOT NULL, price numeric(10,2) NOT NULL,
    in_stock boolean NOT NULL, created_at timestamptz NOT NULL)`)
const targets: Array<[string, string[]]> = [['heap', ['id', ...COLS]], ['keyed', [...COLS]]]
const results: Record<string, Record<string, number>> = {}
for (let round = 0; round < 3; round++) {
  for (const [table, cols] of targets) {
    for (const [name, shape] of round % 2 ? Object.entries(shapes).reverse() : Object.entries(shapes)) {
      await c.query(`TRUNCATE ${table}`)
      const started = performance.now()
      for (let b = 0; b < batches; b++) {
        const [sql, params] = shape(table, cols, rowsOf(b))
        await c.query(sql, params)
      }
      const rate = (batches * ROWS) / ((performance.now() - started) / 1000)
      ;(results[table] ??= {})[name] = Math.max(results[table][name] ?? 0, rate)
    }
  }
}
for (const [table, byShape] of Object.entries(results)) {
  const base = byShape.values
  console.log(`${table}: ${Object.entries(byShape).map(([n, r]) => `${n} ${Math.round(r)} rows/s (${(r / base).toFixed(2)}×)`).join(', ')}`)
}
await c.end()
await admin.query(`DROP DATABASE ${DB}`)
await admin.end()
