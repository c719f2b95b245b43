import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { BACKENDS, createBucket, putToUploadUrl, startStorageAtrium, uploadFile, uploadUrl } from '../../helpers/storage-files.js'

// /storage/files*: file records as athena-js 5 drives them (upload-url → PUT to the URL → read, list, change,
// delete), on the filesystem store (URLs served by Atrium) and on S3 (presigned s3rver URLs). Bodies and the
// fields asserted are the ones the SDK sends and reads (src/storage/module.ts, file.ts).

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

for (const backend of BACKENDS) {
  test(`storage files: ${backend}`, async (t) => {
    const atrium = await startStorageAtrium(t, backend)
    await createBucket(atrium, 'docs')
    await createBucket(atrium, 'limited', { file_size_limit: 1000, allowed_mime_types: ['text/*', 'image/png'] })
    await createBucket(atrium, 'docs', {}, 'other')
    const app = { client: 'app' }
    const get = (id: string, client = 'app') => atrium.get(`/storage/files/${id}`, { client })

    await t.test('upload-url, a PUT to the URL, then the file reads back as uploaded (the SDK\'s single-PUT upload)', async () => {
      const bytes = randomBytes(20_000)
      const { file, upload } = await uploadUrl(atrium, {
        bucket: 'docs', storage_key: 'reports/q2.bin', name: 'q2.bin', original_name: 'Q2 Report.bin', mime_type: 'application/octet-stream',
        content_type: 'application/octet-stream', size_bytes: bytes.length, resource_id: 'report_q2', public: false, metadata: { report_type: 'quarterly' },
        // what the SDK passes through from its input; accepted, the store encrypts as configured
        server_side_encryption: 'AES256', bucket_key_enabled: false,
      })
      assert.equal(file.status, 'pending')
      assert.equal(file.storage_key, 'reports/q2.bin')
      assert.equal(file.bucket, 'docs')
      assert.equal(file.s3_id, 'default')
      assert.equal(file.is_public, false)
      assert.deepEqual(file.metadata, { report_type: 'quarterly' })
      assert.equal(upload.file_id, file.id)
      assert.equal(upload.storage_key, 'reports/q2.bin')
      assert.equal(upload.expires_in, 3600)
      assert.ok(Date.parse(upload.expires_at) > Date.now())
      assert.equal(upload.expires_at_epoch_seconds, Math.floor(Date.parse(upload.expires_at) / 1000))
      assert.equal(upload.headers['Content-Type'], 'application/octet-stream')
      if (backend === 's3') assert.ok(!upload.url.startsWith(atrium.url), 'S3 hands out presigned S3 URLs')
      else assert.ok(upload.url.startsWith(`${atrium.url}/objects/signed/`), 'the filesystem store serves its URLs itself')

      const put = await putToUploadUrl(upload, bytes)
      assert.equal(put.status, 200)
      const read = await get(file.id)
      assert.equal(read.status, 200, read.text)
      assert.equal(read.body.data.file.status, 'uploaded')
      assert.equal(read.body.data.file.size_bytes, bytes.length)
      assert.equal(read.body.data.file.name, 'q2.bin')
      assert.equal(read.body.data.file.original_name, 'Q2 Report.bin')
      assert.equal(read.body.data.file.resource_id, 'report_q2')

      const url = await atrium.get(`/storage/files/${file.id}/url?purpose=download&expires_in=120`, app)
      assert.equal(url.status, 200, url.text)
      assert.equal(url.body.data.purpose, 'download')
      assert.equal(url.body.data.expires_in, 120)
      const downloaded = Buffer.from(await (await fetch(url.body.data.url)).arrayBuffer())
      assert.equal(sha256(downloaded), sha256(bytes))

      const proxy = await fetch(`${atrium.url}/storage/files/${file.id}/proxy?purpose=download`, { headers: { apikey: 'test-admin-key-0123456789abcdef', 'x-athena-client': 'app' } })
      assert.equal(proxy.status, 200)
      assert.equal(proxy.headers.get('content-type'), 'application/octet-stream')
      assert.equal(proxy.headers.get('content-length'), String(bytes.length))
      assert.match(proxy.headers.get('content-disposition')!, /^attachment; filename="q2.bin"/)
      assert.ok(proxy.headers.get('etag'))
      assert.equal(sha256(Buffer.from(await proxy.arrayBuffer())), sha256(bytes))
      const inline = await atrium.get(`/storage/files/${file.id}/proxy?purpose=stream`, app)
      assert.match(inline.headers.get('content-disposition')!, /^inline/)
      // a byte range, as a player streaming the file asks for one
      const part = await fetch(`${atrium.url}/storage/files/${file.id}/proxy?purpose=stream`, { headers: { apikey: 'test-admin-key-0123456789abcdef', 'x-athena-client': 'app', range: 'bytes=100-199' } })
      assert.equal(part.status, 206)
      assert.equal(part.headers.get('content-range'), `bytes 100-199/${bytes.length}`)
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(100, 200))
      const outside = await atrium.get(`/storage/files/${file.id}/proxy`, { ...app, headers: { range: `bytes=${bytes.length + 10}-` } })
      assert.equal(outside.status, 416)
      assert.equal(outside.headers.get('content-range'), `bytes */${bytes.length}`)
    })

    await t.test('confirm-upload checks size and checksum of what arrived, and is repeatable', async () => {
      const { file, upload } = await uploadUrl(atrium, { bucket: 'docs', storage_key: 'confirm/a.txt', content_type: 'text/plain' })
      const early = await atrium.post(`/storage/files/${file.id}/confirm-upload`, { ...app, body: {} })
      assert.equal(early.status, 409)
      assert.equal(early.body.code, 'storage_file_not_uploaded')
      await putToUploadUrl(upload, 'confirmed bytes')
      const wrongSize = await atrium.post(`/storage/files/${file.id}/confirm-upload`, { ...app, body: { size_bytes: 3 } })
      assert.equal(wrongSize.status, 400)
      assert.equal(wrongSize.body.code, 'storage_upload_mismatch')
      const wrongSum = await atrium.post(`/storage/files/${file.id}/confirm-upload`, { ...app, body: { checksum_sha256: sha256('other bytes') } })
      assert.equal(wrongSum.body.code, 'storage_upload_mismatch')
      const badSum = await atrium.post(`/storage/files/${file.id}/confirm-upload`, { ...app, body: { checksum_sha256: 'xyz' } })
      assert.equal(badSum.status, 400)
      const ok = await atrium.post(`/storage/files/${file.id}/confirm-upload`, { ...app, body: { size_bytes: 15, checksum_sha256: sha256('confirmed bytes'), metadata: { step: 'confirmed' } } })
      assert.equal(ok.status, 200, ok.text)
      assert.equal(ok.body.data.file.status, 'uploaded')
      assert.equal(ok.body.data.file.checksum_sha256, sha256('confirmed bytes'))
      assert.deepEqual(ok.body.data.file.metadata, { step: 'confirmed' })
      const again = await atrium.post(`/storage/files/${file.id}/confirm-upload`, { ...app, body: {} })
      assert.equal(again.status, 200)
      assert.equal(again.body.data.file.checksum_sha256, sha256('confirmed bytes'))
    })

    await t.test('PUT /storage/files/{id}/upload streams the bytes through Atrium and records their SHA-256', async () => {
      const { file } = await uploadUrl(atrium, { bucket: 'docs', storage_key: 'through/atrium.json', content_type: 'application/json' })
      const body = JSON.stringify({ hello: 'world' })
      const res = await atrium.request('PUT', `/storage/files/${file.id}/upload`, { ...app, headers: { 'content-type': 'application/json' }, raw: body })
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.file.status, 'uploaded')
      assert.equal(res.body.data.file.size_bytes, body.length)
      assert.equal(res.body.data.file.checksum_sha256, sha256(body))
      const proxy = await atrium.get(`/storage/files/${file.id}/proxy`, app)
      assert.equal(proxy.text, body)
      assert.equal(proxy.headers.get('content-type'), 'application/json')
    })

    await t.test('upload-urls creates several records, all or none', async () => {
      const made = await atrium.post('/storage/files/upload-urls', { ...app, body: { files: [
        { s3_id: 'default', bucket: 'docs', storage_key: 'batch/one.txt', content_type: 'text/plain' },
        { s3_id: 'default', bucket: 'docs', storage_key: 'batch/two.txt', content_type: 'text/plain' },
      ] } })
      assert.equal(made.status, 200, made.text)
      assert.equal(made.body.data.files.length, 2)
      for (const [i, item] of made.body.data.files.entries()) {
        assert.equal(item.file.storage_key, ['batch/one.txt', 'batch/two.txt'][i])
        assert.equal((await putToUploadUrl(item.upload, `file ${i}`)).status, 200)
      }
      const refused = await atrium.post('/storage/files/upload-urls', { ...app, body: { files: [
        { s3_id: 'default', bucket: 'docs', storage_key: 'batch/three.txt', content_type: 'text/plain' },
        { s3_id: 'default', bucket: 'limited', storage_key: 'batch/four.pdf', content_type: 'application/pdf' },
      ] } })
      assert.equal(refused.status, 415)
      assert.equal(refused.body.code, 'mime_type_not_allowed')
      const listed = await atrium.post('/storage/files/list', { ...app, body: { s3_id: 'default', prefix: 'batch/' } })
      assert.deepEqual(listed.body.data.files.map((f: any) => f.storage_key), ['batch/one.txt', 'batch/two.txt'], 'the refused batch created nothing')
    })

    await t.test('the bucket\'s limits: announced sizes and types are refused up front, arrived bytes when they are seen', async () => {
      const tooBig = await atrium.post('/storage/files/upload-url', { ...app, body: { s3_id: 'default', bucket: 'limited', storage_key: 'big.txt', content_type: 'text/plain', size_bytes: 1001 } })
      assert.equal(tooBig.status, 413)
      assert.equal(tooBig.body.code, 'object_too_large')
      const wrongType = await atrium.post('/storage/files/upload-url', { ...app, body: { s3_id: 'default', bucket: 'limited', storage_key: 'x.pdf', content_type: 'application/pdf' } })
      assert.equal(wrongType.status, 415)
      // a signed URL cannot stop a body the bucket would refuse; the file never becomes uploaded with it
      const { file, upload } = await uploadUrl(atrium, { bucket: 'limited', storage_key: 'sneaky.txt', content_type: 'text/plain', size_bytes: 10 })
      assert.equal((await putToUploadUrl(upload, 'x'.repeat(5000))).status, 200)
      const url = await atrium.get(`/storage/files/${file.id}/url`, app)
      assert.equal(url.status, 413)
      assert.equal((await get(file.id)).body.data.file.status, 'pending')
      const gone = await atrium.post(`/storage/files/${file.id}/confirm-upload`, { ...app, body: {} })
      assert.equal(gone.body.code, 'storage_file_not_uploaded', 'the refused bytes were removed')
      // through Atrium, the limit stops the body while it streams
      const through = await atrium.request('PUT', `/storage/files/${file.id}/upload`, { ...app, headers: { 'content-type': 'text/plain' }, raw: 'y'.repeat(5000) })
      assert.equal(through.status, 413)
      const pdf = await atrium.request('PUT', `/storage/files/${file.id}/upload`, { ...app, headers: { 'content-type': 'application/pdf' }, raw: 'z' })
      assert.equal(pdf.status, 415)
      const fits = await atrium.request('PUT', `/storage/files/${file.id}/upload`, { ...app, headers: { 'content-type': 'text/plain' }, raw: 'small' })
      assert.equal(fits.status, 200, fits.text)
    })

    await t.test('list filters by prefix, name, status, metadata and visibility, and pages with limit and offset', async () => {
      for (const [i, name] of ['alpha', 'beta', 'gamma'].entries()) {
        await uploadFile(atrium, { bucket: 'docs', storage_key: `listing/${name}.txt`, content_type: 'text/plain', metadata: { n: i, team: i < 2 ? 'red' : 'blue' }, public: i === 2 }, name)
      }
      await uploadUrl(atrium, { bucket: 'docs', storage_key: 'listing/pending.txt', content_type: 'text/plain' })
      const list = (body: Record<string, unknown>) => atrium.post('/storage/files/list', { ...app, body: { s3_id: 'default', ...body } })
      const all = await list({ prefix: 'listing/' })
      assert.equal(all.status, 200, all.text)
      assert.equal(all.body.data.count, 4)
      assert.equal(all.body.data.total, 4)
      const keys = (res: any) => res.body.data.files.map((f: any) => f.storage_key)
      assert.deepEqual(keys(await list({ prefix: 'listing/', name: 'AMM' })), ['listing/gamma.txt'])
      assert.deepEqual(keys(await list({ key_prefix: 'listing/', status: 'pending' })), ['listing/pending.txt'])
      assert.deepEqual(keys(await list({ prefix: 'listing/', metadata: { team: 'red' } })), ['listing/alpha.txt', 'listing/beta.txt'])
      assert.deepEqual(keys(await list({ prefix: 'listing/', visibility: 'public' })), ['listing/gamma.txt'])
      assert.deepEqual(keys(await list({ prefix: 'listing/', bucket: 'limited' })), [])
      const page1 = await list({ prefix: 'listing/', limit: 3 })
      assert.equal(page1.body.data.has_more, true)
      assert.equal(page1.body.data.next_offset, 3)
      const page2 = await list({ prefix: 'listing/', limit: 3, offset: 3 })
      assert.deepEqual(keys(page2), ['listing/pending.txt'])
      assert.equal(page2.body.data.has_more, false)
      assert.equal(page2.body.data.next_offset, null)
      const past = await list({ prefix: 'listing/', limit: 3, offset: 10 })
      assert.equal(past.body.data.count, 0)
      assert.equal(past.body.data.total, 4)
      // a prefix is text, not a pattern
      assert.equal((await list({ prefix: 'listing/%' })).body.data.count, 0)
      const camel = await atrium.post('/storage/files/list', { ...app, body: { s3Id: 'default', prefix: 'listing/' } })
      assert.equal(camel.body.data.count, 4, 'the SDK may spell it s3Id')
      const missing = await atrium.post('/storage/files/list', { ...app, body: { prefix: 'listing/' } })
      assert.equal(missing.status, 400)
      assert.match(missing.body.message, /s3_id/)
      const unknown = await list({ s3_id: 'nowhere' })
      assert.equal(unknown.status, 404)
      assert.equal(unknown.body.code, 'storage_catalog_not_found')
    })

    await t.test('PATCH changes the record; a new storage_key or bucket moves the bytes', async () => {
      const file = await uploadFile(atrium, { bucket: 'docs', storage_key: 'move/from.txt', content_type: 'text/plain' }, 'moving bytes')
      const renamed = await atrium.request('PATCH', `/storage/files/${file.id}`, { ...app, body: { name: 'Renamed', metadata: { v: 2 }, visibility: 'organization' } })
      assert.equal(renamed.status, 200, renamed.text)
      assert.equal(renamed.body.data.file.name, 'Renamed')
      assert.equal(renamed.body.data.file.visibility, 'organization')
      assert.deepEqual(renamed.body.data.file.metadata, { v: 2 })
      const moved = await atrium.request('PATCH', `/storage/files/${file.id}`, { ...app, body: { storage_key: 'move/to.txt', bucket: 'limited' } })
      assert.equal(moved.status, 200, moved.text)
      assert.equal(moved.body.data.file.storage_key, 'move/to.txt')
      assert.equal(moved.body.data.file.bucket, 'limited')
      assert.equal((await atrium.get(`/storage/files/${file.id}/proxy`, app)).text, 'moving bytes')
      // the old key is free again, and holds no bytes
      const { file: fresh } = await uploadUrl(atrium, { bucket: 'docs', storage_key: 'move/from.txt', content_type: 'text/plain' })
      assert.equal((await atrium.post(`/storage/files/${fresh.id}/confirm-upload`, { ...app, body: {} })).body.code, 'storage_file_not_uploaded')
      const taken = await atrium.request('PATCH', `/storage/files/${file.id}`, { ...app, body: { storage_key: 'move/from.txt', bucket: 'docs' } })
      assert.equal(taken.status, 409)
      assert.equal(taken.body.code, 'storage_file_exists')
      assert.equal(taken.body.data.file_id, fresh.id)
      const status = await atrium.request('PATCH', `/storage/files/${file.id}`, { ...app, body: { status: 'pending' } })
      assert.equal(status.status, 400)
      const badKey = await atrium.request('PATCH', `/storage/files/${file.id}`, { ...app, body: { storage_key: '../escape.txt' } })
      assert.equal(badKey.status, 400)
      assert.equal(badKey.body.code, 'invalid_object_key')
      const many = await atrium.post('/storage/files/update-many', { ...app, body: { file_ids: [file.id, fresh.id], resource_id: 'batch-7' } })
      assert.equal(many.status, 200, many.text)
      assert.equal(many.body.data.count, 2)
      assert.ok(many.body.data.files.every((f: any) => f.resource_id === 'batch-7'))
    })

    await t.test('visibility: one file (PATCH or POST) and many', async () => {
      const file = await uploadFile(atrium, { bucket: 'docs', storage_key: 'vis/a.txt', content_type: 'text/plain' }, 'a')
      const other = await uploadFile(atrium, { bucket: 'docs', storage_key: 'vis/b.txt', content_type: 'text/plain' }, 'b')
      const pub = await atrium.request('PATCH', `/storage/files/${file.id}/visibility`, { ...app, body: { public: true } })
      assert.equal(pub.status, 200, pub.text)
      assert.equal(pub.body.data.file.is_public, true)
      const org = await atrium.post(`/storage/files/${file.id}/visibility`, { ...app, body: { visibility: 'organization' } })
      assert.equal(org.body.data.file.visibility, 'organization')
      assert.equal(org.body.data.file.is_public, false)
      const none = await atrium.post(`/storage/files/${file.id}/visibility`, { ...app, body: {} })
      assert.equal(none.status, 400)
      const many = await atrium.post('/storage/files/visibility-many', { ...app, body: { file_ids: [file.id, other.id], public: true } })
      assert.equal(many.body.data.count, 2)
      assert.ok(many.body.data.files.every((f: any) => f.is_public))
    })

    await t.test('delete is soft and restorable; force purges; delete-many; a deleted key stays taken until purged', async () => {
      const file = await uploadFile(atrium, { bucket: 'docs', storage_key: 'del/one.txt', content_type: 'text/plain' }, 'one')
      const deleted = await atrium.request('DELETE', `/storage/files/${file.id}`, { ...app, headers: { 'content-type': 'application/json' } })
      assert.equal(deleted.status, 200, deleted.text)
      assert.equal(deleted.body.data.file.status, 'deleted')
      assert.ok(deleted.body.data.file.deleted_at)
      assert.equal((await get(file.id)).body.data.file.status, 'deleted')
      const url = await atrium.get(`/storage/files/${file.id}/url`, app)
      assert.equal(url.status, 410)
      assert.equal(url.body.code, 'storage_file_deleted')
      assert.equal((await atrium.post('/storage/files/list', { ...app, body: { s3_id: 'default', prefix: 'del/' } })).body.data.count, 0)
      assert.equal((await atrium.post('/storage/files/list', { ...app, body: { s3_id: 'default', prefix: 'del/', status: 'deleted' } })).body.data.count, 1)
      const reuse = await atrium.post('/storage/files/upload-url', { ...app, body: { s3_id: 'default', bucket: 'docs', storage_key: 'del/one.txt' } })
      assert.equal(reuse.status, 409)
      assert.equal(reuse.body.code, 'storage_file_exists')
      // the SDK sends its JSON content type and no body here
      const restored = await atrium.post(`/storage/files/${file.id}/restore`, { ...app, headers: { 'content-type': 'application/json' }, raw: '' })
      assert.equal(restored.status, 200, restored.text)
      assert.equal(restored.body.data.file.status, 'uploaded')
      assert.equal((await atrium.get(`/storage/files/${file.id}/proxy`, app)).text, 'one')

      const purged = await atrium.request('DELETE', `/storage/files/${file.id}?force=true`, app)
      assert.equal(purged.status, 200)
      assert.equal(purged.body.data.file.status, 'purged')
      assert.equal((await get(file.id)).status, 404)
      assert.equal((await atrium.post(`/storage/files/${file.id}/restore`, app)).status, 404)

      const a = await uploadFile(atrium, { bucket: 'docs', storage_key: 'del/a.txt', content_type: 'text/plain' }, 'a')
      const b = await uploadFile(atrium, { bucket: 'docs', storage_key: 'del/b.txt', content_type: 'text/plain' }, 'b')
      const many = await atrium.post('/storage/files/delete-many', { ...app, body: { file_ids: [a.id, b.id, '00000000-0000-4000-8000-000000000000', 'not-an-id'] } })
      assert.equal(many.status, 200, many.text)
      assert.equal(many.body.data.count, 2)
      assert.ok(many.body.data.files.every((f: any) => f.status === 'deleted'))
      const purge = await atrium.request('DELETE', `/storage/files/${a.id}/purge`, app)
      assert.equal(purge.body.data.file.status, 'purged')
      const forced = await atrium.post('/storage/files/delete-many', { ...app, body: { file_ids: [b.id], force: true } })
      assert.equal(forced.body.data.files[0].status, 'purged')
      // the key is free once purged, and the old bytes are gone with the record
      const { file: again } = await uploadUrl(atrium, { bucket: 'docs', storage_key: 'del/b.txt' })
      assert.equal((await atrium.post(`/storage/files/${again.id}/confirm-upload`, { ...app, body: {} })).body.code, 'storage_file_not_uploaded')
    })

    await t.test('copy makes a new record with its own bytes', async () => {
      const file = await uploadFile(atrium, { bucket: 'docs', storage_key: 'copy/src.txt', content_type: 'text/plain', metadata: { k: 'v' } }, 'copied')
      const copy = await atrium.post(`/storage/files/${file.id}/copy`, { ...app, body: { storage_key: 'copy/dst.txt' } })
      assert.equal(copy.status, 200, copy.text)
      assert.notEqual(copy.body.data.file.id, file.id)
      assert.equal(copy.body.data.file.status, 'uploaded')
      assert.deepEqual(copy.body.data.file.metadata, { k: 'v' })
      await atrium.request('DELETE', `/storage/files/${file.id}?force=true`, app)
      assert.equal((await atrium.get(`/storage/files/${copy.body.data.file.id}/proxy`, app)).text, 'copied')
    })

    await t.test('a retry sends the file_id: a new URL for the same record', async () => {
      const { file } = await uploadUrl(atrium, { bucket: 'docs', storage_key: 'retry/x.txt', content_type: 'text/plain' })
      const again = await uploadUrl(atrium, { file_id: file.id, content_type: 'text/plain' })
      assert.equal(again.file.id, file.id)
      assert.equal((await putToUploadUrl(again.upload, 'second try')).status, 200)
      assert.equal((await get(file.id)).body.data.file.status, 'uploaded')
      // new bytes for an uploaded file: the record follows them
      const third = await uploadUrl(atrium, { file_id: file.id, content_type: 'text/plain' })
      assert.equal((await putToUploadUrl(third.upload, 'third and longer try')).status, 200)
      assert.equal((await get(file.id)).body.data.file.size_bytes, 20)
      const elsewhere = await atrium.post('/storage/files/upload-url', { ...app, body: { s3_id: 'default', file_id: file.id, storage_key: 'retry/y.txt' } })
      assert.equal(elsewhere.status, 400)
    })

    await t.test('another client\'s file is not found, and delete-many leaves it alone', async () => {
      const file = await uploadFile(atrium, { bucket: 'docs', storage_key: 'private/mine.txt', content_type: 'text/plain' }, 'mine')
      for (const [method, path] of [['GET', ''], ['GET', '/url'], ['GET', '/proxy'], ['DELETE', ''], ['PATCH', '']] as const) {
        const res = await atrium.request(method, `/storage/files/${file.id}${path}`, { client: 'other', body: method === 'PATCH' ? { name: 'x' } : undefined })
        assert.equal(res.status, 404, `${method} ${path}: ${res.text}`)
        assert.equal(res.body.code, 'storage_file_not_found')
      }
      const many = await atrium.post('/storage/files/delete-many', { client: 'other', body: { file_ids: [file.id], force: true } })
      assert.equal(many.body.data.count, 0)
      const listed = await atrium.post('/storage/files/list', { client: 'other', body: { s3_id: 'default' } })
      assert.equal(listed.body.data.count, 0)
      assert.equal((await get(file.id)).body.data.file.status, 'uploaded')
      // the same key in the other client's own bucket is another file
      const theirs = await uploadFile(atrium, { bucket: 'docs', storage_key: 'private/mine.txt', content_type: 'text/plain' }, 'theirs', 'other')
      assert.equal((await atrium.get(`/storage/files/${theirs.id}/proxy`, { client: 'other' })).text, 'theirs')
      assert.equal((await atrium.get(`/storage/files/${file.id}/proxy`, app)).text, 'mine')
    })

    await t.test('deleting a bucket with force deletes its files', async () => {
      await createBucket(atrium, 'temporary')
      const file = await uploadFile(atrium, { bucket: 'temporary', storage_key: 'gone.txt', content_type: 'text/plain' }, 'soon gone')
      assert.equal((await get(file.id)).body.data.file.status, 'uploaded')
      const refused = await atrium.post('/storage/buckets/delete', { ...app, body: { s3_id: 'default', bucket: 'temporary' } })
      assert.equal(refused.status, 409, 'a bucket whose files have bytes is not empty')
      const deleted = await atrium.post('/storage/buckets/delete', { ...app, body: { s3_id: 'default', bucket: 'temporary', force: true } })
      assert.equal(deleted.status, 200, deleted.text)
      assert.equal((await get(file.id)).status, 404)
    })

    await t.test('bad input is a 4xx that says what is wrong', async () => {
      const cases: [Record<string, unknown>, number, string?][] = [
        [{ bucket: 'docs', storage_key: '../escape' }, 400, 'invalid_object_key'],
        [{ bucket: 'docs', storage_key: 'a\u0000b' }, 400],
        [{ bucket: 'docs', storage_key: 'x'.repeat(1000) }, 400],
        [{ bucket: 'Bad Name', storage_key: 'a' }, 400, 'invalid_bucket_name'],
        [{ bucket: 'nope', storage_key: 'a' }, 404, 'bucket_not_found'],
        [{ storage_key: 'a' }, 400, 'invalid_request'],
        [{ bucket: 'docs' }, 400, 'invalid_request'],
        [{ bucket: 'docs', storage_key: 'a', expires_in: 0 }, 400],
        [{ bucket: 'docs', storage_key: 'a', expires_in: 8 * 24 * 3600 }, 400, 'invalid_request'],
        [{ bucket: 'docs', storage_key: 'a', s3_id: 'elsewhere' }, 404, 'storage_catalog_not_found'],
        [{ bucket: 'docs', storage_key: 'a', size_bytes: -1 }, 400],
        [{ bucket: 'docs', storage_key: 'a', file_id: 'not-a-uuid' }, 404, 'storage_file_not_found'],
      ]
      for (const [body, status, code] of cases) {
        const res = await atrium.post('/storage/files/upload-url', { ...app, body: { s3_id: 'default', ...body } })
        assert.equal(res.status, status, `${JSON.stringify(body).slice(0, 80)}: ${res.text}`)
        assert.equal(res.body.status, 'error')
        if (code) assert.equal(res.body.code, code)
        assert.ok(res.body.message)
      }
      assert.equal((await atrium.post('/storage/files/upload-url', { ...app, body: {} })).status, 400, 's3_id is required')
      assert.equal((await get('not-a-uuid')).status, 404)
      assert.equal((await get('00000000-0000-4000-8000-000000000000')).status, 404)
      const url = await atrium.get('/storage/files/00000000-0000-4000-8000-000000000000/url?expires_in=abc', app)
      assert.equal(url.status, 400)
      const many = await atrium.post('/storage/files/delete-many', { ...app, body: { file_ids: [] } })
      assert.equal(many.status, 400)
      const noClient = await atrium.post('/storage/files/list', { body: { s3_id: 'default' } })
      assert.equal(noClient.status, 400)
      const pending = await uploadUrl(atrium, { bucket: 'docs', storage_key: 'bad/pending.txt' })
      const proxy = await atrium.get(`/storage/files/${pending.file.id}/proxy`, app)
      assert.equal(proxy.status, 409)
      assert.equal(proxy.body.code, 'storage_file_not_uploaded')
    })
  })
}
