import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { startTestAtrium, type TestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'
import { startS3Server } from '../../helpers/s3-server.js'

// Public routes publishing a storage read: the objects of one bucket under a prefix, read and listed without a
// key, on both object store backends (filesystem, S3 via s3rver). Nothing a caller sends reaches another key,
// bucket, client or connection.

const BACKENDS = [
  { name: 'filesystem', env: async (_t: TestContext) => ({}) },
  { name: 's3', env: async (t: TestContext) => (await startS3Server(t)).env },
]

const ROUTE = { route_key: 'media-files', client_name: 'app', operation: 'storage_read', bucket: 'media', prefix: 'pub/', limit: 2 }

/** uploads as the SDK does: a signed URL, then a PUT of the bytes */
async function upload(atrium: TestAtrium, client: string, bucket: string, key: string, text: string, contentType = 'text/plain') {
  const signed = await atrium.post('/storage/objects/upload-url', { client, body: { s3_id: 'default', bucket, key, content_type: contentType } })
  assert.equal(signed.status, 200, signed.text)
  const put = await fetch(signed.body.data.url, { method: 'PUT', body: text, headers: signed.body.data.headers })
  assert.ok(put.ok, `PUT ${key}: ${put.status}`)
}

for (const backend of BACKENDS) {
  test(`public storage routes: ${backend.name}`, async (t) => {
    const env = await backend.env(t)
    const [app, other] = await Promise.all([createPgDatabase(t), createPgDatabase(t)])
    const atrium = await startTestAtrium(t, { sources: { app: app.url, other: other.url }, env, settings: { 'rateLimits.publicPerIp': 1000 } })
    const raw = (op: string, query: string, init: RequestInit = {}) => fetch(`${atrium.url}/public/${ROUTE.route_key}/${op}?${query}`, init)
    const call = (op: string, query = '') => atrium.get(`/public/${ROUTE.route_key}/${op}${query ? `?${query}` : ''}`, { key: null })

    // app's private bucket "media": published keys under pub/, private ones beside them; other's "media" and "vault"
    for (const bucket of ['media']) assert.equal((await atrium.post('/storage/buckets/create', { client: 'app', body: { s3_id: 'default', bucket } })).status, 201)
    for (const bucket of ['media', 'vault']) assert.equal((await atrium.post('/storage/buckets/create', { client: 'other', body: { s3_id: 'default', bucket } })).status, 201)
    await upload(atrium, 'app', 'media', 'pub/a.txt', 'hello, public world')
    await upload(atrium, 'app', 'media', 'pub/b.txt', 'bee')
    await upload(atrium, 'app', 'media', 'pub/sub/c.txt', 'sea')
    await upload(atrium, 'app', 'media', 'pubx/not-this.txt', 'outside, though it shares the first letters')
    await upload(atrium, 'app', 'media', 'private/secret.txt', 'private')
    await upload(atrium, 'other', 'media', 'pub/a.txt', "another client's bytes")
    await upload(atrium, 'other', 'vault', 'pub/a.txt', "another client's vault")

    await t.test('the admin key publishes a storage read; its record comes back as stored', async () => {
      const res = await atrium.post('/admin/public-routes', { body: ROUTE })
      assert.equal(res.status, 201, res.text)
      const { route } = res.body.data
      assert.deepEqual({ ...route, created_at: undefined, updated_at: undefined }, {
        ...ROUTE, s3_id: 'default', table_name: null, columns: null, conditions: [], rate_limit: null, description: null, enabled: true, created_at: undefined, updated_at: undefined,
      })
      const listed = await atrium.get('/admin/public-routes')
      assert.deepEqual(listed.body.data.routes.map((r: { route_key: string; bucket: string }) => [r.route_key, r.bucket]), [[ROUTE.route_key, 'media']])
    })

    await t.test('what is published is checked: the client\'s own bucket, a known connection, a valid prefix, no fetch fields', async () => {
      const cases: Array<[Record<string, unknown>, number, string]> = [
        [{ bucket: 'vault' }, 404, 'bucket_not_found'], // other's bucket, published for app
        [{ bucket: 'nope' }, 404, 'bucket_not_found'],
        [{ bucket: undefined }, 400, 'invalid_request'],
        [{ s3_id: 'elsewhere' }, 404, 'storage_catalog_not_found'],
        [{ prefix: '../' }, 400, 'invalid_object_key'],
        [{ prefix: '/abs' }, 400, 'invalid_object_key'],
        [{ table_name: 'customers' }, 400, 'invalid_request'],
        [{ columns: ['id'] }, 400, 'invalid_request'],
        [{ client_name: 'nowhere' }, 400, 'unknown_client'],
        [{ operation: 'storage_write' }, 400, 'invalid_request'],
      ]
      for (const [change, status, code] of cases) {
        const res = await atrium.post('/admin/public-routes', { body: { ...ROUTE, route_key: 'checked', ...change } })
        assert.equal(res.status, status, `${JSON.stringify(change)}: ${res.text}`)
        assert.equal(res.body.code, code, JSON.stringify(change))
      }
      assert.equal((await atrium.get('/admin/public-routes/checked')).status, 404)
      const fetchWithBucket = await atrium.post('/admin/public-routes', { body: { route_key: 'checked', client_name: 'app', operation: 'fetch', table_name: 't', columns: ['id'], bucket: 'media' } })
      assert.equal(fetchWithBucket.status, 400)
      const switched = await atrium.request('PATCH', `/admin/public-routes/${ROUTE.route_key}`, { body: { operation: 'fetch' } })
      assert.equal(switched.status, 400)
      assert.match(switched.body.message, /operation cannot be changed/)
      const bad = await atrium.request('PATCH', `/admin/public-routes/${ROUTE.route_key}`, { body: { prefix: '..' } })
      assert.equal(bad.status, 400)
      assert.equal((await atrium.get(`/admin/public-routes/${ROUTE.route_key}`)).body.data.route.prefix, 'pub/', 'nothing changed')
    })

    await t.test('get streams a published object with its type, ETag and length, without a key', async () => {
      const res = await raw('get', 'key=pub/a.txt')
      assert.equal(res.status, 200)
      assert.equal(await res.text(), 'hello, public world')
      assert.equal(res.headers.get('content-type'), 'text/plain')
      assert.equal(res.headers.get('content-length'), String('hello, public world'.length))
      assert.equal(res.headers.get('accept-ranges'), 'bytes')
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
      const etag = res.headers.get('etag')
      assert.match(etag ?? '', /^"[0-9a-f]{32}"$/)
      const head = await raw('get', 'key=pub/a.txt', { method: 'HEAD' })
      assert.equal(head.status, 200)
      assert.equal(head.headers.get('etag'), etag)
      const cached = await raw('get', 'key=pub/a.txt', { headers: { 'if-none-match': etag! } })
      assert.equal(cached.status, 304)
      assert.equal(await cached.text(), '')
      const encoded = await raw('get', `key=${encodeURIComponent('pub/sub/c.txt')}`)
      assert.equal(await encoded.text(), 'sea')
    })

    await t.test('get answers a Range with 206 and Content-Range, an unsatisfiable one with 416', async () => {
      const part = await raw('get', 'key=pub/a.txt', { headers: { range: 'bytes=7-12' } })
      assert.equal(part.status, 206)
      assert.equal(await part.text(), 'public')
      assert.equal(part.headers.get('content-range'), `bytes 7-12/${'hello, public world'.length}`)
      assert.equal(part.headers.get('content-length'), '6')
      const suffix = await raw('get', 'key=pub/a.txt', { headers: { range: 'bytes=-5' } })
      assert.equal(await suffix.text(), 'world')
      const outside = await raw('get', 'key=pub/a.txt', { headers: { range: 'bytes=500-' } })
      assert.equal(outside.status, 416)
      assert.equal(outside.headers.get('content-range'), `bytes */${'hello, public world'.length}`)
      assert.equal(((await outside.json()) as { code: string }).code, 'invalid_range')
    })

    await t.test('get never widens: keys outside the prefix, "..", other buckets and connections are 404 or 400', async () => {
      const cases: Array<[string, number, string]> = [
        ['key=private/secret.txt', 404, 'object_not_found'],
        ['key=pubx/not-this.txt', 404, 'object_not_found'],
        ['key=pub/missing.txt', 404, 'object_not_found'],
        ['key=pub/../private/secret.txt', 400, 'invalid_object_key'],
        [`key=${encodeURIComponent('pub/../private/secret.txt')}`, 400, 'invalid_object_key'],
        ['key=pub//a.txt', 400, 'invalid_object_key'],
        ['key=pub/a.txt&bucket=vault', 400, 'public_parameter_not_allowed'],
        ['key=pub/a.txt&s3_id=elsewhere', 400, 'public_parameter_not_allowed'],
        ['key=pub/a.txt&client=other', 400, 'public_parameter_not_allowed'],
        ['key=pub/a.txt&key=private/secret.txt', 400, 'public_parameter_not_allowed'],
        ['', 400, 'invalid_request'],
      ]
      for (const [query, status, code] of cases) {
        const res = await call('get', query)
        assert.equal(res.status, status, `${query}: ${res.text}`)
        assert.equal(res.body.code, code, query)
        assert.ok(!res.text.includes('private') || query.includes('private'), 'nothing of the private key is shown')
        assert.ok(!/b-[0-9a-f]{32}/.test(res.text), 'the store\'s namespace of the bucket is never shown')
      }
      // X-Athena-Client names another client: the route reads its own client's bucket all the same
      const res = await atrium.get(`/public/${ROUTE.route_key}/get?key=pub/a.txt`, { key: null, client: 'other' })
      assert.equal(res.text, 'hello, public world')
    })

    await t.test('list pages the keys under the published prefix, within the published limit', async () => {
      const keys: string[] = []
      let token: string | null = null
      for (let page = 0; page < 10; page++) {
        const query: string = `limit=1000${token ? `&continuation_token=${encodeURIComponent(token)}` : ''}`
        const res = await call('list', query)
        assert.equal(res.status, 200, res.text)
        assert.equal(res.body.status, 'success')
        assert.ok(res.body.data.objects.length <= ROUTE.limit, 'a larger limit is cut to the published one')
        keys.push(...res.body.data.objects.map((o: { key: string }) => o.key))
        token = res.body.data.next_continuation_token
        assert.equal(res.body.data.is_truncated, token !== null)
        if (!token) break
      }
      assert.deepEqual(keys.sort(), ['pub/a.txt', 'pub/b.txt', 'pub/sub/c.txt'])
      const sub = await call('list', 'prefix=pub/sub/')
      assert.deepEqual(sub.body.data.objects.map((o: { key: string }) => o.key), ['pub/sub/c.txt'])
      assert.equal(sub.body.data.objects[0].size, 3)
      // with a delimiter, pub/sub/ folds into one common prefix (on whichever page the store puts it)
      const objects: string[] = []
      const prefixes: string[] = []
      let next: string | null = null
      for (let page = 0; page < 10; page++) {
        const res = await call('list', `delimiter=/${next ? `&continuation_token=${encodeURIComponent(next)}` : ''}`)
        assert.equal(res.status, 200, res.text)
        objects.push(...res.body.data.objects.map((o: { key: string }) => o.key))
        prefixes.push(...res.body.data.common_prefixes)
        next = res.body.data.next_continuation_token
        if (!next) break
      }
      assert.deepEqual([objects.sort(), prefixes], [['pub/a.txt', 'pub/b.txt'], ['pub/sub/']])
    })

    await t.test('list never widens: another prefix, a forged token, other parameters are refused', async () => {
      const cases: Array<[string, number, string]> = [
        ['prefix=private/', 400, 'public_parameter_not_allowed'],
        ['prefix=', 400, 'public_parameter_not_allowed'],
        ['prefix=pu', 400, 'public_parameter_not_allowed'],
        ['prefix=pub/../', 400, 'invalid_object_key'],
        ['continuation_token=made-up', 400, 'invalid_request'],
        ['limit=0', 400, 'invalid_request'],
        ['limit=lots', 400, 'invalid_request'],
        ['delimiter=x', 400, 'invalid_request'],
        ['bucket=vault', 400, 'public_parameter_not_allowed'],
        ['key=pub/a.txt', 400, 'public_parameter_not_allowed'],
      ]
      for (const [query, status, code] of cases) {
        const res = await call('list', query)
        assert.equal(res.status, status, `${query}: ${res.text}`)
        assert.equal(res.body.code, code, query)
      }
    })

    await t.test('other operations and methods are 405; a withdrawn or disabled route is 404', async () => {
      for (const op of ['fetch', 'count', 'put', 'delete']) {
        const res = await call(op)
        assert.equal(res.status, 405, op)
        assert.equal(res.body.code, 'public_operation_not_allowed')
        assert.match(res.body.hint, /get or GET \/public\/media-files\/list/)
      }
      const put = await atrium.request('PUT', `/public/${ROUTE.route_key}/get?key=pub/a.txt`, { key: null, body: { x: 1 } })
      assert.equal(put.status, 405)
      assert.equal((await raw('get', 'key=pub/a.txt')).status, 200, 'a refused write changed nothing')
    })

    await t.test('calls are limited per address: 429 with Retry-After', async () => {
      const limited = await atrium.post('/admin/public-routes', { body: { ...ROUTE, route_key: 'limited', rate_limit: 2 } })
      assert.equal(limited.status, 201, limited.text)
      let refusal
      for (let i = 0; i < 20 && !refusal; i++) {
        const res = await atrium.get('/public/limited/get?key=pub/b.txt', { key: null })
        if (res.status === 429) refusal = res
        else assert.equal(res.status, 200)
      }
      assert.ok(refusal, 'a call over the limit is refused')
      assert.equal(refusal.body.code, 'rate_limited')
      assert.ok(Number(refusal.headers.get('retry-after')) >= 1)
    })

    await t.test('a disabled or withdrawn route is 404', async () => {
      const off = await atrium.request('PATCH', `/admin/public-routes/${ROUTE.route_key}`, { body: { enabled: false } })
      assert.equal(off.status, 200, off.text)
      assert.equal((await call('get', 'key=pub/a.txt')).body.code, 'public_route_not_found')
      assert.equal((await atrium.request('DELETE', `/admin/public-routes/${ROUTE.route_key}`)).status, 200)
      const gone = await call('list')
      assert.equal(gone.status, 404)
      assert.equal(gone.body.code, 'public_route_not_found')
    })
  })
}
