// POST /api/files/upload and /api/files/profile: multipart uploads into the object store (per-user folders, name,
// type and size limits) and DuckDB profiles of CSV, JSON and Parquet files.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { DuckDBInstance } from '@duckdb/node-api'
import { startTestAtrium, type TestAtrium } from '../../helpers/atrium.js'
import { JWT_SECRET, sessionToken } from '../../helpers/assistant.js'

const CSV = 'id,name,score,joined\n1,Ada,3.5,2024-01-01\n2,,4,2024-02-01\n3,Linus,,2024-03-01\n4,Grace,4,2024-03-01\n'
const MAX_BYTES = 4096

async function send(atrium: TestAtrium, token: string | null, path: string, name: string, content: Buffer | string, field = 'file') {
  const form = new FormData()
  form.append(field, new Blob([content]), name)
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
  const res = await fetch(`${atrium.url}${path}`, { method: 'POST', body: form, headers })
  const text = await res.text()
  return { status: res.status, text, body: text ? JSON.parse(text) : null }
}

/** a Parquet file written by DuckDB itself */
async function parquetFile(): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'assistant-parquet-'))
  try {
    const instance = await DuckDBInstance.create(':memory:')
    const db = await instance.connect()
    await db.run(`COPY (SELECT i AS id, 'item ' || (i % 3) AS label FROM range(10) t(i)) TO '${dir}/items.parquet' (FORMAT parquet)`)
    db.closeSync()
    instance.closeSync()
    return readFileSync(join(dir, 'items.parquet'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('Assistant files', async (t) => {
  const atrium = await startTestAtrium(t, { env: { ATRIUM_JWT_SECRET: JWT_SECRET, ATRIUM_ASSISTANT_MAX_UPLOAD_BYTES: String(MAX_BYTES) } })
  const ada = await sessionToken('ada')
  const bob = await sessionToken('bob')

  await t.test('upload stores the file in the user\'s folder of the object store', async () => {
    const res = await send(atrium, ada, '/api/files/upload?bucket=uploads', 'customers.csv', CSV)
    assert.equal(res.status, 201, res.text)
    assert.deepEqual(res.body, { file_name: 'customers.csv', storage_path: 'uploads/customers.csv', content_type: 'text/csv', size_bytes: Buffer.byteLength(CSV) })
    const objects = atrium.handle.platform.objects
    const listed = await objects.list({ bucket: 'assistant-uploads' })
    const keys = listed.objects.map((o: { key: string }) => o.key)
    assert.equal(keys.length, 1)
    assert.match(keys[0], /^u-[0-9a-f]{24}\/uploads\/customers\.csv$/)
    const stored = await objects.get({ bucket: 'assistant-uploads', key: keys[0] })
    const chunks: Buffer[] = []
    for await (const c of stored.body) chunks.push(c as Buffer)
    assert.equal(Buffer.concat(chunks).toString(), CSV)
    // bob's file of the same name goes to his own folder
    assert.equal((await send(atrium, bob, '/api/files/upload?bucket=uploads', 'customers.csv', 'id\n1\n')).status, 201)
    const after = (await objects.list({ bucket: 'assistant-uploads' })).objects.map((o: { key: string }) => o.key)
    assert.equal(after.length, 2)
    assert.notEqual(after[0].split('/')[0], after[1].split('/')[0])
  })

  await t.test('limits: type, name, size, bucket name, field, and a token', async () => {
    const cases: Array<[string, string, string | Buffer, number, string]> = [
      ['/api/files/upload?bucket=uploads', 'script.sh', 'echo hi', 415, 'unsupported_media_type'],
      ['/api/files/upload?bucket=uploads', 'semi;colon.csv', 'a\n1\n', 400, 'invalid_request'],
      ['/api/files/upload?bucket=uploads', 'big.csv', 'x'.repeat(MAX_BYTES + 10), 413, 'object_too_large'],
      ['/api/files/upload?bucket=Bad..Bucket', 'a.csv', 'a\n1\n', 400, 'invalid_bucket_name'],
      ['/api/files/profile', 'big.csv', 'x'.repeat(MAX_BYTES * 3), 413, 'object_too_large'],
      ['/api/files/profile', 'notes.docx', 'x', 415, 'unsupported_media_type'],
    ]
    for (const [path, name, content, status, code] of cases) {
      const res = await send(atrium, ada, path, name, content)
      assert.equal(res.status, status, `${name}: ${res.text}`)
      assert.equal(res.body.code, code, name)
    }
    const wrongField = await send(atrium, ada, '/api/files/profile', 'a.csv', 'a\n1\n', 'upload')
    assert.equal(wrongField.status, 400, wrongField.text)
    const json = await fetch(`${atrium.url}/api/files/profile`, { method: 'POST', headers: { authorization: `Bearer ${ada}`, 'content-type': 'application/json' }, body: '{}' })
    assert.equal(json.status, 415)
    assert.equal((await send(atrium, null, '/api/files/upload?bucket=uploads', 'a.csv', 'a\n1\n')).status, 401)
    const { objects } = await atrium.handle.platform.objects.list({ bucket: 'assistant-uploads' })
    assert.equal(objects.length, 2, 'nothing refused was stored')
  })

  await t.test('profile a CSV: row count, and per column type, nulls, distinct, min, max, samples', async () => {
    const res = await send(atrium, ada, '/api/files/profile', 'customers.csv', CSV)
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.format, 'csv')
    assert.equal(res.body.row_count, 4)
    const byName = Object.fromEntries(res.body.columns.map((c: { name: string }) => [c.name, c]))
    assert.deepEqual(res.body.columns.map((c: { name: string }) => c.name), ['id', 'name', 'score', 'joined'])
    assert.equal(byName.id.type, 'BIGINT')
    assert.deepEqual([byName.id.nulls, byName.id.distinct, String(byName.id.min), String(byName.id.max)], [0, 4, '1', '4'])
    assert.equal(byName.name.type, 'VARCHAR')
    assert.deepEqual([byName.name.nulls, byName.name.distinct, byName.name.min, byName.name.max], [1, 3, 'Ada', 'Linus'])
    assert.equal(byName.name.samples.length, 3)
    assert.equal(byName.score.type, 'DOUBLE')
    assert.deepEqual([byName.score.nulls, byName.score.distinct, byName.score.min, byName.score.max], [1, 2, 3.5, 4])
    assert.equal(byName.joined.type, 'DATE')
    assert.deepEqual([byName.joined.distinct, byName.joined.min, byName.joined.max], [3, '2024-01-01', '2024-03-01'])
  })

  await t.test('profile JSON lines and Parquet', async () => {
    const lines = '{"id": 1, "tags": ["a", "b"], "city": "Oslo"}\n{"id": 2, "tags": [], "city": null}\n'
    const json = await send(atrium, ada, '/api/files/profile', 'events.jsonl', lines)
    assert.equal(json.status, 200, json.text)
    assert.equal(json.body.row_count, 2)
    const tags = json.body.columns.find((c: { name: string }) => c.name === 'tags')
    assert.match(tags.type, /\[\]$/)
    assert.equal(tags.distinct, null, 'nested values have no distinct count')
    assert.equal(json.body.columns.find((c: { name: string }) => c.name === 'city').nulls, 1)

    const parquet = await send(atrium, ada, '/api/files/profile', 'items.parquet', await parquetFile())
    assert.equal(parquet.status, 200, parquet.text)
    assert.equal(parquet.body.format, 'parquet')
    assert.equal(parquet.body.row_count, 10)
    const label = parquet.body.columns.find((c: { name: string }) => c.name === 'label')
    assert.deepEqual([label.type, label.distinct, label.min, label.max], ['VARCHAR', 3, 'item 0', 'item 2'])
  })

  await t.test('a file that is not what its name says is a 400, without the server\'s paths', async () => {
    const res = await send(atrium, ada, '/api/files/profile', 'broken.parquet', 'not parquet at all')
    assert.equal(res.status, 400, res.text)
    assert.equal(res.body.code, 'invalid_request')
    assert.doesNotMatch(res.text, /atrium-profile-|\/tmp\//)
  })
})
