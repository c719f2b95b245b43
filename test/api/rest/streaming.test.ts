import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { test } from 'node:test'
import { ADMIN_KEY } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'
import { spawnAtrium } from '../../helpers/process.js'

const ROWS = 1_000_000
/** the server's own start-up needs about 60 MB of heap; the result alone would need more than the rest */
const HEAP_LIMIT_MB = 128
/** the benchmark's target for a streamed million rows (W5), checked here as a second, looser wall */
const MAX_RSS_GROWTH_MB = 150

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : 0
}

// A million rows (about 67 MB of JSON) stream through a cursor: the server's memory must not grow with the
// result. The server runs as its own process, with a heap too small to hold the result, so a server that
// buffered would crash; its resident memory is sampled too. (RSS alone is a poor wall: V8 lets garbage
// pile up before collecting, so an unbounded heap grows by about the body's size even when streaming.)
test('a large GET /rest/v1 streams with bounded server memory', async (t) => {
  const db = await createPgDatabase(t)
  await db.query(`CREATE TABLE big AS SELECT g AS id, 'row number ' || g AS label, (g % 1000) / 10.0 AS amount FROM generate_series(1, ${ROWS}) g`)
  const catalog = await createPgDatabase(t, 'atrium_catalog')
  const server = await spawnAtrium({ DATABASE_URL: catalog.url, ATHENA_KEY_12: ADMIN_KEY, ATRIUM_CLIENT_SHOP: db.url, ATRIUM_DATA_DIR: `${process.cwd()}/.test-data/${catalog.name}`,
    // the wall: a server that held the result (about 67 MB of text, far more as row objects) would run out
    // of this heap and die; streaming needs a few chunks of 250 rows at a time
    NODE_OPTIONS: `--max-old-space-size=${HEAP_LIMIT_MB}`,
  })
  t.after(async () => {
    await server.stop()
    rmSync(`${process.cwd()}/.test-data/${catalog.name}`, { recursive: true, force: true })
  })
  const pid = server.child.pid!
  // warm the server up so the baseline includes the code paths and pools
  await fetch(`${server.url}/rest/v1/big?limit=10`, { headers: { apikey: ADMIN_KEY, 'x-athena-client': 'shop' } }).then((r) => r.text())
  const before = rssMb(pid)
  let peak = before
  const sampler = setInterval(() => { peak = Math.max(peak, rssMb(pid)) }, 50)
  const res = await fetch(`${server.url}/rest/v1/big?order=id`, { headers: { apikey: ADMIN_KEY, 'x-athena-client': 'shop' } })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-range'), `0-${ROWS - 1}/*`)
  const chunks: Buffer[] = []
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk))
  clearInterval(sampler)
  peak = Math.max(peak, rssMb(pid))
  const text = Buffer.concat(chunks).toString('utf8')
  const rows = JSON.parse(text) as Array<{ id: number; label: string; amount: number }>
  assert.equal(rows.length, ROWS)
  assert.deepEqual(rows[0], { id: 1, label: 'row number 1', amount: 0.1 })
  assert.equal(rows[ROWS - 1].id, ROWS)
  const bodyMb = text.length / 1048576
  const growth = peak - before
  t.diagnostic(`body ${bodyMb.toFixed(1)} MB, server RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} MB (+${growth.toFixed(0)} MB)`)
  assert.ok(bodyMb > 40, 'the result is large')
  assert.ok(growth < MAX_RSS_GROWTH_MB, `server memory grew by ${growth.toFixed(0)} MB for a ${bodyMb.toFixed(0)} MB result`)
  assert.equal(server.child.exitCode, null, 'the server is still running')
})
