// Hostile input is a 4xx with a stable code, never a 500/503 or a stall: NUL bytes, deep nesting, huge
// condition lists and parameter counts, oversized raw SQL results, and requests refused before their body.
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { startTestAtrium, type TestAtrium } from '../helpers/atrium.js'
import { createKey } from '../helpers/auth-grid.js'
import { forEachDialect } from '../helpers/dialects.js'

/** sends raw bytes on a new socket and collects what comes back until the server closes it or `ms` pass */
function rawExchange(url: string, bytes: Buffer | string, ms: number): Promise<{ text: string; closed: boolean; elapsedMs: number }> {
  const { hostname, port } = new URL(url)
  const started = Date.now()
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname)
    let text = ''
    let done = false
    const finish = (closed: boolean) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ text, closed, elapsedMs: Date.now() - started })
    }
    const timer = setTimeout(() => finish(false), ms)
    socket.on('data', (d) => { text += d.toString('latin1') })
    socket.on('end', () => finish(true))
    socket.on('close', () => finish(true))
    socket.on('error', () => finish(true))
    socket.write(bytes)
  })
}

/** the server still answers a normal read for another caller, quickly */
async function stillServes(atrium: TestAtrium): Promise<void> {
  const started = Date.now()
  const res = await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'customers', columns: 'id', limit: 1 } })
  assert.equal(res.status, 200, res.text)
  assert.ok(Date.now() - started < 5_000, 'a later read answered promptly')
}

forEachDialect('bad input is a 4xx, never a 500/503 or a stall', async (t, db) => {
  await db.load('shop')
  const isPg = db.dialect === 'postgres'
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, settings: { 'gateway.rawSql.maxRows': 1_000, 'gateway.rawSql.maxBytes': 1024 * 1024 } })
  const reader = (await createKey(atrium, { rights: ['gateway.read', 'sql.read'] })).key
  const fetchAs = (body: unknown) => atrium.post('/gateway/fetch', { client: 'shop', key: reader, body })
  const sqlAs = (query: string) => atrium.post('/gateway/query', { client: 'shop', key: reader, body: { query } })

  await t.test('a NUL byte in table_name, a column, a sort field or a value is a 400 naming where', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ table_name: 'customers\u0000; DROP TABLE sentinel' }, /table_name/],
      [{ table_name: 'customers', columns: 'id,na\u0000me' }, /columns/],
      [{ table_name: 'customers', conditions: [{ eq_column: 'na\u0000me', eq_value: 'x' }] }, /conditions/],
      [{ table_name: 'customers', conditions: [{ eq_column: 'name', eq_value: 'A\u0000da' }] }, /conditions/],
      [{ table_name: 'customers', conditions: [{ operator: 'in', column: 'name', value: ['Ada', 'x\u0000'] }] }, /conditions/],
      [{ table_name: 'customers', conditions: [{ operator: 'or', value: '(name.eq.A\u0000da,id.eq.1)' }] }, /conditions/],
      [{ table_name: 'customers', sort_by: { field: 'i\u0000d' } }, /sort/],
    ]
    for (const [body, where] of cases) {
      const res = await fetchAs(body)
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status} ${res.text}`)
      assert.equal(res.body.code, 'nul_byte', res.text)
      assert.match(res.body.message, where)
    }
    await stillServes(atrium)
  })

  await t.test('a NUL byte in a written value is a 400', async () => {
    const res = await atrium.request('PUT', '/gateway/insert', { client: 'shop', body: { table_name: 'sentinel', insert_body: { id: 77, label: 'a\u0000b' } } })
    assert.equal(res.status, 400, res.text)
    assert.equal(res.body.code, 'nul_byte')
    assert.equal((await db.query('SELECT count(*) AS n FROM sentinel WHERE id = 77'))[0].n, isPg ? '0' : 0)
  })

  await t.test('a NUL byte in a /rest/v1 path, filter key or value is a 400 in PostgREST shape', async () => {
    for (const path of ['customers%00x', 'customers?na%00me=eq.1', 'customers?name=eq.A%00da', 'customers?select=id,na%00me', 'customers?or=(name.eq.A%00,id.eq.1)', 'customers?order=i%00d']) {
      const res = await atrium.get(`/rest/v1/${path}`, { client: 'shop', key: reader })
      assert.equal(res.status, 400, `${path} → ${res.status} ${res.text}`)
      assert.equal(res.body.code, 'PGRST100', res.text)
      assert.match(res.body.message, /NUL/)
    }
    await stillServes(atrium)
  })

  await t.test('a NUL byte in raw SQL is a 400, not a 503', async () => {
    for (const query of ['SELECT 1\u0000', "SELECT 'a\u0000b' AS x", 'SELECT\u0000 1; SELECT 2']) {
      const res = await sqlAs(query)
      assert.equal(res.status, 400, res.text)
      assert.equal(res.body.code, 'nul_byte')
    }
    await stillServes(atrium)
  })

  await t.test('a NUL byte in X-Athena-Client is a 400', async () => {
    const res = await rawExchange(atrium.url, `POST /gateway/fetch HTTP/1.1\r\nHost: x\r\nX-Athena-Client: sh\u0000op\r\napikey: ${reader}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`, 5_000)
    assert.match(res.text, /^HTTP\/1\.1 400 /)
    await stillServes(atrium)
  })

  await t.test('a /rest/v1 logic tree or embed nested past the limit is a 400 in PostgREST shape', async () => {
    // 1,000 levels keep the URL under Node's 16 KiB header limit (deeper URLs are a 431 from Node itself)
    const depth = 1_000
    const rest = await atrium.get(`/rest/v1/customers?or=(${'or('.repeat(depth)}id.eq.1${')'.repeat(depth)})`, { client: 'shop', key: reader })
    assert.equal(rest.status, 400, rest.text.slice(0, 300))
    assert.equal(rest.body.code, 'PGRST100')
    assert.match(rest.body.message, /nested more than 64/)
    const embeds = await atrium.get(`/rest/v1/customers?select=${'orders('.repeat(depth)}id${')'.repeat(depth)}`, { client: 'shop', key: reader })
    assert.equal(embeds.status, 400, embeds.text.slice(0, 300))
    assert.match(embeds.body.message, /nested more than 64/)
    const justUnder = await atrium.get(`/rest/v1/customers?select=id&or=(${'or('.repeat(60)}id.eq.1${')'.repeat(60)})`, { client: 'shop', key: reader })
    assert.equal(justUnder.status, 200, justUnder.text.slice(0, 300))
    await stillServes(atrium)
  })

  for (const depth of [5_000, 100_000]) {
    await t.test(`trees ${depth} deep in a gateway body are a 400 limit_exceeded, not a stack overflow`, async () => {
      const tree = `${'or('.repeat(depth)}id.eq.1${')'.repeat(depth)}`
      const started = Date.now()
      const gw = await fetchAs({ table_name: 'customers', conditions: [{ operator: 'or', value: `(${tree})` }] })
      assert.equal(gw.status, 400, gw.text.slice(0, 300))
      assert.equal(gw.body.code, 'limit_exceeded')
      const columns = await fetchAs({ table_name: 'customers', columns: `${'orders('.repeat(depth)}id${')'.repeat(depth)}` })
      assert.equal(columns.status, 400, columns.text.slice(0, 300))
      assert.equal(columns.body.code, 'limit_exceeded')
      // a deeply nested JSON value is refused, not a stack overflow wherever it is walked
      for (const value of [`${'['.repeat(depth)}${']'.repeat(depth)}`, `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`]) {
        const json = await atrium.request('PUT', '/gateway/insert', { client: 'shop', raw: `{"table_name":"sentinel","insert_body":{"id":78,"label":${value}}}`, headers: { 'content-type': 'application/json' } })
        assert.equal(json.status, 400, json.text.slice(0, 300))
        const raw = await atrium.post('/gateway/fetch', { client: 'shop', raw: `{"table_name":"customers","conditions":[{"eq_column":"id","eq_value":${value}}]}`, headers: { 'content-type': 'application/json' } })
        assert.equal(raw.status, 400, raw.text.slice(0, 300))
      }
      assert.ok(Date.now() - started < 20_000, 'refused quickly')
      await stillServes(atrium)
    })
  }

  await t.test('too many conditions, in-list items and bound parameters are a 400 limit_exceeded before any SQL runs', async () => {
    const many = Array.from({ length: 101 }, (_, i) => ({ eq_column: 'id', eq_value: i }))
    const conditions = await fetchAs({ table_name: 'customers', conditions: many })
    assert.equal(conditions.status, 400, conditions.text.slice(0, 300))
    assert.equal(conditions.body.code, 'limit_exceeded')
    assert.match(conditions.body.message, /101 conditions; at most 100/)

    const orTree = `(${Array.from({ length: 50_000 }, (_, i) => `id.eq.${i}`).join(',')})`
    const started = Date.now()
    const tree = await fetchAs({ table_name: 'customers', conditions: [{ operator: 'or', value: orTree }] })
    assert.equal(tree.status, 400, tree.text.slice(0, 300))
    assert.equal(tree.body.code, 'limit_exceeded')
    assert.match(tree.body.message, /50,000 conditions/)
    assert.ok(Date.now() - started < 5_000, 'refused without running anything')
    const restTree = `(${Array.from({ length: 101 }, (_, i) => `id.eq.${i}`).join(',')})`
    const rest = await atrium.get(`/rest/v1/customers?or=${restTree}`, { client: 'shop', key: reader })
    assert.equal(rest.status, 400, rest.text.slice(0, 300))
    assert.equal(rest.body.code, 'PGRST100')
    assert.match(rest.body.message, /101 conditions/)

    const inList = await fetchAs({ table_name: 'customers', conditions: [{ operator: 'in', column: 'id', value: Array.from({ length: 10_001 }, (_, i) => i) }] })
    assert.equal(inList.status, 400, inList.text.slice(0, 300))
    assert.equal(inList.body.code, 'limit_exceeded')
    const inOk = await fetchAs({ table_name: 'customers', conditions: [{ operator: 'in', column: 'id', value: Array.from({ length: 10_000 }, (_, i) => i) }] })
    assert.equal(inOk.status, 200, inOk.text.slice(0, 300))

    // a PostgREST-syntax in list inside a logic tree (a URL cannot hold 10,001 items under Node's 16 KiB limit)
    const treeIn = await fetchAs({ table_name: 'customers', conditions: [{ operator: 'or', value: `(id.in.(${Array.from({ length: 10_001 }, () => 1).join(',')}),id.eq.1)` }] })
    assert.equal(treeIn.status, 400, treeIn.text.slice(0, 300))
    assert.equal(treeIn.body.code, 'limit_exceeded')
    assert.match(treeIn.body.message, /10,001 items/)
    await stillServes(atrium)
  })

  await t.test('a statement past 65,535 bound parameters is a 400 limit_exceeded, not a 503', async () => {
    // 100 conditions, each an in list of 700 values on the primary key: 70,000 values, every one a parameter on
    // MySQL; on PostgreSQL 150 such lists keep a backend busy past cancel. Refused before any SQL is sent.
    const conditions = Array.from({ length: 100 }, (_, i) => ({ operator: 'in', column: 'id', value: Array.from({ length: 700 }, (_, j) => i * 700 + j) }))
    const res = await fetchAs({ table_name: 'customers', conditions })
    assert.equal(res.status, 400, res.text.slice(0, 300))
    assert.equal(res.body.code, 'limit_exceeded')
    assert.match(res.body.message, /in lists hold 10,500 values together; at most 10,000/)
    // the total counts every list of the request, in logic trees too (PostgREST syntax inside an or)
    const list = `id.in.(${Array.from({ length: 4_000 }, (_, j) => j).join(',')})`
    const inTree = await fetchAs({ table_name: 'customers', conditions: [{ operator: 'or', value: `(${list},${list},${list})` }] })
    assert.equal(inTree.status, 400, inTree.text.slice(0, 300))
    assert.match(inTree.body.message, /in lists hold 12,000 values together/)
    // 14,000 rows of 5 columns: 70,000 values
    const rows = Array.from({ length: 14_000 }, (_, i) => ({ id: 1_000 + i, name: `c${i}`, email: `c${i}@x`, tier: 'basic', created_at: '2024-01-01T00:00:00Z' }))
    const insert = await atrium.request('PUT', '/gateway/insert', { client: 'shop', body: { table_name: 'customers', insert_body: rows } })
    assert.notEqual(insert.status, 503, insert.text.slice(0, 300))
    assert.ok(insert.status < 300 || insert.body.code === 'limit_exceeded', `${insert.status} ${insert.text.slice(0, 300)}`)
    await stillServes(atrium)
  })

  await t.test('a raw SQL result is capped in rows and bytes, with truncated: true, and memory stays bounded', async () => {
    const rowsQuery = isPg ? 'SELECT g AS n FROM generate_series(1, 5000) g' : 'SELECT seq AS n FROM seq_1_to_5000'
    const byRows = await sqlAs(rowsQuery)
    assert.equal(byRows.status, 200, byRows.text.slice(0, 300))
    assert.equal(byRows.body.data.length, 1_000)
    assert.equal(byRows.body.meta.truncated, true)
    assert.equal(byRows.body.meta.returned_row_count, 1_000)

    const small = await sqlAs(isPg ? 'SELECT g AS n FROM generate_series(1, 10) g' : 'SELECT seq AS n FROM seq_1_to_10')
    assert.equal(small.body.data.length, 10)
    assert.equal(small.body.meta.truncated, false)

    // ~150 MB of result: the reply stops at maxBytes and the process does not load it all
    const huge = isPg ? "SELECT repeat('x', 1000) AS x FROM generate_series(1, 150000)" : "SELECT repeat('x', 1000) AS x FROM seq_1_to_150000"
    global.gc?.()
    const before = process.memoryUsage().rss
    let peak = before
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 20)
    const res = await sqlAs(huge)
    clearInterval(sampler)
    assert.equal(res.status, 200, res.text.slice(0, 300))
    assert.equal(res.body.meta.truncated, true)
    assert.ok(res.text.length < 2 * 1024 * 1024, `reply of ${res.text.length} bytes`)
    assert.ok(res.body.data.length > 0 && res.body.data.length < 1_100)
    assert.ok(peak - before < 100 * 1024 * 1024, `RSS grew by ${Math.round((peak - before) / 1048576)} MB`)
    await stillServes(atrium)
  })

  await t.test('a request refused before its body is read gets its socket closed', async () => {
    const head = 'POST /gateway/fetch HTTP/1.1\r\nHost: x\r\nX-Athena-Client: shop\r\napikey: ath_bad.key\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{"table_name":'
    const res = await rawExchange(atrium.url, head, 5_000)
    assert.match(res.text, /^HTTP\/1\.1 401 /)
    assert.match(res.text, /connection: close/i)
    assert.equal(res.closed, true, 'the server closed the socket')
    assert.ok(res.elapsedMs < 3_000, `closed after ${res.elapsedMs} ms`)
    await stillServes(atrium)
  })
})
