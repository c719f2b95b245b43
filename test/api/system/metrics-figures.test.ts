// GET /metrics carries what the gateway spec lists beside the process counters: cluster probe gauges (the
// mirrors of /health/cluster) and 24-hour aggregates of the request log, per client.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'

test('cluster probe gauges and 24-hour aggregates', async (t) => {
  const mirror = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ version: '9.9.9' })))
  await new Promise<void>((resolve) => mirror.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => mirror.close(() => resolve())))
  const up = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}/`
  // a port nothing listens on: refused at once
  const down = 'http://127.0.0.1:1/'
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, {
    sources: { shop: db.url },
    settings: { 'cluster.mirrors': [up, down], 'gateway.requestLogFlushMs': 600_000 },
  })

  for (let i = 0; i < 3; i++) assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'customers', columns: 'id' } })).status, 200)
  assert.equal((await atrium.post('/gateway/fetch', { client: 'shop', body: { table_name: 'customers', columns: 'nope' } })).status, 400)
  // the statistics route writes this process's pending request log entries
  assert.equal((await atrium.get('/admin/clients/statistics')).status, 200)

  const res = await atrium.get('/metrics')
  assert.equal(res.status, 200, res.text)
  const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}.+?/]/g, '\\$&')} (\\S+)$`, 'm').exec(res.text)?.[1])
  assert.equal(value(`athena_cluster_mirror_up{url="${up}"}`), 1)
  assert.equal(value(`athena_cluster_mirror_up{url="${down}"}`), 0)
  assert.ok(value(`athena_cluster_mirror_latency_seconds{url="${up}"}`) >= 0)
  assert.equal(value('athena_requests_24h{client="shop"}'), 4)
  assert.equal(value('athena_request_errors_24h{client="shop"}'), 1)
  for (const stat of ['mean', 'p95']) assert.ok(value(`athena_request_duration_ms_24h{client="shop",stat="${stat}"}`) > 0, stat)
  assert.match(res.text, /^athena_uptime_seconds \d/m)
  assert.match(res.text, /^athena_management_mutations_total|# TYPE athena_management_mutations_total counter/m)

  const cluster = await atrium.get('/health/cluster', { key: null })
  assert.equal(cluster.status, 200)
  assert.equal(cluster.body.message, '1 of 2 mirrors online')
  assert.equal(cluster.body.mirrors.find((m: { url: string }) => m.url === up).cargo_toml_version, '9.9.9')
})
