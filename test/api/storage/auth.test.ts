import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { createPgDatabase } from '../../helpers/databases.js'

// Every /storage route: 401 without a key, 403 with a key that lacks its right (storage.read or storage.write,
// named in data.required_right), answered with the right; a key bound to another client is refused, and a
// key bound to a client may leave out X-Athena-Client.
const S = { s3_id: 'default', bucket: 'grid' }
const ROUTES: { method: string; path: string; right: 'storage.read' | 'storage.write'; body?: Record<string, unknown> }[] = [
  { method: 'GET', path: '/storage/catalogs', right: 'storage.read' },
  { method: 'POST', path: '/storage/buckets/list', right: 'storage.read', body: { s3_id: 'default' } },
  { method: 'POST', path: '/storage/buckets/create', right: 'storage.write', body: { s3_id: 'default', bucket: 'made-by-grid' } },
  { method: 'POST', path: '/storage/buckets/delete', right: 'storage.write', body: { s3_id: 'default', bucket: 'made-by-grid' } },
  ...(['cors', 'lifecycle', 'policy', 'public-access'] as const).flatMap((setting) => [
    { method: 'POST', path: `/storage/buckets/${setting}`, right: 'storage.read' as const, body: S },
    {
      method: 'POST', path: `/storage/buckets/${setting}/set`, right: 'storage.write' as const,
      body: { ...S, ...{ cors: { rules: [] }, lifecycle: { rules: [] }, policy: { policy: {} }, 'public-access': { block_public_acls: true } }[setting] },
    },
    { method: 'POST', path: `/storage/buckets/${setting}/delete`, right: 'storage.write' as const, body: S },
  ]),
  { method: 'POST', path: '/storage/objects', right: 'storage.read', body: S },
  { method: 'POST', path: '/storage/objects/head', right: 'storage.read', body: { ...S, key: 'k' } },
  { method: 'POST', path: '/storage/objects/exists', right: 'storage.read', body: { ...S, key: 'k' } },
  { method: 'POST', path: '/storage/objects/validate', right: 'storage.read', body: { ...S, key: 'k' } },
  { method: 'POST', path: '/storage/objects/url', right: 'storage.read', body: { ...S, key: 'k' } },
  { method: 'POST', path: '/storage/objects/public-url', right: 'storage.read', body: { ...S, key: 'k' } },
  { method: 'POST', path: '/storage/objects/versions', right: 'storage.read', body: { ...S, key: 'k' } },
  { method: 'POST', path: '/storage/objects/update', right: 'storage.write', body: { ...S, key: 'k', metadata: { a: 'b' } } },
  { method: 'POST', path: '/storage/objects/copy', right: 'storage.write', body: { ...S, source_key: 'k', destination_key: 'k2' } },
  { method: 'POST', path: '/storage/objects/upload-url', right: 'storage.write', body: { ...S, key: 'k3' } },
  { method: 'POST', path: '/storage/objects/post-policy', right: 'storage.write', body: { ...S, key: 'k4' } },
  { method: 'POST', path: '/storage/objects/versions/restore', right: 'storage.write', body: { ...S, key: 'k', version_id: '00000000-0000-0000-0000-000000000000' } },
  { method: 'POST', path: '/storage/objects/versions/delete', right: 'storage.write', body: { ...S, key: 'k', version_id: '00000000-0000-0000-0000-000000000000' } },
  { method: 'POST', path: '/storage/objects/folder', right: 'storage.write', body: { ...S, prefix: 'f/' } },
  { method: 'POST', path: '/storage/objects/folder/rename', right: 'storage.write', body: { ...S, from_prefix: 'f/', to_prefix: 'g/' } },
  { method: 'POST', path: '/storage/objects/folder/delete', right: 'storage.write', body: { ...S, prefix: 'g/' } },
  { method: 'POST', path: '/storage/objects/delete', right: 'storage.write', body: { ...S, key: 'k2' } },
]

test('storage routes: who may call them', async (t) => {
  const [app, other] = await Promise.all([createPgDatabase(t), createPgDatabase(t)])
  const atrium = await startTestAtrium(t, { sources: { app: app.url, other: other.url } })
  assert.equal((await atrium.post('/storage/buckets/create', { client: 'app', body: { ...S, public: true } })).status, 201)
  const signed = await atrium.post('/storage/objects/upload-url', { client: 'app', body: { ...S, key: 'k' } })
  assert.ok((await fetch(signed.body.data.url, { method: 'PUT', body: 'x', headers: signed.body.data.headers })).ok)

  const { key: neither } = await createKey(atrium, { rights: ['gateway.read', 'gateway.insert'] })
  const { key: reader } = await createKey(atrium, { rights: ['storage.read'] })
  const { key: both } = await createKey(atrium, { rights: ['storage.read', 'storage.write'] })
  const { key: elsewhere } = await createKey(atrium, { rights: ['storage.read', 'storage.write'], client_name: 'other' })

  for (const route of ROUTES) {
    await t.test(`${route.method} ${route.path}`, async () => {
      const call = (key: string | null) => atrium.request(route.method, route.path, { client: 'app', key, body: route.body })
      const anonymous = await call(null)
      assert.equal(anonymous.status, 401, anonymous.text)
      assert.equal(anonymous.body.status, 'error')
      const wrong = await call(neither)
      assert.equal(wrong.status, 403, wrong.text)
      assert.equal(wrong.body.code, 'missing_right')
      assert.equal(wrong.body.data.required_right, route.right)
      if (route.right === 'storage.write') {
        const readOnly = await call(reader)
        assert.equal(readOnly.status, 403, readOnly.text)
        assert.equal(readOnly.body.data.required_right, 'storage.write')
      }
      const bound = await call(elsewhere)
      assert.ok(bound.status === 401 || bound.status === 403, `a key bound to another client: ${bound.status} ${bound.text}`)
      const allowed = await call(route.right === 'storage.read' ? reader : both)
      assert.ok(![401, 403].includes(allowed.status) && allowed.status < 500, `${allowed.status} ${allowed.text}`)
    })
  }

  await t.test('without X-Athena-Client, a key bound to a client is about that client; an unbound key needs the header', async () => {
    const { key: boundToApp } = await createKey(atrium, { rights: ['storage.read'], client_name: 'app' })
    const own = await atrium.post('/storage/buckets/list', { key: boundToApp, body: { s3_id: 'default' } })
    assert.equal(own.status, 200, own.text)
    assert.ok(own.body.data.buckets.some((b: { name: string }) => b.name === 'grid'))
    const unbound = await atrium.post('/storage/buckets/list', { key: reader, body: { s3_id: 'default' } })
    assert.equal(unbound.status, 400)
    assert.equal(unbound.body.code, 'missing_client_header')
    const crossing = await atrium.post('/storage/buckets/list', { key: boundToApp, client: 'other', body: { s3_id: 'default' } })
    assert.ok(crossing.status === 401 || crossing.status === 403, crossing.text)
    const noKey = await atrium.post('/storage/buckets/list', { key: null, body: { s3_id: 'default' } })
    assert.equal(noKey.status, 401)
  })

  await t.test('the public object route needs no key, and shows only public buckets', async () => {
    const url = (await atrium.post('/storage/objects/public-url', { client: 'app', body: { ...S, key: 'k' } })).body.data.url as string
    const res = await fetch(url)
    assert.equal(res.status, 200)
    assert.equal(await res.text(), 'x')
    const unknown = await fetch(url.replace('/grid/', '/nope/'))
    assert.equal(unknown.status, 404)
    assert.equal(((await unknown.json()) as { status: string }).status, 'error')
  })
})
