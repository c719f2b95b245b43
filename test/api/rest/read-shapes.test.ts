import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'

// Reads of one shape (the same request with other values) reuse one compiled statement. Every answer here is
// checked against PostgreSQL itself, for many values per shape, so a value landing in the wrong parameter, or
// a shape reused for a request it does not fit, shows up as a wrong row set.
test('reads of one shape with other values return their own rows', async (t) => {
  const db = await createPgDatabase(t)
  await db.query(`CREATE TABLE readings (id int PRIMARY KEY, a int NOT NULL, b int NOT NULL, label text, flag boolean);
    INSERT INTO readings SELECT g, g % 7, g % 5, CASE WHEN g % 4 = 0 THEN NULL WHEN g % 4 = 1 THEN 'x,y' ELSE 'l' || (g % 3) END,
      CASE g % 3 WHEN 0 THEN NULL WHEN 1 THEN true ELSE false END
    FROM generate_series(1, 200) g`)
  const atrium = await startTestAtrium(t, { sources: { lab: db.url } })
  const rest = async (query: string, headers: Record<string, string> = {}) => {
    const res = await atrium.get(`/rest/v1/readings?${query}`, { client: 'lab', headers })
    assert.equal(res.status < 300, true, `${query}: ${res.status} ${res.text}`)
    return res
  }
  const ids = (rows: Array<{ id: number }>) => rows.map((r) => r.id)
  const expected = async (where: string, params: unknown[], tail = 'ORDER BY id') =>
    ids(await db.query<{ id: number }>(`SELECT id FROM readings WHERE ${where} ${tail}`, params))

  await t.test('two compared columns: each value goes to its own column', async () => {
    for (const [a, b] of [[1, 2], [2, 1], [3, 4], [4, 3], [0, 0], [6, 1]]) {
      const res = await rest(`select=id&a=eq.${a}&b=eq.${b}&order=id`)
      assert.deepEqual(ids(res.body), await expected('a = $1 AND b = $2', [a, b]), `a=${a}, b=${b}`)
    }
  })

  await t.test('or trees, negation, limit and offset with other values', async () => {
    const pages: Array<[number, number, number, number]> = [[2, 3, 5, 0], [3, 2, 5, 10], [5, 0, 1, 3], [1, 4, 20, 0], [0, 1, 7, 2]]
    for (const [a, b, limit, offset] of pages) {
      const res = await rest(`select=id&or=(a.lt.${a},b.gt.${b})&id=not.eq.${a + 10}&order=id&limit=${limit}&offset=${offset}`)
      assert.deepEqual(ids(res.body), await expected('(a < $1 OR b > $2) AND NOT (id = $3)', [a, b, a + 10], `ORDER BY id LIMIT ${limit} OFFSET ${offset}`),
        `a=${a} b=${b} limit=${limit} offset=${offset}`)
    }
  })

  await t.test('is null, true and false (and their negations) are different statements, not one with other values', async () => {
    for (const [filter, where] of [['is.null', 'flag IS NULL'], ['is.true', 'flag IS TRUE'], ['is.false', 'flag IS FALSE'], ['not.is.null', 'NOT (flag IS NULL)'], ['is.null', 'flag IS NULL']]) {
      assert.deepEqual(ids((await rest(`select=id&flag=${filter}&order=id&limit=50`)).body), await expected(where, [], 'ORDER BY id LIMIT 50'), filter)
    }
  })

  await t.test('text values are passed as they are: commas, quotes, empty', async () => {
    for (const label of ['x,y', 'l1', 'l2', '', "it's", '"quoted"']) {
      const res = await rest(`select=id&label=eq.${encodeURIComponent(label)}&order=id`)
      assert.deepEqual(ids(res.body), await expected('label = $1', [label]), JSON.stringify(label))
    }
  })

  await t.test('exact counts and stripped nulls are shapes of their own', async () => {
    for (const a of [1, 2, 3]) {
      const counted = await rest(`select=id&a=eq.${a}&order=id&limit=2`, { prefer: 'count=exact' })
      const total = (await expected('a = $1', [a])).length
      assert.equal(counted.headers.get('content-range'), `0-1/${total}`)
      const plain = await rest(`select=id&a=eq.${a}&order=id&limit=2`)
      assert.equal(plain.headers.get('content-range'), '0-1/*')
      assert.deepEqual(ids(plain.body), ids(counted.body))
    }
    for (const id of [4, 5, 8]) {
      const stripped = await rest(`select=id,label&id=eq.${id}`, { accept: 'application/vnd.pgrst.array+json;nulls=stripped' })
      const [row] = await db.query<{ id: number; label: string | null }>('SELECT id, label FROM readings WHERE id = $1', [id])
      assert.deepEqual(stripped.body, [row.label === null ? { id } : row])
    }
  })

  await t.test('the gateway: numbers and strings compared to the same column', async () => {
    for (const value of [3, '3', 4, '17', 0]) {
      const res = await atrium.post('/gateway/fetch', { client: 'lab', body: { table_name: 'readings', columns: 'id', conditions: [{ eq_column: 'a', eq_value: value }], sort_by: { field: 'id' } } })
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(ids(res.body.data), await expected('a = $1', [Number(value)]), `a=${JSON.stringify(value)}`)
    }
  })

  await t.test('a bad value for a reused shape still gets its own error', async () => {
    await rest('select=id&a=eq.1')
    const res = await atrium.get('/rest/v1/readings?select=id&a=eq.one', { client: 'lab' })
    assert.equal(res.status, 400)
    assert.match(res.body.message, /one/)
    assert.deepEqual(ids((await rest('select=id&a=eq.2&order=id')).body), await expected('a = $1', [2]))
  })
})
