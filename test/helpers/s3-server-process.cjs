// A local S3 server (s3rver) as a child process: node --openssl-legacy-provider s3-server-process.cjs <dir> <bucket>.
// A separate process because s3rver's continuation tokens use DES, which OpenSSL 3 only has in its legacy
// provider. s3rver implements neither ListParts nor AbortMultipartUpload, and takes parts for uploads that do
// not exist; this adds both and the check, speaking S3's XML protocol over s3rver's own upload folders.
'use strict'
const { readdir, readFile, rm, stat } = require('node:fs/promises')
const { join } = require('node:path')
const S3rver = require('s3rver')
const S3Error = require('s3rver/lib/models/error')

const [directory, bucket] = process.argv.slice(2)
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] })
const uploadDir = (b, uploadId) => join(server.store.getResourcePath(b, undefined, 'uploads'), uploadId)

// runs before s3rver's router (the last middleware), after its XML encoder
server.middleware.splice(server.middleware.length - 1, 0, async (ctx, next) => {
  const uploadId = ctx.query.uploadId
  const m = /^\/([^/]+)\/(.+)$/.exec(ctx.path)
  if (!m || typeof uploadId !== 'string' || !['GET', 'DELETE', 'PUT'].includes(ctx.method)) return next()
  const b = m[1]
  const key = decodeURIComponent(m[2])
  const dir = uploadDir(b, uploadId)
  const storedKey = /^[0-9a-f]+$/.test(uploadId) ? await readFile(join(dir, 'key'), 'utf8').catch(() => undefined) : undefined
  if (storedKey !== key) throw new S3Error('NoSuchUpload', 'The specified upload does not exist.')
  if (ctx.method === 'PUT') return next()
  if (ctx.method === 'DELETE') {
    await rm(dir, { recursive: true, force: true })
    ctx.status = 204
    return
  }
  const numbers = (await readdir(dir)).filter((n) => /^\d+$/.test(n)).map(Number).sort((x, y) => x - y)
  const parts = []
  for (const n of numbers) {
    const st = await stat(join(dir, String(n)))
    const md5 = await readFile(join(dir, `${n}.md5`), 'utf8')
    parts.push({ PartNumber: n, LastModified: st.mtime.toISOString(), ETag: `"${md5}"`, Size: st.size })
  }
  ctx.body = { ListPartsResult: { Bucket: b, Key: key, UploadId: uploadId, PartNumberMarker: 0, MaxParts: 1000, IsTruncated: false, Part: parts } }
})

server.run().then(({ port }) => process.stdout.write(`${JSON.stringify({ port })}\n`), (err) => {
  process.stderr.write(`${err.stack}\n`)
  process.exit(1)
})
// the parent's end is ours: no orphaned server when the test process goes away
process.stdin.on('end', () => server.close().finally(() => process.exit(0)))
process.stdin.resume()
