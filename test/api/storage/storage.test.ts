import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { test, type TestContext } from 'node:test'
import { startTestAtrium, type TestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'
import { startS3Server } from '../../helpers/s3-server.js'

// The /storage buckets and objects routes, black-box through HTTP with the bodies the athena-js 5 storage module
// sends (s3_id, bucket, key, …; X-Athena-Client), on both object store backends: the filesystem (signed URLs
// served by Atrium) and S3 (s3rver; presigned URLs answered by s3rver).

interface Backend {
  name: 'filesystem' | 's3'
  env(t: TestContext): Promise<Record<string, string>>
}

const BACKENDS: Backend[] = [
  { name: 'filesystem', env: async () => ({}) },
  { name: 's3', env: async (t) => (await startS3Server(t)).env },
]

const S3_ID = 'default'
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex')

/** uploads through the storage API the way the SDK does: ask for a signed URL, then PUT the bytes to it */
async function upload(atrium: TestAtrium, client: string, bucket: string, key: string, data: Buffer, contentType = 'application/octet-stream') {
  const signed = await atrium.post('/storage/objects/upload-url', { client, body: { s3_id: S3_ID, bucket, key, content_type: contentType } })
  assert.equal(signed.status, 200, signed.text)
  const put = await fetch(signed.body.data.url, { method: 'PUT', body: data, headers: signed.body.data.headers })
  assert.ok(put.ok, `PUT to the signed URL: ${put.status} ${await put.clone().text()}`)
  return signed.body.data
}

for (const backend of BACKENDS) {
  test(`storage buckets and objects: ${backend.name}`, async (t) => {
    const env = await backend.env(t)
    const [app, other] = await Promise.all([createPgDatabase(t), createPgDatabase(t)])
    const atrium = await startTestAtrium(t, { sources: { app: app.url, other: other.url }, env })
    const post = (path: string, body: Record<string, unknown>, client = 'app') => atrium.post(path, { client, body: { s3_id: S3_ID, ...body } })

    await t.test('GET /storage/catalogs names the default connection and its backend, never its credentials', async () => {
      const res = await atrium.get('/storage/catalogs', { client: 'app' })
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(res.body.data.map((c: { id: string; provider: string }) => [c.id, c.provider]), [['default', backend.name]])
      assert.ok(!/secret|access_key/i.test(res.text), 'no credential is shown')
    })

    await t.test('buckets: create with options, list, refuse a duplicate and bad names', async () => {
      const created = await post('/storage/buckets/create', { bucket: 'photos', public: true, versioning: true, file_size_limit: 1000, allowed_mime_types: ['image/*', 'text/plain'] })
      assert.equal(created.status, 201, created.text)
      assert.equal(created.body.status, 'success')
      assert.deepEqual(
        { name: created.body.data.bucket.name, public: created.body.data.bucket.public, versioning: created.body.data.bucket.versioning, limit: created.body.data.bucket.file_size_limit, types: created.body.data.bucket.allowed_mime_types },
        { name: 'photos', public: true, versioning: true, limit: 1000, types: ['image/*', 'text/plain'] },
      )
      assert.equal((await post('/storage/buckets/create', { bucket: 'docs' })).status, 201)
      const list = await post('/storage/buckets/list', {})
      assert.deepEqual(list.body.data.buckets.map((b: { name: string }) => b.name), ['docs', 'photos'])
      const dup = await post('/storage/buckets/create', { bucket: 'photos' })
      assert.equal(dup.status, 409)
      assert.equal(dup.body.code, 'bucket_already_exists')
      for (const bad of ['..', 'a/b', 'UPPER', 'x']) {
        const res = await post('/storage/buckets/create', { bucket: bad })
        assert.equal(res.status, 400, `${bad}: ${res.text}`)
      }
      const badType = await post('/storage/buckets/create', { bucket: 'weird', allowed_mime_types: ['not a type'] })
      assert.equal(badType.status, 400)
    })

    await t.test('tenancy: another client does not see the bucket (404), and may have one of the same name', async () => {
      const res = await post('/storage/objects', { bucket: 'photos' }, 'other')
      assert.equal(res.status, 404)
      assert.equal(res.body.code, 'bucket_not_found')
      assert.deepEqual((await post('/storage/buckets/list', {}, 'other')).body.data.buckets, [])
      assert.equal((await post('/storage/buckets/create', { bucket: 'photos' }, 'other')).status, 201)
      assert.equal((await post('/storage/buckets/delete', { bucket: 'photos' }, 'other')).status, 200)
      assert.equal((await post('/storage/objects/head', { bucket: 'photos', key: 'x' })).body.code, 'object_not_found', 'the first client still has its bucket')
    })

    await t.test('an unknown s3_id is a 404; a missing one is a 400 naming it', async () => {
      const res = await post('/storage/buckets/list', { s3_id: 'nope' })
      assert.equal(res.status, 404)
      assert.equal(res.body.code, 'storage_catalog_not_found')
      const missing = await atrium.post('/storage/buckets/list', { client: 'app', body: {} })
      assert.equal(missing.status, 400)
      assert.match(missing.body.message, /s3_id/)
    })

    await t.test('upload URL, head, exists, download URL: the bytes round-trip through signed URLs', async () => {
      const data = Buffer.from('hello storage')
      const signed = await upload(atrium, 'app', 'docs', 'notes/a.txt', data, 'text/plain')
      assert.ok(signed.expires_at && signed.expires_in === 3600)
      const head = await post('/storage/objects/head', { bucket: 'docs', key: 'notes/a.txt' })
      assert.equal(head.status, 200, head.text)
      assert.equal(head.body.data.size, data.length)
      assert.equal(head.body.data.content_type, 'text/plain')
      assert.equal(head.body.data.etag, `"${md5(data)}"`)
      assert.equal((await post('/storage/objects/exists', { bucket: 'docs', key: 'notes/a.txt' })).body.data.exists, true)
      assert.equal((await post('/storage/objects/exists', { bucket: 'docs', key: 'notes/none' })).body.data.exists, false)
      const url = await post('/storage/objects/url', { bucket: 'docs', key: 'notes/a.txt', expires_in: 60 })
      assert.equal(url.status, 200, url.text)
      assert.equal(url.body.data.expires_in, 60)
      const got = await fetch(url.body.data.url)
      assert.equal(got.status, 200)
      assert.equal(await got.text(), 'hello storage')
      const missing = await post('/storage/objects/url', { bucket: 'docs', key: 'notes/none' })
      assert.equal(missing.status, 404)
    })

    await t.test('keys are validated: "..", NUL, leading "/" and over-long keys are 400', async () => {
      for (const key of ['../escape', 'a/../b', 'a\u0000b', '/abs', 'x'.repeat(300)]) {
        const res = await post('/storage/objects/upload-url', { bucket: 'docs', key })
        assert.equal(res.status, 400, `${JSON.stringify(key)}: ${res.text}`)
      }
    })

    await t.test('bad input is a 4xx in the Athena envelope, never a 500', async () => {
      const cases: [string, Record<string, unknown>][] = [
        ['/storage/objects', { bucket: 'docs', continuation_token: 'not-a-token' }],
        ['/storage/objects', { bucket: 'docs', max_keys: 5000 }],
        ['/storage/objects', { bucket: 'docs', delimiter: '|' }],
        ['/storage/objects', { bucket: 'docs', prefix: '../' }],
        ['/storage/objects/copy', { bucket: 'docs', source_key: 'notes/a.txt', destination_key: 'notes/a.txt' }],
        ['/storage/objects/copy', { bucket: 'docs', source_key: 'missing', destination_key: 'x' }],
        ['/storage/objects/update', { bucket: 'docs', key: 'notes/a.txt', metadata: { 'bad name!': 'x' } }],
        ['/storage/objects/delete', { bucket: 'docs', keys: [] }],
        ['/storage/objects/url', { bucket: 'docs', key: 'notes/a.txt', expires_in: 0 }],
        ['/storage/objects/url', { bucket: 'docs', key: 'notes/a.txt', expires_in: 8 * 24 * 3600 }],
        ['/storage/objects/versions/restore', { bucket: 'docs', key: 'notes/a.txt', version_id: 'nope' }],
        ['/storage/objects/post-policy', { bucket: 'docs', key: 'p', success_action_status: '302' }],
        ['/storage/objects/post-policy', { bucket: 'docs', key: 'p', min_size: 10, max_size: 5 }],
        ['/storage/buckets/create', { bucket: 'limits', file_size_limit: 0 }],
        ['/storage/buckets/policy/set', { bucket: 'docs', policy: [1, 2] }],
        ['/storage/buckets/lifecycle/set', { bucket: 'docs', rules: [{ expiration_days: -1 }] }],
      ]
      for (const [path, body] of cases) {
        const res = await post(path, body)
        assert.ok(res.status >= 400 && res.status < 500, `${path} ${JSON.stringify(body)}: ${res.status} ${res.text}`)
        assert.equal(res.body.status, 'error')
        assert.ok(res.body.code && res.body.message, res.text)
      }
      const noClient = await atrium.post('/storage/buckets/list', { body: { s3_id: S3_ID } })
      assert.equal(noClient.status, 400)
      assert.equal(noClient.body.code, 'missing_client_header')
    })

    await t.test('list: prefix, delimiter and pagination', async () => {
      for (const key of ['list/a', 'list/b', 'list/sub/c', 'list/sub/d', 'other/e']) await upload(atrium, 'app', 'docs', key, Buffer.from(key))
      const folded = await post('/storage/objects', { bucket: 'docs', prefix: 'list/', delimiter: '/' })
      assert.equal(folded.status, 200, folded.text)
      assert.deepEqual(folded.body.data.objects.map((o: { key: string }) => o.key), ['list/a', 'list/b'])
      assert.deepEqual(folded.body.data.common_prefixes, ['list/sub/'])
      const keys: string[] = []
      let token: string | undefined
      for (let i = 0; i < 10; i++) {
        const page = await post('/storage/objects', { bucket: 'docs', prefix: 'list/', max_keys: 2, ...(token ? { continuation_token: token } : {}) })
        keys.push(...page.body.data.objects.map((o: { key: string }) => o.key))
        token = page.body.data.next_continuation_token ?? undefined
        if (!page.body.data.is_truncated) break
      }
      assert.deepEqual(keys, ['list/a', 'list/b', 'list/sub/c', 'list/sub/d'])
    })

    await t.test('limits: upload URLs and copies refuse sizes and types the bucket does not take; validate reports them', async () => {
      const big = await post('/storage/objects/upload-url', { bucket: 'photos', key: 'big.png', content_type: 'image/png', size_bytes: 5000 })
      assert.equal(big.status, 413)
      assert.equal(big.body.code, 'object_too_large')
      const type = await post('/storage/objects/upload-url', { bucket: 'photos', key: 'a.pdf', content_type: 'application/pdf' })
      assert.equal(type.status, 415)
      assert.equal(type.body.code, 'mime_type_not_allowed')
      // a copy from an unlimited bucket is held to the destination's limits
      const copy = await post('/storage/objects/copy', { bucket: 'docs', source_key: 'other/e', destination_key: 'e', destination_bucket: 'photos' })
      assert.equal(copy.status, 415)
      await upload(atrium, 'app', 'photos', 'ok.png', Buffer.from('png bytes'), 'image/png')
      const valid = await post('/storage/objects/validate', { bucket: 'photos', key: 'ok.png', checksum_sha256: createHash('sha256').update('png bytes').digest('hex') })
      assert.equal(valid.body.data.valid, true, valid.text)
      const wrong = await post('/storage/objects/validate', { bucket: 'photos', key: 'ok.png', etag: '"0000"' })
      assert.equal(wrong.body.data.valid, false)
      assert.equal(wrong.body.data.problems[0].code, 'etag_mismatch')
    })

    await t.test('copy, update metadata, delete one and many', async () => {
      const copied = await post('/storage/objects/copy', { bucket: 'docs', source_key: 'notes/a.txt', destination_key: 'copies/a.txt' })
      assert.equal(copied.status, 200, copied.text)
      assert.equal(copied.body.data.key, 'copies/a.txt')
      const updated = await post('/storage/objects/update', { bucket: 'docs', key: 'copies/a.txt', content_type: 'text/markdown', metadata: { owner: 'ada' }, cache_control: 'max-age=60' })
      assert.equal(updated.status, 200, updated.text)
      const head = await post('/storage/objects/head', { bucket: 'docs', key: 'copies/a.txt' })
      assert.equal(head.body.data.content_type, 'text/markdown')
      assert.deepEqual(head.body.data.metadata, { owner: 'ada', 'cache-control': 'max-age=60' })
      const one = await post('/storage/objects/delete', { bucket: 'docs', key: 'copies/a.txt' })
      assert.deepEqual(one.body.data.deleted, ['copies/a.txt'])
      const many = await post('/storage/objects/delete', { bucket: 'docs', keys: ['list/a', 'list/b'] })
      assert.deepEqual(many.body.data.deleted.sort(), ['list/a', 'list/b'])
      assert.equal((await post('/storage/objects/exists', { bucket: 'docs', key: 'list/a' })).body.data.exists, false)
    })

    await t.test('folders: create (listed as a prefix), rename, delete', async () => {
      assert.equal((await post('/storage/objects/folder', { bucket: 'docs', prefix: 'empty/' })).status, 200)
      const listed = await post('/storage/objects', { bucket: 'docs', delimiter: '/' })
      assert.ok(listed.body.data.common_prefixes.includes('empty/'), listed.text)
      const renamed = await post('/storage/objects/folder/rename', { bucket: 'docs', from_prefix: 'list/sub', to_prefix: 'moved' })
      assert.equal(renamed.status, 200, renamed.text)
      assert.equal(renamed.body.data.processed_objects, 2)
      assert.equal((await post('/storage/objects/exists', { bucket: 'docs', key: 'moved/c' })).body.data.exists, true)
      assert.equal((await post('/storage/objects/exists', { bucket: 'docs', key: 'list/sub/c' })).body.data.exists, false)
      const deleted = await post('/storage/objects/folder/delete', { bucket: 'docs', prefix: 'moved/' })
      assert.equal(deleted.body.data.processed_objects, 2)
      assert.equal((await post('/storage/objects', { bucket: 'docs', prefix: 'moved/' })).body.data.objects.length, 0)
      assert.equal((await post('/storage/objects/folder', { bucket: 'docs', prefix: '../up' })).status, 400)
    })

    await t.test('versions: a versioned bucket keeps replaced and deleted content; restore (force) and delete versions', async () => {
      await upload(atrium, 'app', 'photos', 'v.txt', Buffer.from('one'), 'text/plain')
      await upload(atrium, 'app', 'photos', 'v.txt', Buffer.from('two'), 'text/plain')
      const listed = await post('/storage/objects/versions', { bucket: 'photos', key: 'v.txt' })
      assert.equal(listed.status, 200, listed.text)
      const [current, old] = listed.body.data.versions
      assert.equal(current.is_latest, true)
      assert.equal(old.is_latest, false)
      assert.equal(old.size, 3)
      const refused = await post('/storage/objects/versions/restore', { bucket: 'photos', key: 'v.txt', version_id: old.version_id })
      assert.equal(refused.status, 409)
      assert.equal(refused.body.code, 'object_exists')
      const restored = await post('/storage/objects/versions/restore', { bucket: 'photos', key: 'v.txt', version_id: old.version_id, force: true })
      assert.equal(restored.status, 200, restored.text)
      const url = await post('/storage/objects/url', { bucket: 'photos', key: 'v.txt' })
      assert.equal(await (await fetch(url.body.data.url)).text(), 'one')
      // "two" was kept when "one" came back, and a delete keeps "one"
      await post('/storage/objects/delete', { bucket: 'photos', key: 'v.txt' })
      const after = await post('/storage/objects/versions', { bucket: 'photos', key: 'v.txt' })
      assert.equal(after.body.data.versions.length, 3, after.text)
      assert.ok(after.body.data.versions.every((v: { is_latest: boolean }) => !v.is_latest))
      // pages of one version each cover every version once
      const seen: string[] = []
      let marker: string | undefined
      for (let i = 0; i < 10; i++) {
        const page = await post('/storage/objects/versions', { bucket: 'photos', max_keys: 1, ...(marker ? { version_id_marker: marker } : {}) })
        seen.push(...page.body.data.versions.map((v: { version_id: string }) => v.version_id))
        marker = page.body.data.next_version_id_marker ?? undefined
        if (!marker) break
      }
      assert.deepEqual(seen, after.body.data.versions.map((v: { version_id: string }) => v.version_id))
      const gone = await post('/storage/objects/versions/delete', { bucket: 'photos', key: 'v.txt', version_id: old.version_id })
      assert.equal(gone.status, 200, gone.text)
      assert.equal((await post('/storage/objects/versions/delete', { bucket: 'photos', key: 'v.txt', version_id: old.version_id })).body.code, 'object_version_not_found')
    })

    await t.test('public URLs: only for public buckets, readable without a key', async () => {
      const res = await post('/storage/objects/public-url', { bucket: 'photos', key: 'ok.png' })
      assert.equal(res.status, 200, res.text)
      const got = await fetch(res.body.data.url)
      assert.equal(got.status, 200)
      assert.equal(await got.text(), 'png bytes')
      const refused = await post('/storage/objects/public-url', { bucket: 'docs', key: 'notes/a.txt' })
      assert.equal(refused.status, 400)
      assert.equal(refused.body.code, 'bucket_not_public')
      // a private bucket's object cannot be read by guessing its public path
      const guessed = await fetch(res.body.data.url.replace('/photos/ok.png', '/docs/notes/a.txt'))
      assert.equal(guessed.status, 404)
      // restrict_public_buckets turns the public URL off
      await post('/storage/buckets/public-access/set', { bucket: 'photos', restrict_public_buckets: true })
      assert.equal((await fetch(res.body.data.url)).status, 404)
      await post('/storage/buckets/public-access/delete', { bucket: 'photos' })
      assert.equal((await fetch(res.body.data.url)).status, 200)
    })

    await t.test('bucket settings: CORS, lifecycle, policy and public access get/set/delete', async () => {
      const cors = await post('/storage/buckets/cors/set', { bucket: 'docs', rules: [{ allowed_origins: ['https://app.example'], allowed_methods: ['get', 'PUT'], max_age_seconds: 600 }] })
      assert.equal(cors.status, 200, cors.text)
      assert.deepEqual((await post('/storage/buckets/cors', { bucket: 'docs' })).body.data.rules, [{ allowed_origins: ['https://app.example'], allowed_methods: ['GET', 'PUT'], max_age_seconds: 600 }])
      assert.equal((await post('/storage/buckets/cors/set', { bucket: 'docs', rules: [{ allowed_origins: ['*'], allowed_methods: ['PATCH'] }] })).status, 400)
      await post('/storage/buckets/cors/delete', { bucket: 'docs' })
      assert.deepEqual((await post('/storage/buckets/cors', { bucket: 'docs' })).body.data.rules, [])

      const life = await post('/storage/buckets/lifecycle/set', { bucket: 'docs', rules: [{ id: 'expire-tmp', prefix: 'tmp/', expiration_days: 7 }] })
      assert.equal(life.status, 200, life.text)
      assert.deepEqual((await post('/storage/buckets/lifecycle', { bucket: 'docs' })).body.data.rules, [{ id: 'expire-tmp', prefix: 'tmp/', status: 'Enabled', expiration_days: 7 }])
      assert.equal((await post('/storage/buckets/lifecycle/set', { bucket: 'docs', rules: [{ prefix: 'x/' }] })).status, 400, 'a rule without an action')
      await post('/storage/buckets/lifecycle/delete', { bucket: 'docs' })
      assert.deepEqual((await post('/storage/buckets/lifecycle', { bucket: 'docs' })).body.data.rules, [])

      const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject' }] }
      assert.equal((await post('/storage/buckets/policy/set', { bucket: 'docs', policy: JSON.stringify(policy) })).status, 200)
      assert.deepEqual((await post('/storage/buckets/policy', { bucket: 'docs' })).body.data.policy, policy)
      assert.equal((await post('/storage/buckets/policy/set', { bucket: 'docs', policy: '{not json' })).status, 400)
      await post('/storage/buckets/policy/delete', { bucket: 'docs' })
      assert.equal((await post('/storage/buckets/policy', { bucket: 'docs' })).body.data.policy, null)

      const block = await post('/storage/buckets/public-access/set', { bucket: 'docs', block_public_acls: true, block_public_policy: true })
      assert.equal(block.body.data.configured, true)
      assert.equal(block.body.data.block_public_acls, true)
      assert.equal(block.body.data.restrict_public_buckets, false)
      await post('/storage/buckets/public-access/delete', { bucket: 'docs' })
      assert.equal((await post('/storage/buckets/public-access', { bucket: 'docs' })).body.data.configured, false)
    })

    await t.test('bucket delete: refused while not empty, done with force', async () => {
      const refused = await post('/storage/buckets/delete', { bucket: 'docs' })
      assert.equal(refused.status, 409)
      assert.equal(refused.body.code, 'bucket_not_empty')
      const forced = await post('/storage/buckets/delete', { bucket: 'docs', force: true })
      assert.equal(forced.status, 200, forced.text)
      assert.ok(forced.body.data.objects_deleted > 0)
      assert.equal((await post('/storage/objects', { bucket: 'docs' })).status, 404)
      // a new bucket of the same name starts empty
      await post('/storage/buckets/create', { bucket: 'docs' })
      assert.deepEqual((await post('/storage/objects', { bucket: 'docs' })).body.data.objects, [])
      assert.equal((await post('/storage/buckets/delete', { bucket: 'docs' })).status, 200)
    })

    await t.test('upload URLs carry the bucket limit: an announced size over it is refused, a URL for a size takes no more', async () => {
      await post('/storage/buckets/create', { bucket: 'small', file_size_limit: 100 })
      const over = await post('/storage/objects/upload-url', { bucket: 'small', key: 'a', size_bytes: 101 })
      assert.equal(over.status, 413)
      const signed = await post('/storage/objects/upload-url', { bucket: 'small', key: 'a', size_bytes: 10 })
      assert.equal(signed.body.data.headers['content-length'], '10')
      if (backend.name === 's3') {
        // S3 refuses a body whose length differs from the signed one (s3rver does not check): it is signed
        assert.match(new URL(signed.body.data.url).searchParams.get('X-Amz-SignedHeaders') ?? '', /content-length/)
      } else {
        const longer = await fetch(signed.body.data.url, { method: 'PUT', body: Buffer.alloc(50), headers: { 'content-type': 'application/octet-stream' } })
        assert.equal(longer.status, 413, 'a body longer than signed for is refused')
        assert.equal((await post('/storage/objects/exists', { bucket: 'small', key: 'a' })).body.data.exists, false)
        // without an announced size, the URL still takes no more than the bucket's limit
        const open = await post('/storage/objects/upload-url', { bucket: 'small', key: 'b' })
        assert.equal((await fetch(open.body.data.url, { method: 'PUT', body: Buffer.alloc(101), headers: open.body.data.headers })).status, 413)
      }
      const exact = await fetch(signed.body.data.url, { method: 'PUT', body: Buffer.alloc(10), headers: signed.body.data.headers })
      assert.ok(exact.ok, `${exact.status}`)
    })

    await t.test('POST policy: a browser form upload is stored; the size range and type are signed into the policy', async () => {
      await post('/storage/buckets/create', { bucket: 'forms', file_size_limit: 100, allowed_mime_types: ['text/plain'] })
      const noType = await post('/storage/objects/post-policy', { bucket: 'forms', key: 'f.txt' })
      assert.equal(noType.status, 400, 'a bucket that limits types needs content_type')
      const badType = await post('/storage/objects/post-policy', { bucket: 'forms', key: 'f.txt', content_type: 'text/html' })
      assert.equal(badType.status, 415)
      const res = await post('/storage/objects/post-policy', { bucket: 'forms', key: 'up/f.txt', content_type: 'text/plain', max_size: 1000, success_action_status: '201', expires_in: 300 })
      assert.equal(res.status, 200, res.text)
      const policy = res.body.data
      assert.equal(policy.method, 'POST')
      assert.equal(policy.conditions.max_size, 100, 'never above the bucket limit')
      const form = (text: string, fields: Record<string, string> = policy.fields) => {
        const f = new FormData()
        for (const [name, value] of Object.entries(fields)) f.append(name, value)
        f.append('file', new Blob([text], { type: 'text/plain' }), 'f.txt')
        return f
      }
      const sent = await fetch(policy.url, { method: 'POST', body: form('form bytes') })
      assert.equal(sent.status, 201, await sent.clone().text())
      const head = await post('/storage/objects/head', { bucket: 'forms', key: 'up/f.txt' })
      assert.equal(head.body.data.size, 10)
      assert.equal(head.body.data.content_type, 'text/plain')
      if (backend.name === 's3') {
        // S3 checks the signed policy itself (s3rver does not): the conditions it would check are in it
        const doc = JSON.parse(Buffer.from(policy.fields.Policy, 'base64').toString('utf8'))
        assert.ok(doc.conditions.some((c: unknown) => JSON.stringify(c) === JSON.stringify(['content-length-range', 0, 100])), JSON.stringify(doc))
        assert.ok(doc.conditions.some((c: unknown) => JSON.stringify(c) === JSON.stringify(['eq', '$Content-Type', 'text/plain'])), JSON.stringify(doc))
      } else {
        const tooBig = await fetch(policy.url, { method: 'POST', body: form('x'.repeat(101)) })
        assert.equal(tooBig.status, 413)
        const otherType = await fetch(policy.url, { method: 'POST', body: form('hi', { ...policy.fields, 'Content-Type': 'text/html' }) })
        assert.equal(otherType.status, 403)
        const forged = await fetch(policy.url, { method: 'POST', body: form('hi', { ...policy.fields, key: 'elsewhere.txt' }) })
        assert.equal(forged.status, 403)
        const tampered = await fetch(policy.url, { method: 'POST', body: form('hi', { ...policy.fields, policy: `${policy.fields.policy.slice(0, -2)}xx` }) })
        assert.equal(tampered.status, 403)
        assert.equal((await post('/storage/objects/exists', { bucket: 'forms', key: 'elsewhere.txt' })).body.data.exists, false)
      }
    })

    await t.test('a 1 MB object round-trips byte for byte', async () => {
      const data = randomBytes(1024 * 1024)
      await post('/storage/buckets/create', { bucket: 'large' })
      await upload(atrium, 'app', 'large', 'blob.bin', data)
      const url = await post('/storage/objects/url', { bucket: 'large', key: 'blob.bin' })
      const got = Buffer.from(await (await fetch(url.body.data.url)).arrayBuffer())
      assert.equal(md5(got), md5(data))
    })
  })
}
