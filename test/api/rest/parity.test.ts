import assert from 'node:assert/strict'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { forEachDialect } from '../../helpers/dialects.js'
import { supabaseFor } from '../../helpers/supabase.js'

// PostgREST behaviours Supabase users reach for, through supabase-js, on both dialects.
forEachDialect('/rest/v1 parity', async (t, db) => {
  await db.load('shop')
  await db.load('parity')
  const pg = db.dialect === 'postgres'
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const sb = supabaseFor(atrium.url, ADMIN_KEY, 'shop')
  const ok = <T>(res: { data: T; error: unknown; status: number }) => {
    assert.equal(res.error, null, JSON.stringify(res.error))
    return res.data
  }

  await t.test('sparse bulk inserts: missing=default gives omitted keys their DEFAULT; without it they are NULL', async () => {
    const rows = ok(await sb.from('tickets').insert([{ title: 'a' }, { title: 'b', status: 'closed' }, { title: 'c', priority: 1, note: 'n' }], { defaultToNull: false }).select('title,status,priority,note').order('title'))
    assert.deepEqual(rows, [
      { title: 'a', status: 'open', priority: 3, note: null },
      { title: 'b', status: 'closed', priority: 3, note: null },
      { title: 'c', status: 'open', priority: 1, note: 'n' },
    ])
    const dense = ok(await sb.from('tickets').insert([{ title: 'h', note: null }, { title: 'i', note: 'y' }], { defaultToNull: false }).select('title,status,note').order('title'))
    assert.deepEqual(dense, [{ title: 'h', status: 'open', note: null }, { title: 'i', status: 'open', note: 'y' }], 'every row names every column: an explicit null stays null')
    await db.query("DELETE FROM tickets WHERE title IN ('h', 'i')")
    const nulls = await atrium.post('/rest/v1/tickets', { client: 'shop', body: [{ title: 'd', note: 'x' }, { title: 'e', status: 'closed' }] })
    assert.equal(nulls.status, 400, 'without missing=default the omitted status is NULL, which NOT NULL refuses')
    assert.equal(nulls.body.code, pg ? '23502' : '23000')
    const viaGateway = await atrium.request('PUT', '/gateway/insert', { client: 'shop', body: { table_name: 'tickets', insert_body: [{ title: 'f' }, { title: 'g', priority: 9 }], default_to_null: false } })
    assert.equal(viaGateway.status, 200, viaGateway.text)
    assert.deepEqual(viaGateway.body.data.map((r: { status: string; priority: number }) => [r.status, r.priority]), [['open', 3], ['open', 9]])
  })

  await t.test('a JSON body that is a bare scalar is a 400 and writes nothing', async () => {
    for (const raw of ['42', '"text"', 'true', 'null']) {
      const res = await atrium.post('/rest/v1/tickets', { client: 'shop', raw, headers: { 'content-type': 'application/json' } })
      assert.equal(res.status, 400, `${raw}: ${res.text}`)
    }
    const res = await atrium.post('/rest/v1/tickets', { client: 'shop', raw: '[1, 2]', headers: { 'content-type': 'application/json' } })
    assert.equal(res.status, 400)
    assert.equal((await db.query('SELECT count(*) AS n FROM tickets'))[0].n, pg ? '5' : 5)
  })

  await t.test('aggregates: count(), sum/avg/min/max grouped by the other columns, aliases', async () => {
    assert.deepEqual(ok(await sb.from('orders').select('count()')), [{ count: 4 }])
    assert.deepEqual(ok(await sb.from('orders').select('status, count()').order('status')),
      [{ status: 'cancelled', count: 1 }, { status: 'paid', count: 2 }, { status: 'pending', count: 1 }])
    const sums = ok(await sb.from('orders').select('status, total.sum(), most:total.max(), total.min()').eq('status', 'paid')) as Array<Record<string, unknown>>
    assert.deepEqual(sums.map((r) => [r.status, Number(r.sum), Number(r.most), Number(r.min)]), [['paid', 23.74, 21.24, 2.5]])
    const avg = ok(await sb.from('orders').select('customer_id, total.avg()').eq('customer_id', 1)) as Array<{ avg: number }>
    assert.equal(Math.round(Number(avg[0].avg) * 100), 8537)
    assert.deepEqual(ok(await sb.from('orders').select('n:count()').eq('status', 'none')), [{ n: 0 }], 'no rows: one row counting zero')
    const counted = await sb.from('orders').select('status, count()', { count: 'exact' })
    assert.equal(counted.count, 3, 'the total counts groups')
    const refused = await sb.from('orders').select('status.sum()')
    assert.equal(refused.status, 400, 'sum of text is refused before it runs')
    const star = await sb.from('orders').select('*, count()')
    assert.equal(star.status, 400)
    // the gateway groups with group_by; PostgREST aggregate items stay /rest/v1's
    const gateway = await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'orders', columns: 'status,count()' } })
    assert.equal(gateway.status, 400)
    assert.equal(gateway.body.code, 'aggregates_not_supported')
  })

  await t.test('names that need quotes: spaces, reserved words, mixed case, non-ASCII letters', async () => {
    const rows = ok(await sb.from('Odd Table').select('"Full Name", "select", Ünïcode, MixedCase').gte('MixedCase', 20).order('select', { ascending: false }))
    assert.deepEqual(rows, [{ 'Full Name': 'Cy D', select: 2, Ünïcode: null, MixedCase: 30 }, { 'Full Name': 'Bob K', select: 1, Ünïcode: 'ü', MixedCase: 20 }])
    assert.deepEqual(ok(await sb.from('Odd Table').select('id').eq('Full Name', 'Ada L')), [{ id: 1 }])
    assert.deepEqual(ok(await sb.from('Odd Table').select('id').eq('Ünïcode', 'é')), [{ id: 1 }])
    const raw = await atrium.get(`/rest/v1/Odd%20Table?select=${encodeURIComponent('name:"Full Name"')}&${encodeURIComponent('"select"')}=eq.3`, { client: 'shop' })
    assert.deepEqual(raw.body, [{ name: 'Ada L' }])
  })

  await t.test('singular responses: application/vnd.pgrst.object+json', async () => {
    assert.deepEqual(ok(await sb.from('authors').select('name').eq('id', 2).single()), { name: 'Ben' })
    const many = await sb.from('authors').select('name').single()
    assert.equal(many.status, 406)
    assert.equal((many.error as { code: string }).code, 'PGRST116')
  })

  await t.test('many-to-many embeds through a junction table, both ways', async () => {
    assert.deepEqual(ok(await sb.from('books').select('title, authors(name)').order('id')), [
      { title: 'Atlas', authors: [{ name: 'Ann' }, { name: 'Ben' }] },
      { title: 'Bridges', authors: [{ name: 'Ben' }] },
      { title: 'Comets', authors: [] },
    ].map((b) => ({ ...b, authors: b.authors })))
    assert.deepEqual(ok(await sb.from('authors').select('name, books(title)').eq('id', 2)), [{ name: 'Ben', books: [{ title: 'Atlas' }, { title: 'Bridges' }] }])
    assert.deepEqual(ok(await sb.from('books').select('title, authors!book_authors(name)').eq('id', 2)), [{ title: 'Bridges', authors: [{ name: 'Ben' }] }], 'the junction as hint')
    assert.deepEqual(ok(await sb.from('books').select('title, authors!inner(name)').eq('authors.name', 'Ann')), [{ title: 'Atlas', authors: [{ name: 'Ann' }] }])
    // an embedded many-to-many list takes order and limit like a one-to-many one
    assert.deepEqual(ok(await sb.from('books').select('title, authors(name)').eq('id', 1).order('name', { referencedTable: 'authors', ascending: false }).limit(1, { referencedTable: 'authors' })), [{ title: 'Atlas', authors: [{ name: 'Ben' }] }])
  })

  await t.test('empty embeds filter without appearing: anti-joins and semi-joins', async () => {
    assert.deepEqual(ok(await sb.from('books').select('title, authors()').is('authors', null)), [{ title: 'Comets' }])
    assert.deepEqual(ok(await sb.from('books').select('title, authors()').not('authors', 'is', null).order('id')), [{ title: 'Atlas' }, { title: 'Bridges' }])
    assert.deepEqual(ok(await sb.from('authors').select('name, books()').is('books', null)), [{ name: 'Cat' }])
    assert.deepEqual(ok(await sb.from('books').select('title, authors!inner()').eq('authors.name', 'Ben').order('id')), [{ title: 'Atlas' }, { title: 'Bridges' }])
    // one-to-many and many-to-one embeds take the same null filters
    assert.deepEqual(ok(await sb.from('customers').select('name, orders(id)').is('orders', null)), [])
    assert.deepEqual(ok(await sb.from('orders').select('id, customers(name)').not('customers', 'is', null).eq('id', 1)), [{ id: 1, customers: { name: 'Ada' } }])
  })

  await t.test('CSV cells as the database prints them', async () => {
    const csv = ok(await sb.from('orders').select('id,total').in('id', [2, 3]).order('id').csv())
    assert.equal(csv, pg ? 'id,total\n2,149.50\n3,2.50\n' : 'id,total\n2,149.5\n3,2.5\n')
  })
})

forEachDialect('/rest/v1 aggregates can be turned off (rest.aggregatesEnabled)', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, settings: { 'rest.aggregatesEnabled': false } })
  const res = await atrium.get('/rest/v1/orders?select=status,count()', { client: 'shop' })
  assert.equal(res.status, 400)
  assert.equal(res.body.code, 'PGRST123')
  assert.equal((await atrium.get('/rest/v1/orders?select=status', { client: 'shop' })).status, 200)
})
