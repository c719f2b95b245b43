// Result exports and export jobs through HTTP: every format × compression of a query job's result is written by a
// durable job, downloaded through its signed URL (no credentials) and read back with an independent reader —
// DuckDB for CSV, JSON and Parquet, avsc for Avro, node:zlib for the whole-file compressions — equal to the
// query's rows (64-bit integers, decimals, text with commas, quotes and newlines, NULLs, timestamps). Masking
// holds in exports, another tenant's exports are 404s, and an expired URL is a 403 that says so.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { gunzipSync, inflateSync } from 'node:zlib'
import { DuckDBInstance } from '@duckdb/node-api'
import avro from 'avsc'
import type { DuckDbEngine } from '../../../src/warehouse/duckdb-engine.js'
import { tableNameOf } from '../../../src/warehouse/duckdb-engine.js'
import { as, ROLES, startWorkspace, type Caller } from './workspace-helpers.js'

const URL_TTL_SECONDS = 4
const FORMATS = ['CSV', 'JSON', 'AVRO', 'PARQUET'] as const
const COMPRESSIONS = ['GZIP', 'DEFLATE', 'NONE'] as const

/** the rows as the test writes them, in canonical text: what every reader must give back */
type Canon = { id: string; amount: string | null; note: string | null; placed_at: string | null; email: string | null }
const ROWS: Canon[] = [
  { id: '-5', amount: '-0.01', note: 'plain', placed_at: '1969-12-31T23:59:59', email: 'ada@example.test' },
  { id: '1', amount: '10.50', note: 'a,b "quoted"\nnext line', placed_at: '2024-01-02T03:04:05.123456', email: null },
  { id: '2', amount: null, note: null, placed_at: null, email: 'bo@example.test' },
  { id: '3', amount: '1234567890.12', note: '', placed_at: '2024-02-29T00:00:00', email: 'cy@example.test' },
  { id: '9007199254740993', amount: '7.00', note: 'ünïcödé ✓', placed_at: '2038-01-19T03:14:08.000001', email: 'di@example.test' },
]
const sqlText = (v: string | null) => (v === null ? 'NULL' : `'${v.replaceAll("'", "''")}'`)

/** a decimal of scale 2 as text, from a number or a numeric string */
const dec2 = (v: unknown) => (v === null || v === undefined ? null : Number(v).toFixed(2))
/** a timestamp as 'YYYY-MM-DDTHH:MM:SS[.ffffff]', from DuckDB's text */
const ts = (v: unknown) => (v === null || v === undefined ? null : String(v).replace(' ', 'T').replace(/\.?0+$/, (m) => (m.startsWith('.') ? '' : m)))
const canonTs = (v: string | null) => (v === null ? null : ts(v))

/** Avro's long as a BigInt (avsc's own reads a double), defined here so the reader is not the writer's */
const readerLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => { const b = Buffer.alloc(8); b.writeBigInt64LE(n); return b },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => n.toString(),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
})

/** Avro decimal bytes: big-endian two's complement of the unscaled value */
function decimalFromBytes(buf: Buffer, scale: number): string {
  let n = 0n
  for (const byte of buf) n = (n << 8n) | BigInt(byte)
  if (buf.length > 0 && (buf[0]! & 0x80)) n -= 1n << BigInt(buf.length * 8)
  const neg = n < 0n
  const digits = (neg ? -n : n).toString().padStart(scale + 1, '0')
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`
}

/** micros since the epoch → 'YYYY-MM-DDTHH:MM:SS[.ffffff]' */
function fromMicros(us: bigint): string {
  const ms = us / 1000n - (us % 1000n < 0n ? 1n : 0n)
  const micros = ((us % 1_000_000n) + 1_000_000n) % 1_000_000n
  const base = new Date(Number(ms)).toISOString().slice(0, 19)
  return micros === 0n ? base : `${base}.${micros.toString().padStart(6, '0')}`
}

async function readAvro(bytes: Buffer): Promise<{ codec: string; rows: Canon[]; schema: any }> {
  let codec = ''
  let schema: any
  const rows: Canon[] = []
  const decoder = new avro.streams.BlockDecoder({ parseHook: (s: any) => { schema = s; return avro.Type.forSchema(s, { registry: { long: readerLong } }) } })
  decoder.on('metadata', (_type: unknown, c: string) => { codec = c })
  Readable.from([bytes]).pipe(decoder)
  for await (const r of decoder as AsyncIterable<Record<string, any>>) {
    rows.push({
      id: r.id === null ? (null as never) : String(r.id),
      amount: r.amount === null ? null : decimalFromBytes(r.amount, 2),
      note: r.note,
      placed_at: r.placed_at === null ? null : fromMicros(BigInt(r.placed_at)),
      email: r.email,
    })
  }
  return { codec, rows, schema }
}

/** reads a CSV, JSON or Parquet file with a fresh DuckDB that has nothing to do with Atrium's */
async function readWithDuckDb(format: 'CSV' | 'JSON' | 'PARQUET', bytes: Buffer): Promise<{ rows: Canon[]; types: Record<string, string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'atrium-export-read-'))
  try {
    const file = join(dir, `f.${format.toLowerCase()}`)
    writeFileSync(file, bytes)
    const reader = { CSV: `read_csv('${file}', header = true, allow_quoted_nulls = false)`, JSON: `read_json('${file}', format = 'newline_delimited')`, PARQUET: `read_parquet('${file}')` }[format]
    const inst = await DuckDBInstance.create(':memory:')
    const c = await inst.connect()
    try {
      const result = await c.runAndReadAll(`SELECT * FROM ${reader}`)
      const types = Object.fromEntries(result.columnNames().map((n, i) => [n, String(result.columnTypes()[i])]))
      const rows = (result.getRowObjectsJson() as Array<Record<string, any>>).map((r) => ({
        id: String(r.id), amount: dec2(r.amount), note: r.note, placed_at: ts(r.placed_at), email: r.email,
      }))
      return { rows, types }
    } finally {
      c.closeSync()
      inst.closeSync()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('Workspace exports', async (t) => {
  const { call, settle, atrium, tenants: [a, b] } = await startWorkspace(t, { env: { ATRIUM_WORKSPACE_EXPORT_URL_TTL_SECONDS: String(URL_TTL_SECONDS) } })
  const engine = atrium.handle.platform.warehouseEngine as DuckDbEngine
  const editor = as(a, 'Dataset editor')
  const user = as(a, 'Dataset user')
  const outsider = as(b, 'Org admin')

  const project = (await call(as(a, 'Org admin'), 'POST', '/api/v1/projects', { name: 'Analytics' })).body
  const dataset = (await call(editor, 'POST', '/api/v1/datasets', { name: 'sales', project_id: project.id })).body
  const orders = (await call(editor, 'POST', '/api/v1/tables', { name: 'orders', dataset_id: dataset.id, schema: { columns: [
    { name: 'id', type: 'BIGINT', nullable: false }, { name: 'amount', type: 'DECIMAL(12,2)' }, { name: 'note', type: 'VARCHAR' },
    { name: 'placed_at', type: 'TIMESTAMP' }, { name: 'email', type: 'VARCHAR', private: true },
  ] } })).body
  assert.ok(orders.id, JSON.stringify(orders))
  const values = ROWS.map((r) => `(${r.id}, ${r.amount ?? 'NULL'}, ${sqlText(r.note)}, ${r.placed_at === null ? 'NULL' : `TIMESTAMP '${r.placed_at}'`}, ${sqlText(r.email)})`)
  await engine.withConnection(a.id, (c) => c.run(`INSERT INTO ${tableNameOf({ tenantId: a.id, datasetId: dataset.id, tableId: orders.id })} VALUES ${values.join(', ')}`))
  const queryId = (await call(user, 'POST', '/api/v1/queries', { query_text: 'SELECT 1', project_id: project.id })).body.id as string

  const runQuery = async (who: Caller, sql: string) => {
    const res = await call(who, 'POST', '/api/v1/queries/run', { query_id: queryId, query_text: sql })
    assert.equal(res.status, 200, res.text)
    const job = await settle(who, `/api/v1/query_jobs/${res.body.job_id}`)
    assert.equal(job.status, 'done', JSON.stringify(job.error_result))
    return job.id as string
  }
  /** creates a result export, waits for it and downloads its file through the signed URL, without credentials */
  const exportResult = async (who: Caller, jobId: string, format: string, compression: string) => {
    const created = await call(who, 'POST', `/api/v1/query_jobs/${jobId}/exports`, { format, compression })
    assert.equal(created.status, 201, created.text)
    assert.equal(created.body.query_job_id, jobId)
    const done = await settle(who, `/api/v1/query_result_exports/${created.body.id}`)
    assert.equal(done.status, 'done', done.error_message)
    const link = await call(who, 'GET', `/api/v1/query_result_exports/${created.body.id}/download`)
    assert.equal(link.status, 200, link.text)
    const expiresIn = (Date.parse(link.body.expires_at) - Date.now()) / 1000
    assert.ok(expiresIn > 0 && expiresIn <= URL_TTL_SECONDS, `expires_at is within the configured ${URL_TTL_SECONDS}s (${expiresIn})`)
    const file = await fetch(link.body.signed_url)
    assert.equal(file.status, 200, link.body.signed_url)
    const bytes = Buffer.from(await file.arrayBuffer())
    assert.equal(bytes.length, done.size_bytes)
    return { record: done, link: link.body, bytes }
  }

  const fullJob = await runQuery(editor, 'SELECT id, amount, note, placed_at, email FROM sales.orders ORDER BY id')

  for (const format of FORMATS) {
    for (const compression of COMPRESSIONS) {
      await t.test(`${format} × ${compression} reads back equal to the query result`, async () => {
        const { record, bytes } = await exportResult(editor, fullJob, format, compression)
        assert.equal(record.row_count, ROWS.length)
        assert.equal(record.columns_masked, false)
        assert.equal(record.format, format)
        assert.equal(record.compression, compression)
        const expected = ROWS.map((r) => ({ ...r, placed_at: canonTs(r.placed_at) }))
        if (format === 'AVRO') {
          // DEFLATE is Avro's own block codec; GZIP is the whole container gzipped (Avro has no gzip codec)
          const container = compression === 'GZIP' ? gunzipSync(bytes) : bytes
          assert.equal(container.subarray(0, 4).toString('latin1'), 'Obj\x01', 'an Avro object container')
          const { codec, rows, schema } = await readAvro(container)
          assert.equal(codec, compression === 'DEFLATE' ? 'deflate' : 'null')
          const amount = schema.fields.find((f: { name: string }) => f.name === 'amount').type[1]
          assert.deepEqual(amount, { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 })
          assert.deepEqual(rows, expected)
          return
        }
        let plain = bytes
        if (format === 'PARQUET') {
          assert.equal(bytes.subarray(0, 4).toString('latin1'), 'PAR1', 'Parquet compresses inside the file')
        } else if (compression === 'GZIP') {
          assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b], 'a gzip file')
          plain = gunzipSync(bytes)
        } else if (compression === 'DEFLATE') {
          assert.equal(bytes[0], 0x78, 'zlib-framed DEFLATE')
          plain = inflateSync(bytes)
        }
        const { rows, types } = await readWithDuckDb(format, plain)
        assert.deepEqual(rows, expected)
        assert.match(types.id!, /^(BIGINT|HUGEINT)$/, '64-bit integers stay integers')
        if (format === 'PARQUET') {
          assert.deepEqual(types, { id: 'BIGINT', amount: 'DECIMAL(12,2)', note: 'VARCHAR', placed_at: 'TIMESTAMP', email: 'VARCHAR' })
        }
      })
    }
  }

  await t.test('Parquet names its codec in the file: GZIP and DEFLATE are gzip pages, NONE uncompressed', async () => {
    for (const [compression, codec] of [['GZIP', 'GZIP'], ['DEFLATE', 'GZIP'], ['NONE', 'UNCOMPRESSED']] as const) {
      const { bytes } = await exportResult(editor, fullJob, 'PARQUET', compression)
      const dir = mkdtempSync(join(tmpdir(), 'atrium-export-codec-'))
      try {
        writeFileSync(join(dir, 'f.parquet'), bytes)
        const inst = await DuckDBInstance.create(':memory:')
        const c = await inst.connect()
        const meta = await c.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${join(dir, 'f.parquet')}')`)
        assert.deepEqual(meta.getRows().map((r) => String(r[0])), [codec], compression)
        c.closeSync()
        inst.closeSync()
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  })

  await t.test('a Dataset user exports masked values, and cannot export an unmasked result', async () => {
    const masked = await runQuery(user, 'SELECT id, email FROM sales.orders ORDER BY id')
    const { bytes, record } = await exportResult(user, masked, 'JSON', 'NONE')
    assert.equal(record.columns_masked, true)
    const lines = bytes.toString('utf8').trim().split('\n').map((l) => JSON.parse(l))
    assert.equal(lines.length, ROWS.length)
    assert.ok(lines.every((l) => l.email === null), 'private values are NULL in the file')
    const refused = await call(user, 'POST', `/api/v1/query_jobs/${fullJob}/exports`, { format: 'CSV', compression: 'NONE' })
    assert.equal(refused.status, 403, refused.text)
    assert.match(refused.body.detail, /Dataset editor/)
    // nor read an editor's export of it
    const editors = (await call(editor, 'GET', `/api/v1/query_jobs/${fullJob}/exports`)).body.exports
    assert.ok(editors.length >= 12)
    assert.equal((await call(user, 'GET', `/api/v1/query_result_exports/${editors[0].id}/download`)).status, 403)
  })

  await t.test('lists per query job; defaults are CSV with GZIP; bad bodies are 422s naming the field', async () => {
    const created = await call(editor, 'POST', `/api/v1/query_jobs/${fullJob}/exports`, {})
    assert.equal(created.status, 201, created.text)
    assert.equal(created.body.format, 'CSV')
    assert.equal(created.body.compression, 'GZIP')
    const listed = await call(editor, 'GET', `/api/v1/query_jobs/${fullJob}/exports?limit=1000`)
    assert.ok(listed.body.exports.some((e: { id: string }) => e.id === created.body.id))
    assert.ok(listed.body.exports.every((e: { query_job_id: string }) => e.query_job_id === fullJob))
    // the query job shows its exports too
    const job = await call(editor, 'GET', `/api/v1/query_jobs/${fullJob}`)
    assert.deepEqual(job.body.exports.map((e: { id: string }) => e.id), listed.body.exports.map((e: { id: string }) => e.id))
    const jobs = await call(editor, 'GET', '/api/v1/query_jobs')
    assert.equal(jobs.body.query_jobs.find((j: { id: string }) => j.id === fullJob).exports.length, listed.body.exports.length)
    for (const [body, field] of [[{ format: 'XML' }, 'format'], [{ compression: 'ZSTD' }, 'compression']] as const) {
      const bad = await call(editor, 'POST', `/api/v1/query_jobs/${fullJob}/exports`, body)
      assert.equal(bad.status, 422, bad.text)
      assert.deepEqual(bad.body.detail[0].loc, ['body', field])
    }
    // a job that did not finish successfully has nothing to export
    const failing = await call(user, 'POST', '/api/v1/queries/run', { query_id: queryId, query_text: 'SELECT CAST(note AS INTEGER) FROM sales.orders' })
    assert.equal(failing.status, 200, failing.text)
    assert.equal((await settle(user, `/api/v1/query_jobs/${failing.body.job_id}`)).status, 'failed')
    const early = await call(user, 'POST', `/api/v1/query_jobs/${failing.body.job_id}/exports`, { format: 'CSV' })
    assert.equal(early.status, 409, early.text)
    assert.match(early.body.detail, /failed/)
  })

  await t.test('another tenant\'s job and exports are 404s; no credentials is 401', async () => {
    const mine = (await call(editor, 'GET', `/api/v1/query_jobs/${fullJob}/exports`)).body.exports[0].id
    for (const [method, path] of [
      ['POST', `/api/v1/query_jobs/${fullJob}/exports`], ['GET', `/api/v1/query_jobs/${fullJob}/exports`],
      ['GET', `/api/v1/query_result_exports/${mine}`], ['GET', `/api/v1/query_result_exports/${mine}/download`],
    ] as const) {
      const res = await call(outsider, method, path, method === 'POST' ? { format: 'CSV' } : undefined)
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`)
      assert.equal((await call({ token: null }, method, path, method === 'POST' ? {} : undefined)).status, 401)
    }
    assert.equal((await call(editor, 'GET', '/api/v1/query_result_exports/not-a-uuid')).status, 404)
  })

  await t.test('a signed URL that has expired is refused with a 403 saying so; a new one works', async () => {
    const { link } = await exportResult(editor, fullJob, 'CSV', 'NONE')
    await sleep(URL_TTL_SECONDS * 1000 + 500)
    const expired = await fetch(link.signed_url)
    assert.equal(expired.status, 403)
    assert.match(await expired.text(), /signed_url_expired|expired/)
    const forged = await fetch(link.signed_url.replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A')))
    assert.equal(forged.status, 403)
  })

  await t.test('export jobs write a table to a file; private columns are masked below Dataset editor', async () => {
    const create = async (who: Caller, body: Record<string, unknown>) => {
      const res = await call(who, 'POST', '/api/v1/export_jobs', body)
      assert.equal(res.status, 201, res.text)
      assert.equal(res.body.table_id, orders.id)
      return settle(who, `/api/v1/export_jobs/${res.body.id}`)
    }
    const download = async (who: Caller, id: string) => {
      const link = await call(who, 'GET', `/api/v1/export_jobs/${id}/download`)
      assert.equal(link.status, 200, link.text)
      return Buffer.from(await (await fetch(link.body.signed_url)).arrayBuffer())
    }
    const full = await create(editor, { table_id: orders.id, status: 'requested', format: 'PARQUET', compression: 'NONE' })
    assert.equal(full.status, 'done', full.error_message)
    assert.equal(full.row_count, ROWS.length)
    const { rows } = await readWithDuckDb('PARQUET', await download(editor, full.id))
    assert.deepEqual(rows.sort((x, y) => (BigInt(x.id) < BigInt(y.id) ? -1 : 1)), ROWS.map((r) => ({ ...r, placed_at: canonTs(r.placed_at) })))

    const masked = await create(user, { table_id: orders.id, format: 'CSV', compression: 'GZIP' })
    assert.equal(masked.columns_masked, true)
    const read = await readWithDuckDb('CSV', gunzipSync(await download(user, masked.id)))
    assert.equal(read.rows.length, ROWS.length)
    assert.ok(read.rows.every((r) => r.email === null))

    const listed = await call(user, 'GET', `/api/v1/tables/${orders.id}/export_jobs`)
    assert.deepEqual(listed.body.export_jobs.map((e: { id: string }) => e.id), [full.id, masked.id])
    assert.deepEqual((await call(user, 'GET', '/api/v1/export_jobs')).body.export_jobs.map((e: { id: string }) => e.id), [full.id, masked.id])
    // result exports are not export jobs, and the other way round
    assert.equal((await call(editor, 'GET', `/api/v1/query_result_exports/${full.id}`)).status, 404)

    // every role may export a table and read its export jobs (the masking above is the difference)
    for (const role of ROLES) {
      const res = await call(as(a, role), 'POST', '/api/v1/export_jobs', { table_id: orders.id, format: 'JSON', compression: 'NONE' })
      assert.equal(res.status, 201, `${role}: ${res.text}`)
      assert.equal(res.body.columns_masked, role === 'Dataset user', role)
      assert.equal((await call(as(a, role), 'GET', `/api/v1/export_jobs/${res.body.id}`)).status, 200)
    }

    for (const path of [`/api/v1/export_jobs/${full.id}`, `/api/v1/export_jobs/${full.id}/download`, `/api/v1/tables/${orders.id}/export_jobs`]) {
      assert.equal((await call(outsider, 'GET', path)).status, 404, path)
    }
    assert.equal((await call(outsider, 'POST', '/api/v1/export_jobs', { table_id: orders.id })).status, 404)
    assert.deepEqual((await call(outsider, 'GET', '/api/v1/export_jobs')).body.export_jobs, [])
    assert.equal((await call({ token: null }, 'GET', '/api/v1/export_jobs')).status, 401)
  })
})
