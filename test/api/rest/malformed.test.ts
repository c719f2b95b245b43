import assert from 'node:assert/strict'
import { startTestAtrium } from '../../helpers/atrium.js'
import { forEachDialect } from '../../helpers/dialects.js'

const DROP = 'DROP TABLE sentinel'

// Malformed query strings and injection in every position: a 4xx in PostgREST's shape, never a 500,
// and the sentinel table survives.
forEachDialect('/rest/v1 refuses malformed and hostile requests', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const q = encodeURIComponent

  const gets = [
    'orders?select=id,customers(name',
    'orders?select=id)',
    'orders?select=%22id',
    'orders?order=%22id%22x',
    'orders?select=,',
    'orders?id=eq',
    'orders?id=between.1.2',
    'orders?id=eq(any).1',
    'orders?or=(id.eq.1',
    'orders?or=id.eq.1',
    'orders?and=()',
    'orders?id=in.1,2',
    'orders?note=is.maybe',
    'orders?order=',
    'orders?order=id.sideways.up',
    'orders?limit=-1',
    'orders?limit=abc',
    'orders?offset=1e3',
    `orders?select=${q(`id;${DROP}`)}`,
    `orders?select=${q(`"id"; ${DROP}; --`)}`,
    `orders?${q(`id;${DROP}`)}=eq.1`,
    `orders?order=${q(`id;${DROP}`)}`,
    `orders?id=${q(`eq;${DROP}`)}.1`,
    `orders?select=${q(`id,customers!${DROP}(name)`)}`,
    `${q(`orders;${DROP}`)}`,
    `${q('orders"; DROP TABLE sentinel; --')}`,
    `orders?select=id::${q(`text;${DROP}`)}`,
    `orders?select=${q('total::int) FROM sentinel; --')}`,
    'orders?select=nope',
    'orders?nope=eq.1',
    'orders?customers.name=eq.x',
    'orders?select=id,nope(id)',
  ]
  for (const path of gets) {
    await t.test(`GET /rest/v1/${path}`, async () => {
      const res = await atrium.get(`/rest/v1/${path}`, { client: 'shop' })
      assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${res.text}`)
      assert.equal(typeof res.body.code, 'string')
      assert.equal(typeof res.body.message, 'string')
    })
  }

  const writes: Array<[string, string, unknown, Record<string, string>?]> = [
    ['POST', 'sentinel', 'not json at all', { 'content-type': 'application/json' }],
    ['POST', 'sentinel', [1, 2, 3]],
    ['POST', 'sentinel', { id: 9, [`label) VALUES ('x'); ${DROP}; --`]: 'x' }],
    ['POST', `sentinel?on_conflict=${q(`id) DO NOTHING; ${DROP}; --`)}`, { id: 1, label: 'x' }, { prefer: 'resolution=merge-duplicates' }],
    ['POST', `sentinel?columns=${q(`id);${DROP}`)}`, { id: 9, label: 'x' }],
    ['PATCH', 'sentinel?id=eq.1', { [`label = 'x'; ${DROP}`]: 'y' }],
    ['PATCH', 'sentinel?id=eq.1', ['not', 'an', 'object']],
    ['DELETE', `sentinel?id=eq.${q(`1 OR 1=1; ${DROP}`)}`, undefined],
  ]
  for (const [method, path, body, headers] of writes) {
    await t.test(`${method} /rest/v1/${path.slice(0, 60)}`, async () => {
      const res = typeof body === 'string'
        ? await atrium.request(method, `/rest/v1/${path}`, { client: 'shop', raw: body, headers })
        : await atrium.request(method, `/rest/v1/${path}`, { client: 'shop', body, headers })
      assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${res.text}`)
    })
  }

  await t.test('values are parameters; the sentinel table survived', async () => {
    const res = await atrium.get(`/rest/v1/sentinel?label=eq.${q(`x'); ${DROP}; --`)}`, { client: 'shop' })
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, [])
    const rows = await db.query<{ label: string }>('SELECT label FROM sentinel')
    assert.deepEqual(rows.map((r) => r.label), ['still here'])
  })
})
