import assert from 'node:assert/strict'
import { startTestAtrium } from '../../helpers/atrium.js'
import { forEachDialect } from '../../helpers/dialects.js'

const DROP = 'sentinel; DROP TABLE sentinel; --'
const QUOTED = `x'); DROP TABLE sentinel; --`
const BACKTICK = 'id` FROM sentinel; DROP TABLE sentinel; -- '
const DOUBLE = 'id" FROM sentinel; DROP TABLE sentinel; -- '

forEachDialect('injection through the gateway is refused or inert', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const fetchRows = (body: unknown) => atrium.post('/gateway/fetch', { client: 'shop', body })

  const attempts: Array<[string, () => Promise<{ status: number; body: any }>]> = [
    ['table name', () => fetchRows({ table_name: DROP })],
    ['quoted table name', () => fetchRows({ table_name: DOUBLE })],
    ['column', () => fetchRows({ table_name: 'orders', columns: BACKTICK })],
    ['column list entry', () => fetchRows({ table_name: 'orders', columns: ['id', DOUBLE] })],
    ['embed name', () => fetchRows({ table_name: 'orders', columns: `id,${DROP}(id)` })],
    ['condition column', () => fetchRows({ table_name: 'orders', conditions: [{ eq_column: DOUBLE, eq_value: '1' }] })],
    ['operator', () => fetchRows({ table_name: 'orders', conditions: [{ operator: `eq; ${DROP}`, column: 'id', value: 1 }] })],
    ['or expression', () => fetchRows({ table_name: 'orders', conditions: [{ operator: 'or', value: `(id.eq.1,${DROP})` }] })],
    ['not expression', () => fetchRows({ table_name: 'orders', conditions: [{ operator: 'not', value: `id.eq.1); ${DROP}` }] })],
    ['sort field', () => fetchRows({ table_name: 'orders', sort_by: { field: `id; ${DROP}` } })],
    ['group_by', () => fetchRows({ table_name: 'orders', group_by: `status; ${DROP}` })],
    ['aggregation column', () => fetchRows({ table_name: 'orders', group_by: 'status', aggregation_column: `total); ${DROP}` })],
    ['insert key', () => atrium.request('PUT', '/gateway/insert', { client: 'shop', body: { table_name: 'sentinel', insert_body: { id: 5, [`label) VALUES ('x'); ${DROP}`]: 'x' } } })],
    ['on_conflict', () => atrium.request('PUT', '/gateway/insert', { client: 'shop', body: { table_name: 'sentinel', insert_body: { id: 1, label: 'x' }, on_conflict: `id) DO NOTHING; ${DROP}` } })],
    ['update key', () => atrium.post('/gateway/update', { client: 'shop', body: { table_name: 'sentinel', conditions: [{ eq_column: 'id', eq_value: '1' }], update_body: { [`label = 'x'; ${DROP}`]: 'y' } } })],
    ['delete resource_id', () => atrium.request('DELETE', '/gateway/delete', { client: 'shop', body: { table_name: 'sentinel', resource_id: `1 OR 1=1; ${DROP}` } })],
    ['rpc name', () => atrium.post('/gateway/rpc', { client: 'shop', body: { function_name: `now(); ${DROP}`, args: {} } })],
  ]
  for (const [where, attempt] of attempts) {
    await t.test(`${where}: rejected with a 4xx in the gateway envelope`, async () => {
      const res = await attempt()
      assert.ok(res.status >= 400 && res.status < 500, `${where} → ${res.status} ${JSON.stringify(res.body)}`)
      assert.equal(res.body.status, 'error')
    })
  }

  await t.test('values are parameters: quotes and SQL in values match nothing and run nothing', async () => {
    for (const value of [QUOTED, "' OR '1'='1", '1; DROP TABLE sentinel', 'back\\slash', "x%' OR 1=1 --"]) {
      for (const operator of ['eq', 'like', 'ilike', 'neq']) {
        const res = await fetchRows({ table_name: 'sentinel', conditions: [{ operator, column: 'label', value }] })
        assert.equal(res.status, 200, JSON.stringify(res.body))
        assert.equal(res.body.data.length, operator === 'neq' ? 1 : 0, `${operator} ${value}`)
      }
    }
    const inserted = await atrium.request('PUT', '/gateway/insert', { client: 'shop', body: { table_name: 'sentinel', insert_body: { id: 7, label: QUOTED } } })
    assert.equal(inserted.status, 200)
    assert.equal(inserted.body.data[0].label, QUOTED)
  })

  await t.test('the sentinel table survived every attempt', async () => {
    const rows = await db.query<{ id: number; label: string }>('SELECT id, label FROM sentinel ORDER BY id')
    assert.deepEqual(rows.map((r) => [Number(r.id), r.label]), [[1, 'still here'], [7, QUOTED]])
  })
})
