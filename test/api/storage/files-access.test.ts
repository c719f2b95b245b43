import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createKey } from '../../helpers/auth-grid.js'
import { createBucket, startStorageAtrium, uploadFile } from '../../helpers/storage-files.js'

// Every /storage/files*, /storage/folders/* and /storage/multipart/* route: 401 without a key, 403 missing_right with a key that
// lacks the route's right (storage.read or storage.write), and past both with a key that holds it.

test('storage files and multipart: keys and rights', async (t) => {
  const atrium = await startStorageAtrium(t, 'filesystem')
  await createBucket(atrium, 'docs')
  const file = await uploadFile(atrium, { bucket: 'docs', storage_key: 'grid/a.txt', content_type: 'text/plain' }, 'grid')
  const id = file.id
  const upload = { file_id: id, upload_id: 'no-such-upload' }
  const routes: { method: string; path: string; right: 'storage.read' | 'storage.write'; body?: unknown; raw?: string }[] = [
    { method: 'POST', path: '/storage/files/upload-url', right: 'storage.write', body: { s3_id: 'default', bucket: 'docs', storage_key: 'grid/new.txt' } },
    { method: 'POST', path: '/storage/files/upload-urls', right: 'storage.write', body: { files: [{ s3_id: 'default', bucket: 'docs', storage_key: 'grid/new2.txt' }] } },
    { method: 'PUT', path: `/storage/files/${id}/upload`, right: 'storage.write', raw: 'bytes' },
    { method: 'POST', path: `/storage/files/${id}/confirm-upload`, right: 'storage.write', body: {} },
    { method: 'POST', path: '/storage/files/list', right: 'storage.read', body: { s3_id: 'default' } },
    { method: 'GET', path: `/storage/files/${id}`, right: 'storage.read' },
    { method: 'GET', path: `/storage/files/${id}/url`, right: 'storage.read' },
    { method: 'GET', path: `/storage/files/${id}/proxy`, right: 'storage.read' },
    { method: 'PATCH', path: `/storage/files/${id}`, right: 'storage.write', body: { name: 'renamed' } },
    { method: 'POST', path: '/storage/files/update-many', right: 'storage.write', body: { file_ids: [id], resource_id: 'r' } },
    { method: 'PATCH', path: `/storage/files/${id}/visibility`, right: 'storage.write', body: { public: false } },
    { method: 'POST', path: `/storage/files/${id}/visibility`, right: 'storage.write', body: { public: false } },
    { method: 'POST', path: '/storage/files/visibility-many', right: 'storage.write', body: { file_ids: [id], public: false } },
    { method: 'POST', path: `/storage/files/${id}/copy`, right: 'storage.write', body: { storage_key: 'grid/copy.txt' } },
    { method: 'POST', path: `/storage/files/${id}/restore`, right: 'storage.write' },
    { method: 'POST', path: '/storage/files/delete-many', right: 'storage.write', body: { file_ids: ['00000000-0000-4000-8000-000000000000'] } },
    { method: 'DELETE', path: '/storage/files/00000000-0000-4000-8000-000000000000', right: 'storage.write' },
    { method: 'DELETE', path: '/storage/files/00000000-0000-4000-8000-000000000000/purge', right: 'storage.write' },
    { method: 'GET', path: `/storage/files/${id}/public-url`, right: 'storage.read' },
    { method: 'GET', path: `/storage/files/${id}/proxy-url`, right: 'storage.read' },
    { method: 'GET', path: `/storage/files/${id}/versions`, right: 'storage.read' },
    { method: 'POST', path: `/storage/files/${id}/versions/00000000-0000-4000-8000-000000000000/restore`, right: 'storage.write' },
    { method: 'DELETE', path: `/storage/files/${id}/versions/00000000-0000-4000-8000-000000000000`, right: 'storage.write' },
    { method: 'POST', path: '/storage/files/search', right: 'storage.read', body: { query: 'a' } },
    { method: 'POST', path: '/storage/folders/list', right: 'storage.read', body: { s3_id: 'default', prefix: 'grid/' } },
    { method: 'POST', path: '/storage/folders/tree', right: 'storage.read', body: { s3_id: 'default', prefix: 'grid/' } },
    { method: 'POST', path: '/storage/folders/delete', right: 'storage.write', body: { s3_id: 'default', prefix: 'nothing-here/' } },
    { method: 'POST', path: '/storage/folders/move', right: 'storage.write', body: { s3_id: 'default', from_prefix: 'nothing-here/', to_prefix: 'elsewhere/' } },
    { method: 'POST', path: '/storage/multipart/create', right: 'storage.write', body: { file_id: '00000000-0000-4000-8000-000000000000' } },
    { method: 'POST', path: '/storage/multipart/sign-part', right: 'storage.write', body: { ...upload, part_number: 1 } },
    { method: 'POST', path: '/storage/multipart/list-parts', right: 'storage.read', body: upload },
    { method: 'POST', path: '/storage/multipart/complete', right: 'storage.write', body: { ...upload, parts: [{ part_number: 1, etag: '"x"' }] } },
    { method: 'POST', path: '/storage/multipart/abort', right: 'storage.write', body: upload },
  ]
  const { key: unrelated } = await createKey(atrium, { rights: ['gateway.read'] })
  const { key: reader } = await createKey(atrium, { rights: ['storage.read'] })
  const { key: writer } = await createKey(atrium, { rights: ['storage.read', 'storage.write'] })
  const send = (r: (typeof routes)[number], key: string | null) =>
    atrium.request(r.method, r.path, { client: 'app', key, body: r.body, raw: r.raw, headers: r.raw ? { 'content-type': 'text/plain' } : undefined })

  for (const r of routes) {
    await t.test(`${r.method} ${r.path.replace(id, '{id}')}`, async () => {
      const none = await send(r, null)
      assert.equal(none.status, 401, none.text)
      assert.equal(none.body.status, 'error')
      const denied = await send(r, r.right === 'storage.read' ? unrelated : reader)
      assert.equal(denied.status, 403, denied.text)
      assert.equal(denied.body.code, 'missing_right')
      assert.equal(denied.body.data.required_right, r.right)
      const allowed = await send(r, writer)
      assert.ok(![401, 403].includes(allowed.status), `${allowed.status} ${allowed.text}`)
      assert.ok(allowed.status < 500, allowed.text)
    })
  }

  await t.test('a key bound to another client cannot reach this client\'s files', async () => {
    const { key } = await createKey(atrium, { rights: ['storage.read', 'storage.write'], client_name: 'other' })
    const res = await atrium.get(`/storage/files/${id}`, { client: 'app', key })
    assert.equal(res.status, 403, res.text)
    const own = await atrium.get(`/storage/files/${id}`, { client: 'other', key })
    assert.equal(own.status, 404)
  })
})
