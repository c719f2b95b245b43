import assert from 'node:assert/strict'
import { parse } from 'csv-parse/sync'
import { startTestAtrium } from '../../helpers/atrium.js'
import { forEachDialect } from '../../helpers/dialects.js'

const ROWS = 1_000
const THRESHOLD = 50

const label = (i: number) => (i % 7 === 0 ? `comma, "quote" and\nnewline ${i}` : `row ${i}`)

// A CSV read above gateway.streamThresholdRows goes through the cursor like a JSON read (Server-Timing
// names the stream stage) and comes out complete: one header, every row, the same values as JSON.
forEachDialect('/rest/v1 streams large CSV reads', async (t, db) => {
  const isPg = db.dialect === 'postgres'
  await db.query(isPg
    ? 'CREATE TABLE big (id integer PRIMARY KEY, label text NOT NULL, amount numeric(10,2), flag boolean, note text, attrs jsonb)'
    : 'CREATE TABLE big (id int PRIMARY KEY, label varchar(100) NOT NULL, amount decimal(10,2), flag boolean, note varchar(100), attrs json)')
  const values: unknown[] = []
  for (let i = 1; i <= ROWS; i++) values.push(i, label(i), i / 4, i % 2 === 0, i % 3 === 0 ? null : `note ${i}`, JSON.stringify({ n: i, tags: ['a', 'b,c'] }))
  const tuples = Array.from({ length: ROWS }, (_, i) => (isPg ? `($${i * 6 + 1}, $${i * 6 + 2}, $${i * 6 + 3}, $${i * 6 + 4}, $${i * 6 + 5}, $${i * 6 + 6})` : '(?, ?, ?, ?, ?, ?)'))
  await db.query(`INSERT INTO big (id, label, amount, flag, note, attrs) VALUES ${tuples.join(', ')}`, values)
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_STREAM_THRESHOLD_ROWS: String(THRESHOLD) } })

  const json = await atrium.get('/rest/v1/big?order=id', { client: 'shop' })
  assert.equal(json.status, 200)
  const rows = json.body as Array<Record<string, unknown>>
  assert.equal(rows.length, ROWS)

  const csv = await atrium.get('/rest/v1/big?order=id', { client: 'shop', headers: { accept: 'text/csv' } })
  assert.equal(csv.status, 200, csv.text)
  assert.match(csv.headers.get('content-type') ?? '', /text\/csv/)
  assert.equal(csv.headers.get('content-range'), `0-${ROWS - 1}/*`)
  assert.match(csv.headers.get('server-timing') ?? '', /\bstream;/, 'the CSV went through the cursor')
  assert.equal(csv.text.split('\n')[0], 'id,label,amount,flag,note,attrs', 'one header, from the first row')
  const parsed = parse(csv.text, { columns: true }) as Array<Record<string, string>>
  const asCsv = (v: unknown) => (v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v))
  // PostgreSQL's numeric(10,2) keeps its scale in CSV (0.50, as PostgreSQL prints it); MySQL's arrives as a plain number
  const cell = (k: string, v: unknown) => (k === 'amount' && isPg && v !== null ? Number(v).toFixed(2) : asCsv(v))
  assert.deepEqual(parsed, rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, cell(k, v)]))))
  if (isPg) assert.equal(parsed[1].amount, '0.50')
  assert.equal(parsed[6].label, label(7))
  assert.equal(parsed[1].flag, 'true')
  assert.equal(parsed[0].flag, 'false')

  await t.test('a filtered, ranged CSV read streams too, with the header counted', async () => {
    const page = await atrium.get('/rest/v1/big?select=id,note&id=gt.100&order=id.desc&limit=599', { client: 'shop', headers: { accept: 'text/csv', prefer: 'count=exact' } })
    assert.equal(page.status, 206)
    assert.equal(page.headers.get('content-range'), '0-598/900')
    const lines = page.text.trimEnd().split('\n')
    assert.equal(lines.length, 600)
    assert.equal(lines[0], 'id,note')
    assert.equal(lines[1], '1000,note 1000')
    assert.equal(lines[599], '402,', 'NULL is an empty field')
  })
})
