import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { test, type TestContext } from 'node:test'
import { AppError } from '../../src/errors/app-error.js'
import type { ObjectStore } from '../../src/objects/object-store.js'
import { startTestAtrium, type TestAtrium } from '../helpers/atrium.js'
import { startS3Server } from '../helpers/s3-server.js'

// One suite, run against both backends, each taken from a real Atrium (so the factory's choice is covered):
// the filesystem store under the data directory (signed URLs served by that Atrium) and the S3 store
// against s3rver on 127.0.0.1 (presigned URLs answered by s3rver).

const MiB = 1024 * 1024
/** the filesystem Atrium's limit for one signed PUT */
const UPLOAD_LIMIT = 8 * MiB

async function bytesOf(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex')
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** rejects with an AppError of this code */
async function refuses(promise: Promise<unknown>, code: string, why = ''): Promise<AppError> {
  let caught: unknown
  try {
    await promise
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof AppError, `${why}: expected AppError ${code}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`)
  assert.equal(caught.code, code, `${why}: ${caught.message}`)
  return caught
}

/** `total` bytes of random data, produced chunk by chunk and hashed as it goes: never held whole */
function randomStream(total: number, hash: ReturnType<typeof createHash>): Readable {
  let sent = 0
  return new Readable({
    read() {
      if (sent >= total) return this.push(null)
      const chunk = randomBytes(Math.min(256 * 1024, total - sent))
      sent += chunk.length
      hash.update(chunk)
      this.push(chunk)
    },
  })
}

interface Backend {
  name: 'filesystem' | 's3'
  start(t: TestContext): Promise<{ store: ObjectStore; atrium: TestAtrium }>
}

const BACKENDS: Backend[] = [
  {
    name: 'filesystem',
    start: async (t) => {
      const atrium = await startTestAtrium(t, { env: { ATRIUM_OBJECTS_MAX_UPLOAD_BYTES: String(UPLOAD_LIMIT) } })
      return { store: atrium.handle.platform.objects, atrium }
    },
  },
  {
    name: 's3',
    start: async (t) => {
      const s3 = await startS3Server(t)
      const atrium = await startTestAtrium(t, { env: s3.env })
      return { store: atrium.handle.platform.objects, atrium }
    },
  },
]

for (const backend of BACKENDS) {
  test(`object store: ${backend.name}`, async (t) => {
    const { store, atrium } = await backend.start(t)
    assert.equal(store.kind, backend.name, 'the factory picked the backend the settings ask for')
    let n = 0
    /** a fresh bucket per test, so tests do not see each other's objects */
    const bucket = () => `b${++n}-${backend.name}`

    await t.test('put and get round-trip binary data, with content type and metadata; head describes it', async () => {
      const b = bucket()
      const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(100_000)])
      const put = await store.put({ bucket: b, key: 'dir/blob.bin' }, data, { contentType: 'application/x-test', metadata: { Owner: 'ada', purpose: 'round-trip' } })
      assert.equal(put.size, data.length)
      assert.equal(put.etag, `"${md5(data)}"`)
      const got = await store.get({ bucket: b, key: 'dir/blob.bin' })
      assert.deepEqual(await bytesOf(got.body), data)
      assert.equal(got.contentLength, data.length)
      assert.equal(got.contentType, 'application/x-test')
      const head = await store.head({ bucket: b, key: 'dir/blob.bin' })
      assert.equal(head.size, data.length)
      assert.equal(head.contentType, 'application/x-test')
      assert.equal(head.etag, `"${md5(data)}"`)
      assert.deepEqual(head.metadata, { owner: 'ada', purpose: 'round-trip' })
      assert.ok(Math.abs(head.lastModified.getTime() - Date.now()) < 60_000, 'lastModified is now')
      // an empty object is an object too
      await store.put({ bucket: b, key: 'empty' }, Buffer.alloc(0))
      assert.equal((await store.head({ bucket: b, key: 'empty' })).size, 0)
      assert.equal((await bytesOf((await store.get({ bucket: b, key: 'empty' })).body)).length, 0)
      // overwrite replaces content and metadata
      await store.put({ bucket: b, key: 'dir/blob.bin' }, Buffer.from('second'), { contentType: 'text/plain' })
      assert.equal((await bytesOf((await store.get({ bucket: b, key: 'dir/blob.bin' })).body)).toString(), 'second')
      assert.deepEqual((await store.head({ bucket: b, key: 'dir/blob.bin' })).metadata, {})
    })

    await t.test('a 32 MB object streams in and out, compared by hash', async () => {
      const b = bucket()
      const size = 32 * MiB
      const inHash = createHash('sha256')
      const put = await store.put({ bucket: b, key: 'big.bin' }, randomStream(size, inHash), { contentType: 'application/octet-stream' })
      assert.equal(put.size, size)
      const outHash = createHash('sha256')
      let received = 0
      const got = await store.get({ bucket: b, key: 'big.bin' })
      await pipeline(got.body, new Writable({ write(chunk, _enc, cb) { received += chunk.length; outHash.update(chunk); cb() } }))
      assert.equal(received, size)
      assert.equal(outHash.digest('hex'), inHash.digest('hex'))
    })

    await t.test('range gets return exactly the bytes asked for; a range past the end is 416', async () => {
      const b = bucket()
      const data = randomBytes(1000)
      await store.put({ bucket: b, key: 'r' }, data)
      const mid = await store.get({ bucket: b, key: 'r' }, { range: { start: 10, end: 19 } })
      assert.deepEqual(await bytesOf(mid.body), data.subarray(10, 20))
      assert.deepEqual(mid.range, { start: 10, end: 19 })
      assert.equal(mid.size, 1000)
      assert.equal(mid.contentLength, 10)
      const tail = await store.get({ bucket: b, key: 'r' }, { range: { start: 990 } })
      assert.deepEqual(await bytesOf(tail.body), data.subarray(990))
      const suffix = await store.get({ bucket: b, key: 'r' }, { range: { suffix: 7 } })
      assert.deepEqual(await bytesOf(suffix.body), data.subarray(993))
      await refuses(store.get({ bucket: b, key: 'r' }, { range: { start: 1000 } }), 'invalid_range', 'start past the end')
    })

    await t.test('a missing object is 404 object_not_found; stat says undefined', async () => {
      const b = bucket()
      await refuses(store.head({ bucket: b, key: 'nope' }), 'object_not_found', 'head')
      await refuses(store.get({ bucket: b, key: 'nope' }), 'object_not_found', 'get')
      assert.equal(await store.stat({ bucket: b, key: 'nope' }), undefined)
    })

    await t.test('if-none-match: * never overwrites', async () => {
      const b = bucket()
      await store.put({ bucket: b, key: 'once' }, Buffer.from('first'), { ifNoneMatch: '*' })
      await refuses(store.put({ bucket: b, key: 'once' }, Buffer.from('second'), { ifNoneMatch: '*' }), 'object_precondition_failed', 'second create')
      assert.equal((await bytesOf((await store.get({ bucket: b, key: 'once' })).body)).toString(), 'first')
    })

    await t.test('list: prefix, delimiter (common prefixes) and pagination in key order', async () => {
      const b = bucket()
      const keys = ['a/1', 'a/2', 'a/b/3', 'a/b/4', 'c', 'd/5', 'e']
      for (const key of keys) await store.put({ bucket: b, key }, Buffer.from(key))
      const all = await store.list({ bucket: b })
      assert.deepEqual(all.objects.map((o) => o.key), keys, 'every key, in key order')
      assert.equal(all.objects.find((o) => o.key === 'a/b/3')?.size, 5)
      assert.equal(all.nextContinuationToken, undefined)
      const top = await store.list({ bucket: b, delimiter: '/' })
      assert.deepEqual(top.objects.map((o) => o.key), ['c', 'e'])
      assert.deepEqual(top.commonPrefixes, ['a/', 'd/'])
      const inA = await store.list({ bucket: b, prefix: 'a/', delimiter: '/' })
      assert.deepEqual(inA.objects.map((o) => o.key), ['a/1', 'a/2'])
      assert.deepEqual(inA.commonPrefixes, ['a/b/'])
      const partial = await store.list({ bucket: b, prefix: 'a/b' })
      assert.deepEqual(partial.objects.map((o) => o.key), ['a/b/3', 'a/b/4'], 'a prefix may end inside a segment')
      // pages of two, following the tokens, give every key once
      const paged: string[] = []
      let token: string | undefined
      let pages = 0
      do {
        const page = await store.list({ bucket: b, maxKeys: 2, continuationToken: token })
        assert.ok(page.objects.length <= 2)
        paged.push(...page.objects.map((o) => o.key))
        token = page.nextContinuationToken
        pages++
      } while (token && pages < 10)
      assert.deepEqual(paged, keys)
      assert.equal(pages, 4)
      // with a delimiter, pages together give every object and common prefix once
      const entries: string[] = []
      token = undefined
      for (let i = 0; i < 10; i++) {
        const page = await store.list({ bucket: b, delimiter: '/', maxKeys: 2, continuationToken: token })
        // a common prefix counts as one entry, as on S3 (s3rver counts only objects, so only checked here)
        if (backend.name === 'filesystem') assert.ok(page.objects.length + page.commonPrefixes.length <= 2)
        entries.push(...page.objects.map((o) => o.key), ...page.commonPrefixes)
        token = page.nextContinuationToken
        if (!token) break
      }
      assert.deepEqual(entries.sort(), ['a/', 'c', 'd/', 'e'])
      assert.deepEqual(await store.list({ bucket: bucket() }), { objects: [], commonPrefixes: [], nextContinuationToken: undefined }, 'an empty bucket lists nothing')
    })

    await t.test('copy duplicates content and metadata, or replaces the metadata', async () => {
      const b = bucket()
      const data = randomBytes(5000)
      await store.put({ bucket: b, key: 'src/one' }, data, { contentType: 'image/png', metadata: { tag: 'x' } })
      const copied = await store.copy({ bucket: b, key: 'src/one' }, { bucket: b, key: 'dst/two' })
      assert.equal(copied.size, 5000)
      assert.deepEqual(await bytesOf((await store.get({ bucket: b, key: 'dst/two' })).body), data)
      const head = await store.head({ bucket: b, key: 'dst/two' })
      assert.equal(head.contentType, 'image/png')
      assert.deepEqual(head.metadata, { tag: 'x' })
      const other = bucket()
      await store.copy({ bucket: b, key: 'src/one' }, { bucket: other, key: 'three' }, { metadata: { tag: 'y' }, contentType: 'image/jpeg' })
      const replaced = await store.head({ bucket: other, key: 'three' })
      assert.deepEqual(replaced.metadata, { tag: 'y' })
      assert.equal(replaced.contentType, 'image/jpeg')
      assert.deepEqual(await bytesOf((await store.get({ bucket: b, key: 'src/one' })).body), data, 'the source is untouched')
      await refuses(store.copy({ bucket: b, key: 'missing' }, { bucket: b, key: 'x' }), 'object_not_found', 'copy of nothing')
    })

    await t.test('delete one (idempotent) and many', async () => {
      const b = bucket()
      for (const key of ['k1', 'k2', 'k3', 'f/k4']) await store.put({ bucket: b, key }, Buffer.from(key))
      await store.delete({ bucket: b, key: 'k1' })
      await refuses(store.head({ bucket: b, key: 'k1' }), 'object_not_found', 'deleted')
      await store.delete({ bucket: b, key: 'k1' }) // again: no error
      const many = await store.deleteMany(b, ['k2', 'f/k4', 'never-there'])
      assert.deepEqual([...many.deleted].sort(), ['f/k4', 'k2', 'never-there'])
      assert.deepEqual(many.errors, [])
      assert.deepEqual((await store.list({ bucket: b })).objects.map((o) => o.key), ['k3'])
      // once "f/k4" is gone, "f" can be an object
      await store.put({ bucket: b, key: 'f' }, Buffer.from('now a file'))
      assert.equal((await bytesOf((await store.get({ bucket: b, key: 'f' })).body)).toString(), 'now a file')
    })

    await t.test('multipart: three parts, listed, completed; the object is their concatenation', async () => {
      const b = bucket()
      const ref = { bucket: b, key: 'multi/part.bin' }
      const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)]
      const { uploadId } = await store.createMultipartUpload(ref, { contentType: 'application/zip', metadata: { job: '7' } })
      const uploaded = []
      uploaded.push(await store.uploadPart(ref, uploadId, 1, parts[0]))
      // a part may come as a stream of known length
      uploaded.push(await store.uploadPart(ref, uploadId, 2, Readable.from([parts[1].subarray(0, MiB), parts[1].subarray(MiB)]), { contentLength: parts[1].length }))
      uploaded.push(await store.uploadPart(ref, uploadId, 3, parts[2]))
      for (const [i, part] of uploaded.entries()) assert.equal(part.etag.replaceAll('"', ''), md5(parts[i]), `part ${i + 1} etag`)
      const listed = await store.listParts(ref, uploadId)
      assert.deepEqual(listed.map((p) => [p.partNumber, p.size, p.etag.replaceAll('"', '')]), parts.map((p, i) => [i + 1, p.length, md5(p)]))
      await refuses(store.head(ref), 'object_not_found', 'nothing is visible before complete')
      const done = await store.completeMultipartUpload(ref, uploadId, uploaded.map((p) => ({ partNumber: p.partNumber, etag: p.etag })))
      const whole = Buffer.concat(parts)
      assert.equal(done.size, whole.length)
      const got = await store.get(ref)
      assert.equal(sha256(await bytesOf(got.body)), sha256(whole))
      assert.equal(got.contentType, 'application/zip')
      assert.deepEqual(got.metadata, { job: '7' })
      await refuses(store.listParts(ref, uploadId), 'multipart_upload_not_found', 'a completed upload is gone')
    })

    await t.test('multipart: abort leaves nothing behind', async () => {
      const b = bucket()
      const ref = { bucket: b, key: 'aborted.bin' }
      const { uploadId } = await store.createMultipartUpload(ref)
      await store.uploadPart(ref, uploadId, 1, randomBytes(1000))
      assert.equal((await store.listParts(ref, uploadId)).length, 1)
      await store.abortMultipartUpload(ref, uploadId)
      await refuses(store.listParts(ref, uploadId), 'multipart_upload_not_found', 'parts of an aborted upload')
      await refuses(store.uploadPart(ref, uploadId, 2, randomBytes(10)), 'multipart_upload_not_found', 'a part for an aborted upload')
      await refuses(store.head(ref), 'object_not_found', 'no object')
      assert.deepEqual((await store.list({ bucket: b })).objects, [])
    })

    await t.test('signed GET and PUT URLs work over HTTP', async () => {
      const b = bucket()
      const data = randomBytes(70_000)
      await store.put({ bucket: b, key: 'docs/report.pdf' }, data, { contentType: 'application/pdf' })
      const get = await store.signedUrl({ bucket: b, key: 'docs/report.pdf' }, { method: 'GET', expiresIn: 60 })
      assert.ok(get.expiresAt.getTime() > Date.now() + 50_000 && get.expiresAt.getTime() <= Date.now() + 61_000)
      if (backend.name === 'filesystem') assert.ok(get.url.startsWith(`${atrium.url}/objects/signed/`), get.url)
      const res = await fetch(get.url)
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'application/pdf')
      assert.equal(res.headers.get('content-length'), String(data.length))
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), data)
      const ranged = await fetch(get.url, { headers: { range: 'bytes=100-199' } })
      assert.equal(ranged.status, 206)
      assert.equal(ranged.headers.get('content-range'), `bytes 100-199/${data.length}`)
      assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), data.subarray(100, 200))

      const put = await store.signedUrl({ bucket: b, key: 'uploads/new.txt' }, { method: 'PUT', expiresIn: 60, contentType: 'text/plain' })
      const up = await fetch(put.url, { method: 'PUT', body: 'hello from a signed URL', headers: { 'content-type': 'text/plain' } })
      assert.equal(up.status, 200, await up.clone().text())
      assert.equal(up.headers.get('etag'), `"${md5(Buffer.from('hello from a signed URL'))}"`)
      const stored = await store.get({ bucket: b, key: 'uploads/new.txt' })
      assert.equal((await bytesOf(stored.body)).toString(), 'hello from a signed URL')
      assert.equal(stored.contentType, 'text/plain')
    })

    await t.test('a signed part URL uploads a part of a multipart upload', async () => {
      const b = bucket()
      const ref = { bucket: b, key: 'signed-multi.bin' }
      const { uploadId } = await store.createMultipartUpload(ref)
      const bytes = randomBytes(300_000)
      const url = await store.signPartUrl(ref, uploadId, 1, { expiresIn: 60 })
      const res = await fetch(url.url, { method: 'PUT', body: bytes })
      assert.equal(res.status, 200, await res.clone().text())
      const etag = res.headers.get('etag')
      assert.equal(etag?.replaceAll('"', ''), md5(bytes))
      await store.completeMultipartUpload(ref, uploadId, [{ partNumber: 1, etag: etag! }])
      assert.deepEqual(await bytesOf((await store.get(ref)).body), bytes)
    })

    await t.test('an expired signed URL is refused', async () => {
      const b = bucket()
      await store.put({ bucket: b, key: 'soon-gone' }, Buffer.from('secret'))
      const url = await store.signedUrl({ bucket: b, key: 'soon-gone' }, { method: 'GET', expiresIn: 1 })
      // expiry has whole-second resolution on both backends
      await new Promise((r) => setTimeout(r, 2100))
      const res = await fetch(url.url)
      assert.equal(res.status, 403)
      const text = await res.text()
      assert.ok(!text.includes('secret'), 'no content')
      if (backend.name === 'filesystem') {
        assert.equal(JSON.parse(text).code, 'signed_url_expired')
      } else {
        assert.match(text, /Request has expired/)
      }
    })

    await t.test('a tampered signed URL is refused', async () => {
      const b = bucket()
      await store.put({ bucket: b, key: 'public.txt' }, Buffer.from('you may read this'))
      await store.put({ bucket: b, key: 'private.txt' }, Buffer.from('classified'))
      const url = await store.signedUrl({ bucket: b, key: 'public.txt' }, { method: 'GET', expiresIn: 60 })
      if (backend.name === 'filesystem') {
        const [base, token] = url.url.split('/objects/signed/')
        const [payload, signature] = token.split('.')
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
        const forge = (changes: Record<string, unknown>) => `${base}/objects/signed/${Buffer.from(JSON.stringify({ ...claims, ...changes })).toString('base64url')}.${signature}`
        for (const [what, forged] of [
          ['another key', forge({ k: 'private.txt' })],
          ['a later expiry', forge({ e: claims.e + 3600 })],
          ['another method', forge({ m: 'PUT' })],
          ['a changed signature', `${base}/objects/signed/${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`],
        ] as const) {
          const res = await fetch(forged, { method: what === 'another method' ? 'PUT' : 'GET', body: what === 'another method' ? 'overwrite' : undefined })
          const text = await res.text()
          assert.equal(res.status, 403, `${what}: ${text}`)
          assert.equal(JSON.parse(text).code, 'invalid_signed_url', what)
          assert.ok(!text.includes('classified'))
        }
        // a GET URL cannot be used to upload
        const put = await fetch(url.url, { method: 'PUT', body: 'overwrite' })
        assert.equal(put.status, 403, 'a token signed for GET does not allow PUT')
        assert.equal(((await put.json()) as { code: string }).code, 'invalid_signed_url')
        assert.equal((await bytesOf((await store.get({ bucket: b, key: 'public.txt' })).body)).toString(), 'you may read this')
      } else {
        // s3rver checks SigV4 presigned URLs' expiry and credential but does not recompute the signature, so the
        // tampering it can refuse is a forged credential; real S3 also refuses a changed path, expiry or signature
        const forged = new URL(url.url)
        forged.searchParams.set('X-Amz-Credential', forged.searchParams.get('X-Amz-Credential')!.replace(/^[^/]+/, 'FORGED'))
        const res = await fetch(forged)
        assert.equal(res.status, 403)
        assert.match(await res.text(), /InvalidAccessKeyId/)
        const tooLong = new URL(url.url)
        tooLong.searchParams.set('X-Amz-Expires', String(30 * 24 * 3600))
        const res2 = await fetch(tooLong)
        assert.equal(res2.status, 400)
        assert.ok(!(await res2.text()).includes('you may read this'))
      }
    })

    await t.test('invalid keys and bucket names are refused before anything is stored', async () => {
      const b = bucket()
      const badKeys = ['', '/etc/passwd', '..', '../outside', 'a/../../b', 'a/./b', 'a//b', 'trailing/', 'nul\u0000byte', 'line\nbreak', 'x'.repeat(961), `${'s/'.repeat(200)}${'x'.repeat(256)}`, 'lone\ud800']
      for (const key of badKeys) {
        await refuses(store.put({ bucket: b, key }, Buffer.from('x')), 'invalid_object_key', `put ${JSON.stringify(key)}`)
        await refuses(store.get({ bucket: b, key }), 'invalid_object_key', `get ${JSON.stringify(key)}`)
        await refuses(store.signedUrl({ bucket: b, key }, { method: 'GET', expiresIn: 60 }), 'invalid_object_key', `sign ${JSON.stringify(key)}`)
      }
      for (const name of ['', 'A', '../x', 'a/b', 'x'.repeat(64), 'a..b', '-a']) {
        await refuses(store.put({ bucket: name, key: 'k' }, Buffer.from('x')), 'invalid_bucket_name', `bucket ${JSON.stringify(name)}`)
      }
      await refuses(store.list({ bucket: b, prefix: '../' }), 'invalid_object_key', 'list prefix ../')
      await refuses(store.put({ bucket: b, key: 'k' }, Buffer.from('x'), { metadata: { 'bad name': 'v' } }), 'invalid_object_metadata', 'metadata name')
      await refuses(store.signedUrl({ bucket: b, key: 'k' }, { method: 'GET', expiresIn: 8 * 24 * 3600 }), 'invalid_request', 'expiry over a week')
      // the longest allowed key works
      const longest = ['y'.repeat(255), 'y'.repeat(255), 'y'.repeat(255), 'y'.repeat(192)].join('/')
      assert.equal(Buffer.byteLength(longest), 960)
      await store.put({ bucket: b, key: longest }, Buffer.from('long'))
      assert.deepEqual((await store.list({ bucket: b })).objects.map((o) => o.key), [longest])
    })

    if (backend.name === 'filesystem') {
      await t.test('filesystem: signed PUT over the size limit is 413 and stores nothing', async () => {
        const b = bucket()
        const url = await store.signedUrl({ bucket: b, key: 'huge.bin' }, { method: 'PUT', expiresIn: 60 })
        const res = await fetch(url.url, { method: 'PUT', body: randomBytes(UPLOAD_LIMIT + 1) })
        assert.equal(res.status, 413)
        assert.equal(((await res.json()) as { code: string }).code, 'object_too_large')
        assert.equal(await store.stat({ bucket: b, key: 'huge.bin' }), undefined)
        // exactly the limit is fine
        const ok = await fetch(url.url, { method: 'PUT', body: randomBytes(UPLOAD_LIMIT) })
        assert.equal(ok.status, 200)
        assert.equal((await store.head({ bucket: b, key: 'huge.bin' })).size, UPLOAD_LIMIT)
      })

      await t.test('filesystem: keys list in UTF-8 byte order, as on S3 ("-" before "/", "é" after "z")', async () => {
        // s3rver lists in its own folder order, so this is checked on the filesystem store only
        const b = bucket()
        const keys = ['a-c', 'a/1', 'a/b/2', 'a0', 'z', 'é']
        for (const key of [...keys].reverse()) await store.put({ bucket: b, key }, Buffer.from(key))
        assert.deepEqual((await store.list({ bucket: b })).objects.map((o) => o.key), keys)
        const paged: string[] = []
        let token: string | undefined
        for (let i = 0; i < 10; i++) {
          const page = await store.list({ bucket: b, maxKeys: 1, continuationToken: token })
          paged.push(...page.objects.map((o) => o.key))
          token = page.nextContinuationToken
          if (!token) break
        }
        assert.deepEqual(paged, keys)
      })

      await t.test('filesystem: symbolic links out of the store are never followed', async () => {
        const b = bucket()
        await store.put({ bucket: b, key: 'inside' }, Buffer.from('in'))
        const outside = mkdtempSync(join(tmpdir(), 'atrium-outside-'))
        t.after(() => rmSync(outside, { recursive: true, force: true }))
        writeFileSync(join(outside, 'secret.txt'), 'outside secret')
        const dataDir = join(atrium.handle.platform.config.dataDir, 'objects', 'data', b)
        mkdirSync(dataDir, { recursive: true })
        symlinkSync(outside, join(dataDir, 'linkdir'))
        symlinkSync(join(outside, 'secret.txt'), join(dataDir, 'linkfile'))
        await assert.rejects(store.get({ bucket: b, key: 'linkdir/secret.txt' }), (err: AppError) => err instanceof AppError && ['object_not_found', 'object_key_conflict'].includes(err.code))
        await refuses(store.get({ bucket: b, key: 'linkfile' }), 'object_not_found', 'a symlinked file')
        await assert.rejects(store.put({ bucket: b, key: 'linkdir/planted.txt' }, Buffer.from('x')), (err: AppError) => err instanceof AppError && err.code === 'object_key_conflict')
        assert.deepEqual((await store.list({ bucket: b })).objects.map((o) => o.key), ['inside'], 'links are not listed')
      })
    }
  })
}
