import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { createMysqlDatabase, createPgDatabase } from '../../helpers/databases.js'
import { supabaseFor } from '../../helpers/supabase.js'

type Result = { data: unknown; error: unknown; status: number }
const ok = (res: Result) => {
  assert.equal(res.error, null, JSON.stringify(res.error))
  return res.data
}

// rest.maxRows caps the rows of set-returning functions only; scalar results are one value, never limited.
test('/rest/v1/rpc with rest.maxRows on PostgreSQL', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  await db.load('functions')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_REST_MAX_ROWS: '2' } })
  const sb = supabaseFor(atrium.url, ADMIN_KEY, 'shop')

  await t.test('scalar functions answer their value (POST and GET)', async () => {
    assert.equal(ok(await sb.rpc('order_total' as never, { customer: 1 } as never)), 170.74)
    assert.equal(ok(await sb.rpc('order_total' as never, { customer: 2 } as never, { get: true })), 2.5)
    const write = await atrium.post('/rest/v1/rpc/set_note', { client: 'shop', body: { order_id: 3, new_note: 'capped' } })
    assert.equal(write.status, 200, write.text)
    assert.equal(write.body, 'capped')
  })

  await t.test('set-returning functions are capped, with and without a read shape', async () => {
    const table = await sb.rpc('big_spenders' as never, { minimum: 1 } as never).order('spent' as never, { ascending: true })
    assert.deepEqual(ok(table), [{ customer_name: 'Grace', spent: 2.5 }, { customer_name: 'Linus', spent: 19.99 }])
    const scalars = await atrium.get('/rest/v1/rpc/statuses', { client: 'shop' })
    assert.equal(scalars.status, 200, scalars.text)
    assert.deepEqual(scalars.body, ['cancelled', 'paid'])
    assert.equal(scalars.headers.get('content-range'), '0-1/*')
    const limited = await atrium.get('/rest/v1/rpc/statuses?limit=1', { client: 'shop' })
    assert.equal(limited.status, 400, 'a limit still does not apply to a SETOF scalar')
    const asked = await sb.rpc('big_spenders' as never, { minimum: 1 } as never).order('spent' as never).limit(10)
    assert.equal((ok(asked) as unknown[]).length, 2, 'a larger limit is capped')
  })

  await t.test('limits and filters on a scalar function are still refused', async () => {
    const res = await atrium.get('/rest/v1/rpc/order_total?customer=1&limit=1', { client: 'shop' })
    assert.equal(res.status, 400)
    assert.match(res.body.message, /does not return rows/)
  })

  await t.test('reads are capped as before', async () => {
    const res = await atrium.get('/rest/v1/orders?select=id&order=id', { client: 'shop' })
    assert.deepEqual(res.body, [{ id: 1 }, { id: 2 }])
  })
})

test('/rest/v1/rpc with rest.maxRows on MariaDB: functions answer, procedure rows are capped', async (t) => {
  const db = await createMysqlDatabase(t)
  await db.load('shop')
  await db.load('functions')
  await db.query('CREATE PROCEDURE all_orders() SELECT id FROM orders ORDER BY id')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_REST_MAX_ROWS: '2' } })
  const scalar = await atrium.post('/rest/v1/rpc/order_total', { client: 'shop', body: { customer: 1 } })
  assert.equal(scalar.status, 200, scalar.text)
  assert.equal(scalar.body, 170.74)
  const rows = await atrium.post('/rest/v1/rpc/all_orders', { client: 'shop', body: {}, headers: { prefer: 'count=exact' } })
  assert.equal(rows.status, 200, rows.text)
  assert.deepEqual(rows.body, [{ id: 1 }, { id: 2 }])
  assert.equal(rows.headers.get('content-range'), '0-1/*', 'MySQL routines are not counted')
  assert.equal(rows.headers.get('preference-applied'), null, 'so the count is not claimed as applied')
})

// text/csv on function results: one column named after the function for scalar values and SETOF scalars.
test('/rest/v1/rpc results as CSV', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  await db.load('functions')
  await db.query(`CREATE FUNCTION doc() RETURNS json LANGUAGE sql STABLE AS $$ SELECT '{"a":1,"b":"x,y"}'::json $$`)
  await db.query('CREATE FUNCTION nothing() RETURNS text LANGUAGE sql STABLE AS $$ SELECT NULL::text $$')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const csv = (fn: string, args: Record<string, unknown> = {}) => atrium.post(`/rest/v1/rpc/${fn}`, { client: 'shop', body: args, headers: { accept: 'text/csv' } })

  await t.test('a scalar value is one row of one column named after the function', async () => {
    const res = await csv('order_total', { customer: 1 })
    assert.equal(res.status, 200, res.text)
    assert.match(res.headers.get('content-type') ?? '', /text\/csv/)
    assert.equal(res.text, 'order_total\n170.74\n')
    assert.equal((await csv('doc')).text, 'doc\n"{""a"":1,""b"":""x,y""}"\n', 'JSON values are written as JSON text')
    assert.equal((await csv('nothing')).text, 'nothing\n\n', 'NULL is an empty field')
  })

  await t.test('SETOF scalars: one column, one row per value; rows of a table as before', async () => {
    assert.equal((await csv('statuses')).text, 'statuses\ncancelled\npaid\npending\n')
    const table = await atrium.get('/rest/v1/rpc/big_spenders?minimum=100', { client: 'shop', headers: { accept: 'text/csv' } })
    assert.equal(table.text, 'customer_name,spent\nAda,170.74\n')
  })
})

// Prefer: count on functions. A counted call runs the function once (the count reads the same rows), so a
// volatile function's writes are not repeated; planned and estimated counts come from the planner, which
// knows a PL/pgSQL set-returning function by its ROWS estimate and does not run it (a simple SQL function
// is inlined, and then estimated like the query inside it).
test('/rest/v1/rpc counts: exact runs the function once, planned and estimated ask the planner', async (t) => {
  const db = await createPgDatabase(t)
  await db.query(`
    CREATE TABLE events (id serial PRIMARY KEY, label text NOT NULL);
    CREATE FUNCTION add_event(label text) RETURNS SETOF events LANGUAGE sql VOLATILE
      AS $$ INSERT INTO events (label) VALUES (label) RETURNING * $$;
    CREATE FUNCTION add_event_id(label text) RETURNS SETOF int LANGUAGE sql VOLATILE
      AS $$ INSERT INTO events (label) VALUES (label) RETURNING id $$;
    CREATE FUNCTION numbers(upto int) RETURNS TABLE (v int, sq int) LANGUAGE plpgsql STABLE ROWS 50
      AS $$ BEGIN RETURN QUERY SELECT g, g * g FROM generate_series(1, upto) g; END $$;
    CREATE FUNCTION many(upto int) RETURNS TABLE (v int, sq int) LANGUAGE plpgsql STABLE ROWS 5000
      AS $$ BEGIN RETURN QUERY SELECT g, g * g FROM generate_series(1, upto) g; END $$;
    CREATE FUNCTION plain_numbers(upto int) RETURNS SETOF int LANGUAGE plpgsql STABLE
      AS $$ BEGIN RETURN QUERY SELECT generate_series(1, upto); END $$;`)
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const call = (path: string, count: string, body?: object) =>
    body ? atrium.post(`/rest/v1/rpc/${path}`, { client: 'shop', body, headers: { prefer: `count=${count}` } })
      : atrium.get(`/rest/v1/rpc/${path}`, { client: 'shop', headers: { prefer: `count=${count}` } })
  const labels = async () => (await db.query<{ label: string }>('SELECT label FROM events ORDER BY id')).map((r) => r.label)

  await t.test('a counted call of a writing function writes once and counts what it returned', async () => {
    const rows = await call('add_event', 'exact', { label: 'first' })
    assert.equal(rows.status, 200, rows.text)
    assert.deepEqual(rows.body, [{ id: 1, label: 'first' }])
    assert.equal(rows.headers.get('content-range'), '0-0/1')
    const ids = await call('add_event_id', 'exact', { label: 'second' })
    assert.equal(ids.status, 200, ids.text)
    assert.deepEqual(ids.body, [2])
    assert.equal(ids.headers.get('content-range'), '0-0/1')
    assert.deepEqual(await labels(), ['first', 'second'], 'each call inserted one row')
  })

  await t.test('exact counts the filtered rows, not the page', async () => {
    const res = await call('numbers?upto=30&v=gt.10&select=v&order=v&limit=5', 'exact')
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body, [11, 12, 13, 14, 15].map((v) => ({ v })))
    assert.equal(res.headers.get('content-range'), '0-4/20')
    assert.equal(res.headers.get('preference-applied'), 'count=exact')
    const scalars = await call('plain_numbers?upto=7', 'exact')
    assert.deepEqual(scalars.body, [1, 2, 3, 4, 5, 6, 7])
    assert.equal(scalars.headers.get('content-range'), '0-6/7', 'a SETOF scalar is counted too')
  })

  await t.test('planned is the planner\'s estimate (the function\'s ROWS), with the same page', async () => {
    const res = await call('numbers?upto=30&order=v&limit=5', 'planned')
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.length, 5)
    assert.equal(res.headers.get('content-range'), '0-4/50', 'ROWS 50, though 30 rows exist')
    assert.match(res.headers.get('preference-applied') ?? '', /count=planned/)
    assert.equal((await call('plain_numbers?upto=3', 'planned')).headers.get('content-range'), '0-2/1000', 'the default ROWS of a function')
  })

  await t.test('estimated counts exactly below 1,000 planner rows and estimates above', async () => {
    assert.equal((await call('numbers?upto=30&limit=5', 'estimated')).headers.get('content-range'), '0-4/30')
    assert.equal((await call('many?upto=30&limit=5', 'estimated')).headers.get('content-range'), '0-4/5000')
  })

  await t.test('estimating a writing function does not run it', async () => {
    const before = (await labels()).length
    const res = await call('add_event', 'planned', { label: 'third' })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.headers.get('content-range'), '0-0/1000')
    assert.deepEqual((await labels()).slice(before), ['third'], 'one call, one row')
  })
})
