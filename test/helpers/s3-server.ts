// Starts a local S3 server (s3rver, path-style, on 127.0.0.1 and a free port) in a temp directory for one test file.
// s3rver implements neither ListParts nor AbortMultipartUpload; both are added here, speaking S3's XML protocol
// over s3rver's own upload folders, so the S3 backend's multipart calls reach a real HTTP server.
import { mkdtempSync, rmSync } from 'node:fs'
import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'

const require = createRequire(import.meta.url)
// s3rver ships no type declarations
const S3rver = require('s3rver') as new (opts: Record<string, unknown>) => any
const S3Error = require('s3rver/lib/models/error') as new (code: string, message?: string) => Error

export interface TestS3 {
  endpoint: string
  bucket: string
  accessKeyId: string
  secretAccessKey: string
  /** settings for startTestAtrium's env */
  env: Record<string, string>
}

export async function startS3Server(t: Pick<TestContext, 'after'>, bucket = 'atrium-test'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'atrium-s3rver-'))
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] })
  const uploadDir = (b: string, uploadId: string) => join(server.store.getResourcePath(b, undefined, 'uploads'), uploadId)

  // runs before s3rver's router (the last middleware), after its XML encoder
  server.middleware.splice(server.middleware.length - 1, 0, async (ctx: any, next: () => Promise<void>) => {
    const uploadId = ctx.query.uploadId
    const m = /^\/([^/]+)\/(.+)$/.exec(ctx.path)
    if (!m || typeof uploadId !== 'string' || !/^[0-9a-f]+$/.test(uploadId) || !['GET', 'DELETE'].includes(ctx.method)) return next()
    const [, b, key] = [m[0], m[1], decodeURIComponent(m[2])]
    const dir = uploadDir(b, uploadId)
    const storedKey = await readFile(join(dir, 'key'), 'utf8').catch(() => undefined)
    if (storedKey !== key) throw new S3Error('NoSuchUpload', 'The specified upload does not exist.')
    if (ctx.method === 'DELETE') {
      await rm(dir, { recursive: true, force: true })
      ctx.status = 204
      return
    }
    const numbers = (await readdir(dir)).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b2) => a - b2)
    const parts = []
    for (const n of numbers) {
      const st = await stat(join(dir, String(n)))
      const md5 = await readFile(join(dir, `${n}.md5`), 'utf8')
      parts.push({ PartNumber: n, LastModified: st.mtime.toISOString(), ETag: `"${md5}"`, Size: st.size })
    }
    ctx.body = { ListPartsResult: { Bucket: b, Key: key, UploadId: uploadId, PartNumberMarker: 0, MaxParts: 1000, IsTruncated: false, Part: parts } }
  })

  const { port } = await server.run()
  t.after(async () => {
    await server.close()
    rmSync(directory, { recursive: true, force: true })
  })
  const endpoint = `http://127.0.0.1:${port}`
  // s3rver's one built-in account
  const accessKeyId = 'S3RVER'
  const secretAccessKey = 'S3RVER'
  return {
    endpoint,
    bucket,
    accessKeyId,
    secretAccessKey,
    env: { S3_ENDPOINT: endpoint, S3_BUCKET: bucket, S3_REGION: 'us-east-1', S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey },
  }
}
