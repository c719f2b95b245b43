// GET /gateway/deferred: each key or session lists only its own deferred requests, the admin key every one;
// filters, paging by cursor, and the refusals of bad parameters.
import assert from 'node:assert/strict'
import { SignJWT } from 'jose'
import { startTestAtrium, type TestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { forEachDialect } from '../../helpers/dialects.js'
import { until } from '../../helpers/until.js'

const ASYNC = { prefer: 'respond-async' }
const SECRET = 'a-session-secret-of-at-least-32-characters'

/** submits a deferred fetch and returns its request id */
async function defer(atrium: TestAtrium, o: { client: string; key?: string | null; headers?: Record<string, string>; table?: string }): Promise<string> {
  const res = await atrium.post('/gateway/fetch', {
    client: o.client, key: o.key, headers: { ...ASYNC, ...o.headers }, body: { table_name: o.table ?? 'customers', columns: 'id', limit: 1 },
  })
  assert.equal(res.status, 202, res.text)
  return res.body.data.request_id
}

/** waits (bounded) until every listed id has finished, as the admin key sees it */
async function settleAll(atrium: TestAtrium, ids: string[]): Promise<void> {
  for (const id of ids) {
    await until(`deferred request ${id}`, async () => {
      const res = await atrium.get(`/gateway/deferred/${id}`)
      return ['queued', 'running'].includes(res.body.data?.status) ? undefined : true
    }, 300)
  }
}

/** the ids of one page, asserting a success envelope */
async function list(atrium: TestAtrium, query: string, o: { key?: string | null; headers?: Record<string, string> } = {}): Promise<{ ids: string[]; body: any }> {
  const res = await atrium.get(`/gateway/deferred${query}`, o)
  assert.equal(res.status, 200, res.text)
  assert.equal(res.body.status, 'success')
  return { ids: res.body.data.requests.map((r: { request_id: string }) => r.request_id), body: res.body }
}

forEachDialect('listing deferred requests', async (t, db) => {
  await db.load('shop')
  const atrium = await startTestAtrium(t, {
    sources: { shop: db.url, annex: db.url },
    env: { ATRIUM_JWT_SECRET: SECRET },
    settings: { 'sessions.roleRights': { authenticated: ['gateway.read'] } },
  })
  const alice = await createKey(atrium, { name: 'alice', rights: ['gateway.read'] })
  const bob = await createKey(atrium, { name: 'bob', rights: ['gateway.read'] })
  const rightless = await createKey(atrium, { name: 'no gateway rights', rights: [] })

  // submitted in this order: newest first means the reverse
  const aliceIds = [
    await defer(atrium, { client: 'shop', key: alice.key }),
    await defer(atrium, { client: 'annex', key: alice.key }),
    await defer(atrium, { client: 'shop', key: alice.key, table: 'no_such_table' }),
  ]
  const bobIds = [await defer(atrium, { client: 'shop', key: bob.key }), await defer(atrium, { client: 'annex', key: bob.key })]
  await settleAll(atrium, [...aliceIds, ...bobIds])
  const newestFirst = (ids: string[]) => [...ids].reverse()

  await t.test('each key lists exactly its own requests, newest first, without answer bodies', async () => {
    const mine = await list(atrium, '', { key: alice.key })
    assert.deepEqual(mine.ids, newestFirst(aliceIds))
    assert.equal(mine.body.data.next_cursor, null)
    const failed = mine.body.data.requests[0]
    assert.equal(failed.status, 'failed')
    assert.equal(failed.error.code, 'unknown_table')
    assert.equal(failed.operation, 'gateway.fetch')
    assert.equal(failed.client, 'shop')
    assert.ok(!('result' in failed), 'a list leaves the answer out')
    assert.ok(failed.result_status >= 400, 'the status the synchronous call answered is kept')
    for (const r of mine.body.data.requests) assert.ok(r.created_at && r.finished_at, JSON.stringify(r))
    const created = mine.body.data.requests.map((r: { created_at: string }) => Date.parse(r.created_at))
    assert.deepEqual(created, [...created].sort((a, b) => b - a))
    assert.deepEqual((await list(atrium, '', { key: bob.key })).ids, newestFirst(bobIds))
  })

  await t.test('the admin key lists every owner\'s requests', async () => {
    const all = await list(atrium, '')
    const ours = new Set([...aliceIds, ...bobIds])
    assert.deepEqual(all.ids.filter((id) => ours.has(id)), newestFirst([...aliceIds, ...bobIds]))
  })

  await t.test('status and client filter; a comma list is any of its statuses', async () => {
    assert.deepEqual((await list(atrium, '?status=failed', { key: alice.key })).ids, [aliceIds[2]])
    assert.deepEqual((await list(atrium, '?status=succeeded', { key: alice.key })).ids, newestFirst(aliceIds.slice(0, 2)))
    assert.deepEqual((await list(atrium, '?status=failed,succeeded', { key: alice.key })).ids, newestFirst(aliceIds))
    assert.deepEqual((await list(atrium, '?status=queued,running', { key: alice.key })).ids, [])
    assert.deepEqual((await list(atrium, '?client=annex', { key: alice.key })).ids, [aliceIds[1]])
    assert.deepEqual((await list(atrium, '?client=ANNEX', { key: bob.key })).ids, [bobIds[1]])
    assert.deepEqual((await list(atrium, '?client=shop&status=succeeded', { key: alice.key })).ids, [aliceIds[0]])
  })

  await t.test('limit=1 pages walk every request exactly once', async () => {
    for (const [key, ids] of [[alice.key, aliceIds], [undefined, [...aliceIds, ...bobIds]]] as const) {
      const seen: string[] = []
      let cursor: string | null = null
      for (let page = 0; page < 20; page++) {
        const res = await list(atrium, `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { key })
        assert.ok(res.ids.length <= 1)
        seen.push(...res.ids)
        cursor = res.body.data.next_cursor
        if (!cursor) break
      }
      assert.equal(cursor, null, 'the walk ended')
      assert.equal(new Set(seen).size, seen.length, 'no request twice')
      const ours = new Set(ids)
      assert.deepEqual(seen.filter((id) => ours.has(id)), newestFirst([...ids]))
      if (key) assert.equal(seen.length, ids.length)
    }
    const two = await list(atrium, '?limit=2', { key: alice.key })
    assert.deepEqual(two.ids, newestFirst(aliceIds).slice(0, 2))
    const rest = await list(atrium, `?limit=2&cursor=${two.body.data.next_cursor}`, { key: alice.key })
    assert.deepEqual(rest.ids, [aliceIds[0]])
    assert.equal(rest.body.data.next_cursor, null)
    // a cursor is a position, not a grant: another key following it still sees only its own
    const followed = await list(atrium, `?cursor=${two.body.data.next_cursor}`, { key: bob.key })
    assert.ok(followed.ids.every((id) => bobIds.includes(id)), JSON.stringify(followed.ids))
  })

  await t.test('bad parameters are 400 with a message that names the parameter', async () => {
    const cases: Array<[string, RegExp, string]> = [
      ['?limit=0', /limit must be >= 1/, 'invalid_request'],
      ['?limit=101', /limit must be <= 100/, 'invalid_request'],
      ['?limit=ten', /limit must be integer/, 'invalid_request'],
      ['?status=done', /status must match pattern .*queued\|running\|succeeded\|failed\|expired/, 'invalid_request'],
      ['?status=failed,', /status must match pattern/, 'invalid_request'],
      ['?client=', /client must NOT have fewer than 1 characters/, 'invalid_request'],
      ['?sort=asc', /must NOT have additional properties "sort"/, 'invalid_request'],
      ['?cursor=not-a-cursor', /cursor is not one this list returned/, 'invalid_cursor'],
    ]
    for (const [query, message, code] of cases) {
      const res = await atrium.get(`/gateway/deferred${query}`, { key: alice.key })
      assert.equal(res.status, 400, `${query}: ${res.text}`)
      assert.equal(res.body.code, code, query)
      assert.match(res.body.message, message, query)
    }
  })

  await t.test('no key is 401; a key without gateway rights is treated as the single GET treats it', async () => {
    const anonymous = await atrium.get('/gateway/deferred', { key: null })
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.body.code, 'missing_api_key')
    // the single GET does not refuse such a key (it reads its own requests: none, so 404) …
    const one = await atrium.get(`/gateway/deferred/${aliceIds[0]}`, { key: rightless.key })
    assert.equal(one.status, 404, one.text)
    // … so the list answers it too, with its own requests only: none
    assert.deepEqual((await list(atrium, '', { key: rightless.key })).ids, [])
    const badKey = await atrium.get('/gateway/deferred', { key: 'ath_not_a_real_key' })
    assert.equal(badKey.status, 401, badKey.text)
  })

  await t.test('a session user lists its own requests, not another user\'s nor a key\'s', async () => {
    const token = (sub: string) => new SignJWT({ sub, role: 'authenticated', exp: Math.floor(Date.now() / 1000) + 300 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(SECRET))
    const as = async (sub: string) => ({ key: null, headers: { authorization: `Bearer ${await token(sub)}` } })
    const id = await defer(atrium, { client: 'shop', ...(await as('user-one')) })
    assert.deepEqual((await list(atrium, '', await as('user-one'))).ids, [id])
    assert.deepEqual((await list(atrium, '', await as('user-two'))).ids, [])
    assert.ok(!(await list(atrium, '', { key: alice.key })).ids.includes(id))
    assert.ok((await list(atrium, '')).ids.includes(id), 'the admin key sees it')
  })
})
