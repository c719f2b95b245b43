import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BACKENDS, createBucket, putToUploadUrl, startStorageAtrium, uploadFile, uploadUrl } from '../../helpers/storage-files.js'

// /storage/files/{id}/public-url, /proxy-url, /versions*, and /storage/files/search, on both backends.

for (const backend of BACKENDS) {
  test(`storage file links and versions: ${backend}`, async (t) => {
    const atrium = await startStorageAtrium(t, backend)
    await createBucket(atrium, 'open', { public: true })
    await createBucket(atrium, 'closed')
    await createBucket(atrium, 'kept', { versioning: true })
    const app = { client: 'app' }

    await t.test('public-url: a file of a public bucket is readable without a key; a private bucket\'s is refused', async () => {
      const file = await uploadFile(atrium, { bucket: 'open', storage_key: 'img/logo.txt', content_type: 'text/plain' }, 'public bytes')
      const res = await atrium.get(`/storage/files/${file.id}/public-url`, app)
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.public, true)
      const anonymous = await fetch(res.body.data.url)
      assert.equal(anonymous.status, 200)
      assert.equal(await anonymous.text(), 'public bytes')
      const closed = await uploadFile(atrium, { bucket: 'closed', storage_key: 'secret.txt', content_type: 'text/plain' }, 'secret')
      const refused = await atrium.get(`/storage/files/${closed.id}/public-url`, app)
      assert.equal(refused.status, 400)
      assert.equal(refused.body.code, 'bucket_not_public')
    })

    await t.test('proxy-url names the proxy route, which needs the caller\'s key', async () => {
      const file = await uploadFile(atrium, { bucket: 'closed', storage_key: 'proxied.txt', content_type: 'text/plain' }, 'via proxy')
      const res = await atrium.get(`/storage/files/${file.id}/proxy-url?purpose=download`, app)
      assert.equal(res.status, 200, res.text)
      const url = new URL(res.body.data.url)
      assert.equal(url.pathname, `/storage/files/${file.id}/proxy`)
      assert.equal(url.searchParams.get('purpose'), 'download')
      assert.equal((await fetch(url)).status, 401)
      const withKey = await atrium.get(`${url.pathname}${url.search}`, app)
      assert.equal(withKey.text, 'via proxy')
      assert.equal((await atrium.get(`/storage/files/${file.id}/proxy-url?purpose=steal`, app)).status, 400)
    })

    await t.test('versions: a versioned bucket keeps replaced bytes; restore and delete a version', async () => {
      const { file, upload } = await uploadUrl(atrium, { bucket: 'kept', storage_key: 'doc.txt', content_type: 'text/plain' })
      await putToUploadUrl(upload, 'first')
      assert.equal((await atrium.get(`/storage/files/${file.id}`, app)).body.data.file.status, 'uploaded')
      const second = await atrium.request('PUT', `/storage/files/${file.id}/upload`, { ...app, headers: { 'content-type': 'text/plain' }, raw: 'second' })
      assert.equal(second.status, 200, second.text)
      const listed = await atrium.get(`/storage/files/${file.id}/versions`, app)
      assert.equal(listed.status, 200, listed.text)
      assert.equal(listed.body.data.versioning, true)
      assert.equal(listed.body.data.versions.length, 1)
      const versionId = listed.body.data.versions[0].version_id
      assert.equal(listed.body.data.versions[0].size, 5)
      const restored = await atrium.post(`/storage/files/${file.id}/versions/${versionId}/restore`, app)
      assert.equal(restored.status, 200, restored.text)
      assert.equal(restored.body.data.file.size_bytes, 5)
      assert.equal((await atrium.get(`/storage/files/${file.id}/proxy`, app)).text, 'first')
      // "second" became a version when "first" came back
      const after = (await atrium.get(`/storage/files/${file.id}/versions`, app)).body.data.versions
      assert.equal(after.length, 2)
      const deleted = await atrium.request('DELETE', `/storage/files/${file.id}/versions/${versionId}`, app)
      assert.equal(deleted.status, 200, deleted.text)
      assert.equal((await atrium.get(`/storage/files/${file.id}/versions`, app)).body.data.versions.length, 1)
      const unknown = await atrium.request('DELETE', `/storage/files/${file.id}/versions/${versionId}`, app)
      assert.equal(unknown.status, 404)
      assert.equal(unknown.body.code, 'object_version_not_found')
      // a bucket without versioning keeps none
      const plain = await uploadFile(atrium, { bucket: 'closed', storage_key: 'plain.txt', content_type: 'text/plain' }, 'one')
      await atrium.request('PUT', `/storage/files/${plain.id}/upload`, { ...app, headers: { 'content-type': 'text/plain' }, raw: 'two' })
      const none = await atrium.get(`/storage/files/${plain.id}/versions`, app)
      assert.equal(none.body.data.versioning, false)
      assert.deepEqual(none.body.data.versions, [])
    })

    await t.test('search finds a part of the name or key, with the list filters', async () => {
      await uploadFile(atrium, { bucket: 'closed', storage_key: 'search/Annual-Report.pdf', content_type: 'application/pdf' }, 'a')
      await uploadFile(atrium, { bucket: 'closed', storage_key: 'search/notes.txt', name: 'Report notes', content_type: 'text/plain' }, 'b')
      await uploadFile(atrium, { bucket: 'closed', storage_key: 'search/other.txt', content_type: 'text/plain' }, 'c')
      const res = await atrium.post('/storage/files/search', { ...app, body: { query: 'report', prefix: 'search/' } })
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(res.body.data.files.map((f: any) => f.storage_key), ['search/Annual-Report.pdf', 'search/notes.txt'])
      const typed = await atrium.post('/storage/files/search', { ...app, body: { s3_id: 'default', query: 'report', content_type: 'text/plain' } })
      assert.deepEqual(typed.body.data.files.map((f: any) => f.storage_key), ['search/notes.txt'])
      const wild = await atrium.post('/storage/files/search', { ...app, body: { query: '%' } })
      assert.equal(wild.body.data.count, 0, 'the query is text, not a pattern')
    })
  })
}
