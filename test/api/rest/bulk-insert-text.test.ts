import assert from 'node:assert/strict'
import { startTestAtrium } from '../../helpers/atrium.js'
import { forEachDialect } from '../../helpers/dialects.js'

// Bulk inserts whose rows PostgreSQL reads from the request's own JSON text (InsertQuery.rowsJson) must write
// exactly what the parsed rows say: the same rows, defaults, refusals and last-wins duplicate keys as the
// parsed body, on /rest/v1 and /gateway/insert. Bodies are sent as written here (raw), not re-serialised by
// the test client, so spacing, escapes and key order reach the server as a client might send them.
forEachDialect('bulk inserts from the JSON text as sent', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const json = { 'content-type': 'application/json' }
  const rest = (path: string, raw: string, headers: Record<string, string> = {}) =>
    atrium.request('POST', `/rest/v1/${path}`, { client: 'shop', raw, headers: { ...json, ...headers } })
  const gateway = (raw: string) => atrium.request('PUT', '/gateway/insert', { client: 'shop', raw, headers: json })
  const customers = (where: string) =>
    db.query<{ id: number | string; name: string; email: string | null; tier: string | null; created_at: unknown }>(
      `SELECT id, name, email, tier, created_at FROM customers WHERE ${where} ORDER BY id`)
  const idsOf = async (where: string) => (await customers(where)).map((r) => Number(r.id))

  await t.test('1,000 rows with spacing, escapes and keys in any order are written as parsed', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => (i % 2
      ? `{ "name" : "na\\u00efve \\"${i}\\"",\n  "id": ${10_000 + i}, "tier": null }`
      : `{"id":${10_000 + i},"tier":"t${i % 3}","name":"row ${i}"}`))
    const res = await rest('customers', `[\n${rows.join(',\n')}\n]`, { prefer: 'return=minimal' })
    assert.equal(res.status, 201, res.text)
    const written = await customers('id >= 10000 AND id < 11000')
    assert.equal(written.length, 1000)
    assert.deepEqual({ ...written[1], created_at: undefined }, { id: written[1].id, name: 'naïve "1"', email: null, tier: null, created_at: undefined })
    assert.equal(Number(written[1].id), 10_001)
    assert.equal(written[998].name, 'row 998')
    assert.equal(written[998].tier, 't2')
  })

  await t.test('return=representation sends every written row, counted without parsing the body again', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => `{"id":${20_000 + i},"name":"r${i}"}`)
    const res = await rest('customers?select=id,name', `[${rows.join(',')}]`, { prefer: 'return=representation,count=exact' })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.headers.get('content-range'), '*/300')
    const body = res.body as Array<{ id: number; name: string }>
    assert.equal(body.length, 300)
    assert.deepEqual(body.find((r) => r.id === 20_299), { id: 20_299, name: 'r299' })
  })

  await t.test('sparse rows: omitted keys are NULL, or the DEFAULT with missing=default', async () => {
    const raw = '[{"id":30001,"name":"a","tier":"x"},{"name":"b","id":30002}]'
    assert.equal((await rest('customers', raw)).status, 201)
    assert.deepEqual((await customers('id IN (30001, 30002)')).map((r) => r.tier), ['x', null])
    // created_at is NOT NULL with a default
    const defaults = await rest('customers', '[{"id":30003,"name":"c","created_at":"2030-01-01T00:00:00Z"},{"id":30004,"name":"d"}]', { prefer: 'missing=default' })
    assert.equal(defaults.status, 201, defaults.text)
    const [c, d] = await customers('id IN (30003, 30004)')
    assert.equal(new Date(c.created_at as string).toISOString(), '2030-01-01T00:00:00.000Z')
    assert.equal(new Date(d.created_at as string).toISOString(), '2024-01-01T00:00:00.000Z', 'the column default')
  })

  await t.test('a single object, and a body behind a byte-order mark', async () => {
    assert.equal((await rest('customers', ' {"id":30010,"name":"solo"} ')).status, 201)
    assert.equal((await rest('customers', '\ufeff[{"id":30011,"name":"bom"}]')).status, 201)
    assert.deepEqual(await idsOf('id IN (30010, 30011)'), [30010, 30011])
  })

  await t.test('duplicate keys: the last one wins, as in the parsed body', async () => {
    assert.equal((await rest('customers', '[{"id":30020,"name":"first","name":"last"}]')).status, 201)
    assert.equal((await customers('id = 30020'))[0].name, 'last')
    const res = await gateway('{"table_name":"customers","insert_body":[{"id":30021,"name":"dropped"}],"insert_body":[{"id":30022,"name":"kept"}]}')
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(await idsOf('id IN (30021, 30022)'), [30022])
  })

  await t.test('refusals are those of the parsed rows, and nothing is written', async () => {
    const notObject = await rest('customers', '[{"id":30030,"name":"a"},5]')
    assert.equal(notObject.status, 400)
    const unknown = await rest('customers', `[${Array.from({ length: 500 }, (_, i) => `{"id":${30_100 + i},"name":"n"}`).join(',')},{"id":30999,"nickname":"x"}]`)
    assert.equal(unknown.status, 400)
    assert.equal((unknown.body as { code: string }).code, '42703')
    assert.match((unknown.body as { message: string }).message, /nickname/)
    const gwNotObject = await gateway('{"table_name":"customers","insert_body":[{"id":30031,"name":"a"},[1]]}')
    assert.equal(gwNotObject.status, 400)
    const gwUnknown = await gateway('{"table_name":"customers","insert_body":[{"id":30032,"name":"a"},{"id":30033,"nickname":"b"}]}')
    assert.equal(gwUnknown.status, 400)
    assert.match(gwUnknown.text, /nickname/)
    assert.deepEqual(await idsOf('id >= 30030 AND id < 31000'), [])
  })

  await t.test('/gateway/insert reads insert_body out of the whole body, whatever surrounds it', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => `{"id":${40_000 + i},"name":"g${i}","email":null}`)
    const res = await gateway(`{"columns":"id","insert_body":[${rows.join(',')}],"table_name":"customers","note":{"insert_body":[]}}`)
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.message, 'Inserted 200 rows')
    assert.deepEqual(res.body.data[199], { id: 40_199 })
    assert.equal((await idsOf('id >= 40000 AND id < 41000')).length, 200)
  })

  if (db.dialect === 'postgres') {
    await t.test('PostgreSQL: numbers reach the column as written (no float rounding of large integers)', async () => {
      // 2^53 + 1 is not a double: parsed and serialised again it became 9007199254740992
      assert.equal((await rest('customers', '[{"id":9007199254740993,"name":"big"}]')).status, 201)
      assert.deepEqual((await db.query<{ id: string }>("SELECT id::text AS id FROM customers WHERE name = 'big'")).map((r) => r.id), ['9007199254740993'])
    })
  }
})
