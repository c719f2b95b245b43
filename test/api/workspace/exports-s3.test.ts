// Result exports on the S3 object store (s3rver, path-style): the file is stored in the bucket, and download
// answers S3's own presigned URL, which S3 serves without credentials until it expires.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { startS3Server } from '../../helpers/s3-server.js'
import { as, startWorkspace } from './workspace-helpers.js'

test('Workspace exports on S3 are downloaded through presigned URLs', async (t) => {
  const s3 = await startS3Server(t)
  const { call, settle, tenants: [a] } = await startWorkspace(t, { env: { ...s3.env, ATRIUM_WORKSPACE_EXPORT_URL_TTL_SECONDS: '600' } })
  const editor = as(a, 'Dataset editor')
  const project = (await call(as(a, 'Org admin'), 'POST', '/api/v1/projects', { name: 'Analytics' })).body
  const queryId = (await call(editor, 'POST', '/api/v1/queries', { query_text: 'SELECT 1', project_id: project.id })).body.id

  const run = await call(editor, 'POST', '/api/v1/queries/run', { query_id: queryId, query_text: "SELECT i AS n, 'row ' || i AS label FROM (SELECT unnest(range(3)) AS i) t ORDER BY n" })
  assert.equal(run.status, 200, run.text)
  assert.equal((await settle(editor, `/api/v1/query_jobs/${run.body.job_id}`)).status, 'done')

  const created = await call(editor, 'POST', `/api/v1/query_jobs/${run.body.job_id}/exports`, { format: 'CSV', compression: 'GZIP' })
  assert.equal(created.status, 201, created.text)
  const done = await settle(editor, `/api/v1/query_result_exports/${created.body.id}`)
  assert.equal(done.status, 'done', done.error_message)

  const link = await call(editor, 'GET', `/api/v1/query_result_exports/${created.body.id}/download`)
  assert.equal(link.status, 200, link.text)
  const url = new URL(link.body.signed_url)
  assert.equal(url.origin, s3.endpoint, 'the URL is the S3 server\'s, not Atrium\'s')
  assert.ok(url.searchParams.get('X-Amz-Signature'), 'presigned (SigV4)')
  assert.equal(url.searchParams.get('X-Amz-Expires'), '600')
  const expiresIn = (Date.parse(link.body.expires_at) - Date.now()) / 1000
  assert.ok(expiresIn > 500 && expiresIn <= 600, String(expiresIn))
  const file = await fetch(url)
  assert.equal(file.status, 200)
  assert.equal(gunzipSync(Buffer.from(await file.arrayBuffer())).toString('utf8'), 'n,label\n0,row 0\n1,row 1\n2,row 2\n')
})
