// The Databases API workload of `npm run bench`: create latency (POST /api/v1/databases?wait=true, from the
// request to the 201) with a database taken from the warm pool and made cold, p50 and p99, and the throughput
// of GET /api/v1/databases pages. One Atrium with two regions on the same PostgreSQL server: `local` keeps a
// warm pool, `cold` none, so both are measured in one run under the same conditions.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { PG_ADMIN, pgUrl } from './fixture.js'

export interface DatabasesBenchOptions {
  /** starts an Atrium with this environment on this port (run.ts's start + waitForPing) */
  startAtrium(env: Record<string, string>, port: number): Promise<{ base: string; stop(): Promise<void> }>
  adminKey: string
  /** creates measured per kind (the warm pool holds this many) */
  creates: number
  /** seconds of list requests, `concurrency` at a time */
  listSeconds: number
  concurrency: number
}

export interface DatabasesFigures {
  creates: number
  warm: { p50Ms: number; p99Ms: number; runsMs: number[] }
  cold: { p50Ms: number; p99Ms: number; runsMs: number[] }
  list: { requests: number; reqPerSec: number; p50Ms: number; p99Ms: number; pageSize: number; databases: number; errors: number }
}

const CATALOG = 'atrium_bench_databases'
const PREFIX = 'atrium_bench_pk_'
const PAGE = 25

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!)
}

export async function databasesWorkload(opts: DatabasesBenchOptions): Promise<DatabasesFigures> {
  await dropBenchDatabases()
  const admin = new pg.Client({ connectionString: PG_ADMIN })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${CATALOG}`)
  await admin.end()
  const dir = mkdtempSync(join(tmpdir(), 'atrium-bench-dbapi-'))
  const configFile = join(dir, 'atrium.yaml')
  writeFileSync(configFile, `provisioning:\n  regions:\n    cold:\n      label: Cold\n      postgresUrl: "${PG_ADMIN}"\n      warmPool:\n        postgres: 0\n`)
  const atrium = await opts.startAtrium({
    DATABASE_URL: pgUrl(CATALOG),
    ATRIUM_CONFIG: configFile,
    ATRIUM_DATA_DIR: join(dir, 'data'),
    ATRIUM_MANAGED_POSTGRES_URL: PG_ADMIN,
    ATRIUM_MANAGED_NAME_PREFIX: PREFIX,
    ATRIUM_MANAGED_WARM_POOL_POSTGRES: String(opts.creates),
  }, 8713)
  try {
    const key = await platformKey(atrium.base, opts.adminKey)
    await poolReady(opts.creates)
    const create = async (region: string, i: number) => {
      const t0 = performance.now()
      const res = await call(atrium.base, key, 'POST', '/api/v1/databases?wait=true&timeout=60', { name: `bench-${region}-${i}`, region })
      const ms = performance.now() - t0
      if (res.status !== 201) throw new Error(`create in ${region} answered ${res.status}: ${JSON.stringify(res.body)}`)
      return ms
    }
    // one at a time: latency, not throughput; warm first, while the pool is full
    const warm: number[] = []
    for (let i = 0; i < opts.creates; i++) warm.push(await create('local', i))
    const cold: number[] = []
    for (let i = 0; i < opts.creates; i++) cold.push(await create('cold', i))
    const list = await listLoad(atrium.base, key, opts)
    const figures: DatabasesFigures = {
      creates: opts.creates,
      warm: { p50Ms: percentile(warm, 50), p99Ms: percentile(warm, 99), runsMs: warm.map(Math.round) },
      cold: { p50Ms: percentile(cold, 50), p99Ms: percentile(cold, 99), runsMs: cold.map(Math.round) },
      list: { ...list, databases: opts.creates * 2 },
    }
    console.log(`  databases create (wait=true), ${opts.creates} each: warm pool p50 ${figures.warm.p50Ms} ms, p99 ${figures.warm.p99Ms} ms; cold p50 ${figures.cold.p50Ms} ms, p99 ${figures.cold.p99Ms} ms`)
    console.log(`  databases list: ${list.reqPerSec} pages/s of ${PAGE} (c=${opts.concurrency}), p50 ${list.p50Ms} ms, p99 ${list.p99Ms} ms, errors ${list.errors}`)
    return figures
  } finally {
    await atrium.stop()
    await dropBenchDatabases()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function call(base: string, key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  return { status: res.status, body: await res.json().catch(() => null) as any }
}

async function platformKey(base: string, adminKey: string): Promise<string> {
  const res = await fetch(`${base}/admin/platform-keys`, {
    method: 'POST',
    headers: { apikey: adminKey, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bench@example.test', name: 'bench', requests_per_minute: 1_000_000 }),
  })
  if (res.status !== 201) throw new Error(`could not create the bench platform key: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { data: { key: string } }).data.key
}

/** waits (at most two minutes) until the warm pool holds `size` ready databases */
async function poolReady(size: number): Promise<void> {
  const c = new pg.Client({ connectionString: pgUrl(CATALOG) })
  await c.connect()
  try {
    for (let i = 0; i < 1200; i++) {
      const n = Number((await c.query('SELECT count(*) AS n FROM atrium.warm_databases WHERE ready').catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n)
      if (n >= size) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error('the warm pool did not fill within two minutes')
  } finally {
    await c.end()
  }
}

/** GET /api/v1/databases?limit=25, `concurrency` at a time for listSeconds (at most 100k requests) */
async function listLoad(base: string, key: string, opts: DatabasesBenchOptions) {
  const latencies: number[] = []
  let errors = 0
  const t0 = performance.now()
  const deadline = t0 + opts.listSeconds * 1000
  await Promise.all(Array.from({ length: opts.concurrency }, async () => {
    while (performance.now() < deadline && latencies.length + errors < 100_000) {
      const s = performance.now()
      const res = await fetch(`${base}/api/v1/databases?limit=${PAGE}`, { headers: { authorization: `Bearer ${key}` } })
      await res.arrayBuffer()
      if (res.status === 200) latencies.push(performance.now() - s)
      else errors++
    }
  }))
  const seconds = (performance.now() - t0) / 1000
  return { requests: latencies.length, reqPerSec: Math.round(latencies.length / seconds), p50Ms: +percentile(latencies, 50).toFixed(1), p99Ms: +percentile(latencies, 99).toFixed(1), pageSize: PAGE, errors }
}

/** the bench's catalog and every database and login it provisioned (named atrium_bench_pk_…) */
async function dropBenchDatabases(): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN })
  await c.connect()
  try {
    await c.query(`DROP DATABASE IF EXISTS ${CATALOG} WITH (FORCE)`)
    const like = `${PREFIX.replaceAll('_', '\\_')}%`
    for (const { datname } of (await c.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [like])).rows) {
      await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`)
    }
    for (const { rolname } of (await c.query('SELECT rolname FROM pg_roles WHERE rolname LIKE $1', [like])).rows) {
      await c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(rolname)}`)
    }
  } finally {
    await c.end()
  }
}
