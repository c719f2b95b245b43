import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { ADMIN_KEY } from '../../helpers/atrium.js'
import { BACKENDS, createBucket, startStorageAtrium, uploadUrl } from '../../helpers/storage-files.js'

// /storage/multipart/*: the chain athena-js 5's uploadMultipart drives (upload-url → create → sign-part and a
// PUT per part → complete; abort on failure), on the filesystem store and on S3 (s3rver), with a 100 MB object
// whose bytes are made part by part and compared by hash after a streamed download.

const MiB = 1024 * 1024
/** the SDK's default part size */
const PART = 8 * MiB
const TOTAL = 100 * 1000 * 1000

/** part n (1-based) of a deterministic 100 MB object: counter-mode SHA-256 blocks, made when needed */
function partBytes(n: number): Buffer {
  const start = (n - 1) * PART
  const size = Math.min(PART, TOTAL - start)
  const out = Buffer.alloc(size)
  for (let off = 0; off < size; off += 32) {
    const block = createHash('sha256').update(`block ${(start + off) / 32}`).digest()
    block.copy(out, off, 0, Math.min(32, size - off))
  }
  return out
}

for (const backend of BACKENDS) {
  test(`storage multipart: ${backend}`, async (t) => {
    const atrium = await startStorageAtrium(t, backend)
    await createBucket(atrium, 'media')
    await createBucket(atrium, 'small', { file_size_limit: 6 * MiB })
    const app = { client: 'app' }
    const call = async (path: string, body: Record<string, unknown>, status = 200) => {
      const res = await atrium.post(`/storage/multipart/${path}`, { ...app, body })
      assert.equal(res.status, status, `${path}: ${res.text}`)
      return res.body
    }

    await t.test('a 100 MB object uploads in 8 MiB parts through signed part URLs, and downloads whole', async () => {
      const { file } = await uploadUrl(atrium, { bucket: 'media', storage_key: 'video/big.bin', content_type: 'video/mp4', size_bytes: TOTAL })
      const created = await call('create', { file_id: file.id, content_type: 'video/mp4' })
      const uploadId = created.data.upload_id
      assert.ok(uploadId, 'the SDK reads upload_id')
      const partCount = Math.ceil(TOTAL / PART)
      const parts: { part_number: number; etag: string }[] = []
      const whole = createHash('sha256')
      for (let n = 1; n <= partCount; n++) {
        const signed = await call('sign-part', { file_id: file.id, upload_id: uploadId, part_number: n })
        assert.ok(signed.data.url, 'the SDK reads url')
        const bytes = partBytes(n)
        whole.update(bytes)
        const put = await fetch(signed.data.url, { method: 'PUT', headers: signed.data.headers ?? {}, body: bytes })
        assert.equal(put.status, 200, await put.clone().text())
        const etag = put.headers.get('etag')
        assert.ok(etag, 'the part\'s ETag is what complete needs')
        parts.push({ part_number: n, etag })
      }
      const listed = await call('list-parts', { file_id: file.id, upload_id: uploadId })
      assert.deepEqual(listed.data.parts.map((p: any) => p.part_number), parts.map((p) => p.part_number))
      assert.equal(listed.data.parts.reduce((sum: number, p: any) => sum + p.size, 0), TOTAL)

      const done = await call('complete', { file_id: file.id, upload_id: uploadId, parts })
      assert.equal(done.data.file.id, file.id)
      assert.equal(done.data.file.status, 'uploaded')
      assert.equal(done.data.file.size_bytes, TOTAL)
      assert.equal(done.data.file.upload_id, null)

      // streamed back through Atrium, hashed as it arrives
      const res = await fetch(`${atrium.url}/storage/files/${file.id}/proxy`, { headers: { apikey: ADMIN_KEY, 'x-athena-client': 'app' } })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-length'), String(TOTAL))
      const back = createHash('sha256')
      let size = 0
      for await (const chunk of res.body!) {
        back.update(chunk)
        size += chunk.length
      }
      assert.equal(size, TOTAL)
      assert.equal(back.digest('hex'), whole.copy().digest('hex'))
      // and through the signed URL
      const url = (await atrium.get(`/storage/files/${file.id}/url`, app)).body.data.url
      const viaUrl = await fetch(url)
      const hashed = createHash('sha256')
      for await (const chunk of viaUrl.body!) hashed.update(chunk)
      assert.equal(hashed.digest('hex'), whole.digest('hex'))
    })

    await t.test('abort discards the parts; the upload id is then unknown', async () => {
      const { file } = await uploadUrl(atrium, { bucket: 'media', storage_key: 'aborted.bin' })
      const uploadId = (await call('create', { file_id: file.id })).data.upload_id
      const signed = await call('sign-part', { file_id: file.id, upload_id: uploadId, part_number: 1 })
      assert.equal((await fetch(signed.data.url, { method: 'PUT', body: Buffer.alloc(1000, 1) })).status, 200)
      const aborted = await call('abort', { file_id: file.id, upload_id: uploadId })
      assert.equal(aborted.data.aborted, true)
      const again = await call('list-parts', { file_id: file.id, upload_id: uploadId }, 404)
      assert.equal(again.code, 'multipart_upload_not_found')
      const file2 = (await atrium.get(`/storage/files/${file.id}`, app)).body.data.file
      assert.equal(file2.status, 'pending')
      assert.equal(file2.upload_id, null)
    })

    await t.test('a second create replaces the upload in progress; a part number or ETag that is wrong is a 4xx', async () => {
      const { file } = await uploadUrl(atrium, { bucket: 'media', storage_key: 'restart.bin' })
      const first = (await call('create', { file_id: file.id })).data.upload_id
      const second = (await call('create', { file_id: file.id })).data.upload_id
      assert.notEqual(first, second)
      assert.equal((await call('sign-part', { file_id: file.id, upload_id: first, part_number: 1 }, 404)).code, 'multipart_upload_not_found')
      await call('sign-part', { file_id: file.id, upload_id: second, part_number: 0 }, 400)
      await call('sign-part', { file_id: file.id, upload_id: second, part_number: 10_001 }, 400)
      await call('sign-part', { file_id: file.id, upload_id: second, part_number: 1, expires_in: 0 }, 400)
      const signed = await call('sign-part', { file_id: file.id, upload_id: second, part_number: 1 })
      assert.equal((await fetch(signed.data.url, { method: 'PUT', body: Buffer.from('only part') })).status, 200)
      const wrong = await call('complete', { file_id: file.id, upload_id: second, parts: [{ part_number: 1, etag: '"0000"' }] }, 400)
      assert.equal(wrong.code, 'invalid_multipart_part')
      await call('complete', { file_id: file.id, upload_id: second, parts: [] }, 400)
      const listed = await call('list-parts', { file_id: file.id, upload_id: second })
      const done = await call('complete', { file_id: file.id, upload_id: second, parts: [{ part_number: 1, etag: listed.data.parts[0].etag }] })
      assert.equal(done.data.file.size_bytes, 9)
      assert.equal((await atrium.get(`/storage/files/${file.id}/proxy`, app)).text, 'only part')
    })

    await t.test('an object over the bucket\'s file_size_limit is refused at complete and removed', async () => {
      const { file } = await uploadUrl(atrium, { bucket: 'small', storage_key: 'too-big.bin' })
      const uploadId = (await call('create', { file_id: file.id })).data.upload_id
      const parts = []
      for (const [n, size] of [[1, 5 * MiB], [2, 2 * MiB]] as const) {
        const signed = await call('sign-part', { file_id: file.id, upload_id: uploadId, part_number: n })
        const put = await fetch(signed.data.url, { method: 'PUT', body: Buffer.alloc(size, n) })
        parts.push({ part_number: n, etag: put.headers.get('etag')! })
      }
      const refused = await call('complete', { file_id: file.id, upload_id: uploadId, parts }, 413)
      assert.equal(refused.code, 'object_too_large')
      const after = (await atrium.get(`/storage/files/${file.id}`, app)).body.data.file
      assert.equal(after.status, 'pending')
      assert.equal(after.upload_id, null)
      assert.equal((await atrium.post(`/storage/files/${file.id}/confirm-upload`, { ...app, body: {} })).body.code, 'storage_file_not_uploaded')
    })

    await t.test('another client\'s file, a deleted file and an unknown file have no uploads', async () => {
      const { file } = await uploadUrl(atrium, { bucket: 'media', storage_key: 'mine.bin' })
      const uploadId = (await call('create', { file_id: file.id })).data.upload_id
      const theirs = await atrium.post('/storage/multipart/sign-part', { client: 'other', body: { file_id: file.id, upload_id: uploadId, part_number: 1 } })
      assert.equal(theirs.status, 404)
      assert.equal(theirs.body.code, 'storage_file_not_found')
      assert.equal((await call('create', { file_id: '00000000-0000-4000-8000-000000000000' }, 404)).code, 'storage_file_not_found')
      await atrium.request('DELETE', `/storage/files/${file.id}`, app)
      assert.equal((await call('sign-part', { file_id: file.id, upload_id: uploadId, part_number: 1 }, 410)).code, 'storage_file_deleted')
      // purging the file aborts its upload too
      await atrium.request('DELETE', `/storage/files/${file.id}?force=true`, app)
      assert.equal((await call('abort', { file_id: file.id, upload_id: uploadId }, 404)).code, 'storage_file_not_found')
    })
  })
}
