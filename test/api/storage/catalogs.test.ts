import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { createPgDatabase } from '../../helpers/databases.js'

// GET /storage/catalogs: the storage connections a client can name as s3_id; the SDK reads { data: [...] } raw.
test('GET /storage/catalogs', async (t) => {
  const db = await createPgDatabase(t)
  const atrium = await startTestAtrium(t, { sources: { app: db.url } })

  await t.test('lists the default connection (the filesystem store) without credentials', async () => {
    const res = await atrium.get('/storage/catalogs', { client: 'app' })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.data.length, 1)
    const [item] = res.body.data
    assert.equal(item.id, 'default')
    assert.equal(item.provider, 'filesystem')
    assert.equal(item.is_active, true)
    assert.ok(!/secret|access_key/i.test(res.text), 'no credential is shown')
  })

  await t.test('needs a key (401) and the storage.read right (403), in the Athena envelope', async () => {
    const none = await atrium.get('/storage/catalogs', { client: 'app', key: null })
    assert.equal(none.status, 401)
    assert.equal(none.body.status, 'error')
    const { key } = await createKey(atrium, { rights: ['gateway.read'] })
    const denied = await atrium.get('/storage/catalogs', { client: 'app', key })
    assert.equal(denied.status, 403)
    assert.equal(denied.body.code, 'missing_right')
    assert.equal(denied.body.data.required_right, 'storage.read')
    const { key: reader } = await createKey(atrium, { rights: ['storage.read'] })
    assert.equal((await atrium.get('/storage/catalogs', { client: 'app', key: reader })).status, 200)
  })

  await t.test('an unknown storage route is a 404 in the Athena envelope', async () => {
    const res = await atrium.post('/storage/nothing-here', { client: 'app', body: {} })
    assert.equal(res.status, 404)
    assert.equal(res.body.code, 'route_not_found')
  })
})
