// Shared by the storage file tests: an Atrium on each object store backend (the filesystem, and S3 through
// s3rver), with one data source to act as the client, and the requests athena-js 5 sends for buckets and files.
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { startTestAtrium, type TestAtrium } from './atrium.js'
import { createPgDatabase } from './databases.js'
import { startS3Server } from './s3-server.js'

export type BackendName = 'filesystem' | 's3'
export const BACKENDS: BackendName[] = ['filesystem', 's3']

/** an Atrium on the backend with data sources `app` and `other` (two clients, for tenancy) */
export async function startStorageAtrium(t: TestContext, backend: BackendName, env: Record<string, string> = {}): Promise<TestAtrium> {
  const s3 = backend === 's3' ? await startS3Server(t) : undefined
  const [app, other] = [await createPgDatabase(t), await createPgDatabase(t)]
  return startTestAtrium(t, { sources: { app: app.url, other: other.url }, env: { ...s3?.env, ...env } })
}

export interface BucketOptions {
  public?: boolean
  versioning?: boolean
  file_size_limit?: number | null
  allowed_mime_types?: string[] | null
}

export async function createBucket(atrium: TestAtrium, bucket: string, opts: BucketOptions = {}, client = 'app'): Promise<void> {
  const res = await atrium.post('/storage/buckets/create', { client, body: { s3_id: 'default', bucket, ...opts } })
  assert.equal(res.status, 201, res.text)
}

/** POST /storage/files/upload-url as the SDK sends it; the answer's data ({ file, upload }) */
export async function uploadUrl(atrium: TestAtrium, body: Record<string, unknown>, client = 'app'): Promise<any> {
  const res = await atrium.post('/storage/files/upload-url', { client, body: { s3_id: 'default', ...body } })
  assert.equal(res.status, 200, res.text)
  assert.equal(res.body.status, 'success')
  return res.body.data
}

/** what the SDK's single-PUT upload does with the answer: PUT the bytes to upload.url with upload.headers */
export async function putToUploadUrl(upload: { url: string; headers?: Record<string, string> }, bytes: Buffer | string): Promise<Response> {
  return fetch(upload.url, { method: 'PUT', headers: upload.headers ?? {}, body: bytes })
}

/** upload-url, then the PUT: a file with bytes, the way athena.storage.file.upload makes one */
export async function uploadFile(atrium: TestAtrium, body: Record<string, unknown>, bytes: Buffer | string, client = 'app'): Promise<any> {
  const { file, upload } = await uploadUrl(atrium, body, client)
  const put = await putToUploadUrl(upload, bytes)
  assert.equal(put.status, 200, await put.clone().text())
  return file
}
