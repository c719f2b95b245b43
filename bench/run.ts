// `npm run bench`: measures Atrium's hot paths side by side with a hand-written Fastify baseline, in one run,
// and reports Atrium/baseline ratios (absolute numbers drift between runs on shared machines; ratios do not).
//   npm run bench                 full run (5 rounds of 4 s per route and concurrency 32 and 128; medians)
//   npm run bench -- --quick      one short round per workload, smaller fixture: proves the harness works
//   npm run bench -- --only=storage --storage-objects=300   the storage workload, with more objects each way
//   npm run bench -- --only=w1,w2 selected workloads (w1 … w7, w3-repr, w1-mysql, w2-mysql, w1-mcp, storage, backup, realtime, databases, assistant, workspace, agents, cold)
//   npm run bench -- --rounds=9   more rounds, for a steadier median on a noisy machine
//   npm run bench -- --only=backup  the backup workload: MB/s of a dump and restore via Atrium vs pg_dump/pg_restore
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { DB_NAME, MYSQL_ADMIN, PG_ADMIN, mysqlUrl, pgUrl, prepareMysql, preparePostgres, type FixtureSizes } from './fixture.js'
import type { LoadConfig } from './load.js'
import { BACKUP_DB, RESTORE_DB, backupWorkload, prepareBackupDatabases } from './backup.js'
import { BASELINE_OBJECTS, cpuMs, storageWorkload } from './storage.js'
import { agentsWorkload } from './agents.js'
import { assistantWorkload, BENCH_JWT_SECRET, startModelStub } from './assistant.js'
import { realtimeWorkload, type RealtimeFigures } from './realtime.js'
import { databasesWorkload, type DatabasesFigures } from './databases.js'
import { workspaceWorkload, type WorkspaceFigures } from './workspace.js'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',')
const ROOT = new URL('..', import.meta.url).pathname
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef'
const BENCH_DATA_DIR = join(tmpdir(), DB_NAME === 'atrium_bench' ? 'atrium-bench-data' : `${DB_NAME}-data`)
// each run has a catalog of its own, and BENCH_PORT moves its servers (Atrium, the baseline, cold starts: +0, +1, +2)
const CATALOG_DB = `${DB_NAME}_catalog`
const PORT = Number(process.env.BENCH_PORT ?? 8710)
const SIZES: FixtureSizes = quick ? { items: 100_000, customers: 1_000, orders: 20_000, big: 100_000 } : { items: 100_000, customers: 1_000, orders: 20_000, big: 1_000_000 }
const DURATION = quick ? 2 : 4
const WARMUP = quick ? 1 : 2
// Each round runs Atrium's routes and the baseline back to back; ratios are taken within a round (both sides
// see the same machine state) and their median over the rounds is reported, so a noisy moment skews one round
// at most. Every other round runs the routes in reverse order, so neither side of a pair always goes first.
const roundsArg = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9))
const ROUNDS = Number.isInteger(roundsArg) && roundsArg > 0 ? roundsArg : quick ? 1 : 5
// objects each way in the storage workload (at most 1000; it stops after maxSeconds all the same)
const objectsArg = Number(args.find((a) => a.startsWith('--storage-objects='))?.slice(18))
const STORAGE_OBJECTS = Number.isInteger(objectsArg) && objectsArg > 0 ? Math.min(objectsArg, 1000) : quick ? 40 : 200
const CONCURRENCY = quick ? [32] : [32, 128]
const hasTaskset = existsSync('/usr/bin/taskset')
// servers on core 0, the load generator on core 1 (PostgreSQL is scheduled by the OS)
const pinned = (core: number, cmd: string[]) => (hasTaskset && cpus().length > 1 ? ['taskset', '-c', String(core), ...cmd] : cmd)

interface Server { name: string; base: string; child: ChildProcess; pid: number }

async function waitForPing(base: string, child: ChildProcess, timeoutMs: number): Promise<number> {
  const started = performance.now()
  while (performance.now() - started < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`server at ${base} exited with ${child.exitCode}`)
    try {
      if ((await fetch(`${base}/ping`, { signal: AbortSignal.timeout(500) })).ok) return performance.now() - started
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`${base} did not answer /ping within ${timeoutMs} ms`)
}

function start(name: string, cmd: string[], env: Record<string, string>, port: number): Server {
  const [bin, ...rest] = pinned(0, cmd)
  const child = spawn(bin, rest, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] })
  return { name, base: `http://127.0.0.1:${port}`, child, pid: child.pid! }
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : 0
  } catch {
    return 0
  }
}

/** samples the server's RSS while `work` runs; returns the peak */
async function withRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peakRss: number; startRss: number }> {
  const startRss = rssMb(pid)
  let peakRss = startRss
  const timer = setInterval(() => { peakRss = Math.max(peakRss, rssMb(pid)) }, 100)
  try {
    const result = await work()
    return { result, peakRss: Math.max(peakRss, rssMb(pid)), startRss }
  } finally {
    clearInterval(timer)
  }
}

interface LoadResult { reqPerSec: number; p50: number; p99: number; errors: number; non2xx: number; total: number; sent: number }

async function load(cfg: LoadConfig): Promise<LoadResult> {
  const [bin, ...rest] = pinned(1, [process.execPath, '--import', 'tsx', 'bench/load.ts', JSON.stringify(cfg)])
  return new Promise((resolve, reject) => {
    const child = spawn(bin, rest, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout!.on('data', (d) => { out += d })
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load generator exited with ${code}`))))
  })
}

interface Row {
  workload: string; target: string; concurrency: number; reqPerSec: number; rowsPerSec?: number; p50: number; p99: number; errors: number; rssMb: number
  /** CPU ms per request of the server's process (user + system), warm-up included */
  cpuMs?: number
  /** CPU ms per request of the PostgreSQL backends serving the bench's databases (not for MariaDB workloads) */
  pgCpuMs?: number
  /** Atrium rows: per round, the baseline's CPU per request (server + PostgreSQL) over Atrium's: requests per CPU-second, relative */
  cpuRounds?: number[]
  /** Atrium rows: the baseline route that takes the same request (a GET, or a POST with the same JSON body) */
  baseline?: string
  /** Atrium rows: throughput ratio to that baseline in each round */
  rounds?: number[]
  /** Atrium rows: p99 latency ratio to that baseline in each round */
  p99Rounds?: number[]
  /** Atrium rows: median throughput ratio to the workload's other baselines (a POST route against the GET baseline) */
  otherBaselines?: Record<string, number>
}

const isBaseline = (target: string) => target.endsWith('-base')
const totalCpu = (row: Row) => (row.cpuMs ?? 0) + (row.pgCpuMs ?? 0)

/**
 * CPU ms used so far by each PostgreSQL client backend on the bench's databases (by pid). A round's share is the
 * difference between two readings: backends that appear meanwhile count from zero; one that exits meanwhile is
 * lost, which only an idle pool connection does (after 10 s idle), having done nothing in the round.
 */
async function pgBackendsCpu(admin: pg.Client): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = ANY($1) AND pid <> pg_backend_pid()`,
    [[DB_NAME, CATALOG_DB]])
  return new Map(rows.map(({ pid }) => [pid, cpuMs(pid) ?? 0]))
}

/**
 * Waits (at most 10 s) until no backend on the bench's databases is running a statement: requests sent before the
 * load generator stopped are still being served, and their CPU belongs to this run, not to the next target's.
 */
async function settle(admin: pg.Client): Promise<void> {
  const until = Date.now() + 10_000
  let idlePolls = 0
  while (idlePolls < 2 && Date.now() < until) {
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND state = 'active' AND datname = ANY($1) AND pid <> pg_backend_pid()`,
      [[DB_NAME, CATALOG_DB]])
    idlePolls = rows[0].n === 0 ? idlePolls + 1 : 0
    await new Promise((r) => setTimeout(r, 50))
  }
}

function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let ms = 0
  for (const [pid, now] of after) ms += now - (before.get(pid) ?? 0)
  return ms
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/**
 * Per Atrium route, the round whose throughput ratio to its baseline is the median; a baseline's own row
 * comes from the median round of the first Atrium route compared with it. Every round's throughput and p99
 * ratios are kept.
 */
function medianRound(rounds: Row[][], compare: Record<string, string>): Row[] {
  const targets = rounds[0].map((r) => r.target)
  const ratio = (round: Row[], i: number, base: string, metric: 'reqPerSec' | 'p99' = 'reqPerSec') => round[i][metric] / (round[targets.indexOf(base)][metric] || 1)
  const pick = (i: number) => {
    const order = rounds.map((round, k) => [ratio(round, i, compare[targets[i]]), k] as const).sort((a, b) => a[0] - b[0])
    return order[Math.floor(order.length / 2)][1]
  }
  const firstAtrium = targets.findIndex((t) => !isBaseline(t))
  return targets.map((target, i) => {
    if (isBaseline(target)) {
      const comparedBy = targets.findIndex((t) => compare[t] === target)
      return rounds[pick(comparedBy >= 0 ? comparedBy : firstAtrium)][i]
    }
    const others = targets.filter((t) => isBaseline(t) && !t.includes('-post-') && t !== compare[target])
    return {
      ...rounds[pick(i)][i],
      baseline: compare[target],
      rounds: rounds.map((round) => +ratio(round, i, compare[target]).toFixed(2)),
      cpuRounds: rounds.map((round) => +(totalCpu(round[targets.indexOf(compare[target])]) / (totalCpu(round[i]) || 1)).toFixed(2)),
      p99Rounds: rounds.map((round) => +ratio(round, i, compare[target], 'p99').toFixed(2)),
      ...(others.length ? { otherBaselines: Object.fromEntries(others.map((b) => [b, +median(rounds.map((round) => ratio(round, i, b))).toFixed(2)])) } : {}),
    }
  })
}

async function main() {
  const started = Date.now()
  console.log(`atrium bench${quick ? ' (quick)' : ''}: preparing fixtures`)
  await preparePostgres(SIZES)
  await prepareMysql(SIZES)
  const backups = !only || only.some((o) => o.toLowerCase() === 'backup')
  if (backups) await prepareBackupDatabases()
  const versions = await serverVersions()

  // a fresh catalog for this run, so earlier runs' request logs do not weigh on it
  const admin = new pg.Client({ connectionString: PG_ADMIN })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${CATALOG_DB} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${CATALOG_DB}`)
  await admin.end()
  // the fresh catalog knows no earlier tenant: their warehouse files would only take disk
  rmSync(join(BENCH_DATA_DIR, 'warehouse'), { recursive: true, force: true })

  // the assistant workload's provider: a local OpenAI-compatible stub, so chat overhead is Atrium's own time
  const modelStub = await startModelStub('SELECT id, name, price FROM items ORDER BY price, id LIMIT 10')
  const atrium = start('atrium', [process.execPath, 'dist/main.js'], {
    NODE_ENV: 'production',
    DATABASE_URL: pgUrl(CATALOG_DB),
    ATHENA_KEY_12: ADMIN_KEY,
    ATRIUM_SECRET_KEY: 'bench-secret-key-0123456789abcdef0123456789',
    ATRIUM_DATA_DIR: BENCH_DATA_DIR,
    ATRIUM_CLIENT_BENCH: pgUrl(),
    ATRIUM_CLIENT_BENCHMY: mysqlUrl(),
    ...(backups ? { ATRIUM_CLIENT_BENCHBACKUP: pgUrl(BACKUP_DB), ATRIUM_CLIENT_BENCHRESTORE: pgUrl(RESTORE_DB) } : {}),
    ATRIUM_POOL_MAX: '10',
    ATRIUM_LOG_LEVEL: 'warn',
    // the fetch cache would answer repeated reads from memory; the comparison is of the query path
    ATRIUM_FETCH_CACHE_TTL_MS: '0',
    ATRIUM_BODY_LIMIT_BYTES: String(64 * 1024 * 1024),
    ATRIUM_JWT_SECRET: BENCH_JWT_SECRET,
    // the assistant workload's connection is the local bench database
    ATRIUM_ASSISTANT_ALLOW_PRIVATE: 'true',
    // the agents workload's MCP server listens on 127.0.0.1
    ATRIUM_AGENTS_ALLOW_PRIVATE: 'true',
    OPENAI_API_KEY: 'bench-key',
    OPENAI_BASE_URL: modelStub.baseUrl,
    HOST: '127.0.0.1',
  }, PORT)
  const baseline = start('baseline', [process.execPath, '--import', 'tsx', 'bench/baseline-server.ts'], { PG_URL: pgUrl(), MYSQL_URL: mysqlUrl(), POOL_MAX: '10', STORAGE_DIR: join(BENCH_DATA_DIR, BASELINE_OBJECTS) }, PORT + 1)
  const rows: Row[] = []
  // reads the PostgreSQL backends' CPU time around each measured run
  const pgAdmin = new pg.Client({ connectionString: PG_ADMIN })
  await pgAdmin.connect()
  try {
    await waitForPing(atrium.base, atrium.child, 30_000)
    await waitForPing(baseline.base, baseline.child, 30_000)
    const apiKey = await createBenchKey(atrium.base)
    // the streamed read goes first, while the server's heap is still at its idle size, so RSS growth is its own
    const streamed = !only || only.some((o) => o.toLowerCase() === 'w5') ? await streamWorkload(atrium, apiKey) : undefined

    // Each Atrium route is compared with the baseline route that takes the same request: a GET, or a POST with
    // the same JSON body (parsing a body costs the server and the load generator; a GET baseline never pays it).
    // Within a round the targets run back to back in the order listed, so drift affects both sides alike; the
    // POST routes' ratio to the GET baseline is reported too.
    const plans: Array<{ workload: string; targets: string[]; compare: Record<string, string>; rowsPerRequest?: number }> = [
      { workload: 'W1', targets: ['w1-rest', 'w1-base', 'w1-gateway', 'w1-post-base'], compare: { 'w1-rest': 'w1-base', 'w1-gateway': 'w1-post-base' } },
      { workload: 'W2', targets: ['w2-rest', 'w2-base', 'w2-gateway', 'w2-post-base'], compare: { 'w2-rest': 'w2-base', 'w2-gateway': 'w2-post-base' } },
      { workload: 'W3', targets: ['w3-rest', 'w3-base', 'w3-gateway'], compare: { 'w3-rest': 'w3-base', 'w3-gateway': 'w3-base' }, rowsPerRequest: 1000 },
      { workload: 'W3-repr', targets: ['w3-rest-repr', 'w3-repr-base', 'w3-gateway-repr'], compare: { 'w3-rest-repr': 'w3-repr-base', 'w3-gateway-repr': 'w3-repr-base' }, rowsPerRequest: 1000 },
      { workload: 'W4', targets: ['w4-rest', 'w4-base'], compare: { 'w4-rest': 'w4-base' } },
      { workload: 'W7', targets: ['w7-rest', 'w7-base'], compare: { 'w7-rest': 'w7-base' } },
      { workload: 'W6', targets: ['w6-gateway', 'w6-base'], compare: { 'w6-gateway': 'w6-base' } },
      { workload: 'W1-mysql', targets: ['w1-my-gateway', 'w1-my-base', 'w1-my-post-base'], compare: { 'w1-my-gateway': 'w1-my-post-base' } },
      { workload: 'W2-mysql', targets: ['w2-my-gateway', 'w2-my-base', 'w2-my-post-base'], compare: { 'w2-my-gateway': 'w2-my-post-base' } },
      // an MCP tool call is its HTTP route dispatched inside Atrium: compared with that route called directly
      { workload: 'W1-mcp', targets: ['w1-mcp', 'w1-gateway', 'w1-post-base'], compare: { 'w1-mcp': 'w1-gateway', 'w1-gateway': 'w1-post-base' } },
    ]
    for (const plan of plans) {
      if (only && !only.some((o) => plan.workload.toLowerCase() === o.toLowerCase())) continue
      for (const connections of CONCURRENCY) {
        const base = { connections, durationSeconds: DURATION, warmupSeconds: WARMUP, items: SIZES.items, orders: SIZES.orders }
        const targets = plan.targets.map((w) => (isBaseline(w) ? [baseline, w, undefined] : [atrium, w, apiKey]) as [Server, string, string | undefined])
        const rounds: Row[][] = []
        for (let round = 0; round < ROUNDS; round++) {
          const measured: Row[] = []
          const order = targets.map((_, i) => i)
          if (round % 2) order.reverse()
          for (const i of order) {
            const [server, workload, key] = targets[i]
            const onPostgres = !workload.includes('-my-')
            const cpuBefore = cpuMs(server.pid)
            const pgBefore = onPostgres ? await pgBackendsCpu(pgAdmin) : undefined
            const { result, peakRss } = await withRss(server.pid, () => load({ ...base, base: server.base, workload, apiKey: key }))
            if (onPostgres) await settle(pgAdmin)
            const cpuAfter = cpuMs(server.pid)
            const row: Row = { workload: plan.workload, target: workload, concurrency: connections, reqPerSec: result.reqPerSec, p50: result.p50, p99: result.p99, errors: result.errors + result.non2xx, rssMb: Math.round(peakRss) }
            if (cpuBefore !== undefined && cpuAfter !== undefined && result.sent) row.cpuMs = +((cpuAfter - cpuBefore) / result.sent).toFixed(3)
            if (pgBefore && result.sent) row.pgCpuMs = +(cpuBetween(pgBefore, await pgBackendsCpu(pgAdmin)) / result.sent).toFixed(3)
            if (plan.rowsPerRequest) row.rowsPerSec = Math.round(result.reqPerSec * plan.rowsPerRequest)
            measured[i] = row
          }
          rounds.push(measured)
        }
        for (const row of medianRound(rounds, plan.compare)) {
          rows.push(row)
          const cpu = row.cpuMs === undefined ? '' : `  CPU/req ${row.cpuMs} ms${row.pgCpuMs === undefined ? '' : ` + PostgreSQL ${row.pgCpuMs} ms`}`
          console.log(`  ${plan.workload.padEnd(9)} c=${String(connections).padEnd(3)} ${row.target.padEnd(15)} ${row.reqPerSec.toFixed(0).padStart(7)} req/s  p50 ${row.p50} ms  p99 ${row.p99} ms  errors ${row.errors}  RSS ${row.rssMb} MB${cpu}${row.rounds ? `  (ratio per round: ${row.rounds.join(', ')}; p99 ratio: ${row.p99Rounds?.join(', ')}; per CPU: ${row.cpuRounds?.join(', ')})` : ''}`)
        }
      }
    }
    const backup = backups ? await backupWorkload({ base: atrium.base, adminKey: ADMIN_KEY, rounds: ROUNDS, clients: { source: 'benchbackup', target: 'benchrestore' } }) : undefined
    const stored = !only || only.some((o) => o.toLowerCase() === 'storage')
      ? await storageWorkload({ base: atrium.base, baseline: baseline.base, atriumPid: atrium.pid, baselinePid: baseline.pid, apiKey, client: 'bench', dataDir: BENCH_DATA_DIR, objects: STORAGE_OBJECTS, concurrency: 8, maxSeconds: quick ? 10 : 30 })
      : undefined
    const realtime = !only || only.some((o) => o.toLowerCase() === 'realtime') ? await runRealtime(atrium.base, apiKey) : undefined
    const assistant = !only || only.some((o) => o.toLowerCase() === 'assistant') ? await runAssistant(atrium.base, modelStub) : undefined
    const workspace = !only || only.some((o) => o.toLowerCase() === 'workspace') ? await runWorkspace(atrium.base) : undefined
    const agents = !only || only.some((o) => o.toLowerCase() === 'agents') ? await runAgents(atrium.base) : undefined
    await stop(atrium)
    await stop(baseline)
    const databases = !only || only.some((o) => o.toLowerCase() === 'databases') ? await runDatabases() : undefined
    const coldStart = !only || only.some((o) => o.toLowerCase() === 'cold') ? await coldStartWorkload() : undefined
    report(rows, streamed, stored, coldStart, backup, versions, started, realtime, databases, assistant, workspace, agents)
  } finally {
    await stop(atrium)
    await stop(baseline)
    await modelStub.close()
    await pgAdmin.end()
  }
}

/** benchmarks run with key enforcement on: a client-bound key with the rights the workloads need */
async function createBenchKey(base: string): Promise<string> {
  const res = await fetch(`${base}/admin/api-keys`, {
    method: 'POST',
    headers: { apikey: ADMIN_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', rights: ['gateway.read', 'gateway.insert', 'sql.read', 'storage.read', 'storage.write'] }),
  })
  if (!res.ok) throw new Error(`could not create the bench API key: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { api_key: string }).api_key
}

async function streamWorkload(atrium: Server, apiKey: string) {
  const run = async () => {
    const t0 = performance.now()
    const res = await fetch(`${atrium.base}/rest/v1/big?select=*`, { headers: { apikey: apiKey, 'x-athena-client': 'bench' } })
    if (!res.ok) throw new Error(`W5 read failed: ${res.status}`)
    let bytes = 0
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length
    return { seconds: (performance.now() - t0) / 1000, bytes }
  }
  // growth is measured from the idle server, before any streamed read, over a warm-up read and the measured one
  const idleRss = rssMb(atrium.pid)
  const warm = await withRss(atrium.pid, run)
  const { result, peakRss: measuredPeak } = await withRss(atrium.pid, run)
  const peakRss = Math.max(warm.peakRss, measuredPeak)
  const startRss = idleRss
  const figures = { rows: SIZES.big, seconds: +result.seconds.toFixed(2), rowsPerSec: Math.round(SIZES.big / result.seconds), mb: +(result.bytes / 1048576).toFixed(1), rssStartMb: Math.round(startRss), rssPeakMb: Math.round(peakRss), rssGrowthMb: Math.round(peakRss - startRss) }
  console.log(`  W5        streamed ${figures.rows} rows (${figures.mb} MB) in ${figures.seconds} s = ${figures.rowsPerSec} rows/s, RSS +${figures.rssGrowthMb} MB`)
  return figures
}

/** change events from commit to two WebSocket subscribers (no baseline: events per second and latency) */
/** chat overhead (sequential chats, the stub's own time taken off) and CSV profile throughput */
async function runAssistant(base: string, stub: Awaited<ReturnType<typeof startModelStub>>) {
  const url = new URL(pgUrl())
  const figures = await assistantWorkload({
    base,
    stub,
    database: { host: url.hostname, port: Number(url.port || 5432), database: url.pathname.slice(1), user: decodeURIComponent(url.username), ...(url.password ? { password: decodeURIComponent(url.password) } : {}) },
    chats: quick ? 50 : 500,
    csvBytes: (quick ? 4 : 32) * 2 ** 20,
    profiles: quick ? 2 : 5,
    maxSeconds: quick ? 10 : 30,
  })
  console.log(`  assistant chat: ${figures.chat.requests} chats, Atrium's overhead p50 ${figures.chat.overheadP50Ms} ms, p99 ${figures.chat.overheadP99Ms} ms (whole request p50 ${figures.chat.p50Ms} ms); profile: ${figures.profile.files} × ${figures.profile.csvMb} MB CSV at ${figures.profile.mbPerSec} MB/s`)
  return figures
}

/** query jobs: submit-to-done latency of a trivial job, and a large aggregate against DuckDB run directly */
async function runWorkspace(base: string): Promise<WorkspaceFigures> {
  const figures = await workspaceWorkload({
    base, adminKey: ADMIN_KEY, jwtSecret: BENCH_JWT_SECRET,
    rows: quick ? 100_000 : 10_000_000,
    trivialJobs: quick ? 20 : 200,
    aggregateRuns: quick ? 3 : 7,
    threads: 2, // the server's workspace.duckdbThreads (its default)
    maxSeconds: quick ? 20 : 180,
  })
  console.log(`  workspace trivial query job submit→done: ${figures.trivial.jobs} jobs, p50 ${figures.trivial.p50Ms} ms, p99 ${figures.trivial.p99Ms} ms`)
  console.log(`  workspace ${figures.aggregate.rows}-row aggregate: query job median ${figures.aggregate.jobMedianMs} ms vs DuckDB directly ${figures.aggregate.directMedianMs} ms = ${figures.aggregate.overheadRatio}x (runs: job ${figures.aggregate.jobRunsMs.join(', ')}; direct ${figures.aggregate.directRunsMs.join(', ')}); table filled by an INSERT … SELECT job in ${figures.loadSeconds} s`)
  return figures
}

/** one MCP tools/call through the agent gateway vs the same call made directly with the SDK */
async function runAgents(base: string) {
  const figures = await agentsWorkload({ base, adminKey: ADMIN_KEY, calls: quick ? 100 : 1000, maxSeconds: quick ? 10 : 30 })
  console.log(`  agents    ${figures.calls} MCP tools/call: routed p50 ${figures.routed.p50Ms} ms, p99 ${figures.routed.p99Ms} ms; direct p50 ${figures.direct.p50Ms} ms, p99 ${figures.direct.p99Ms} ms; routed/direct p50 ${figures.p50Ratio}x (+${figures.overheadP50Ms} ms)`)
  return figures
}

async function runRealtime(base: string, apiKey: string): Promise<RealtimeFigures> {
  const figures = await realtimeWorkload(base, apiKey, { writers: 8, seconds: DURATION * 2, maxWrites: 50_000 })
  console.log(`  realtime  ${figures.written} writes by ${figures.writers} writers in ${figures.seconds} s: ${figures.eventsPerSec} events/s to each of 2 subscribers; commit→event p50 ${figures.commitP50Ms} ms, p99 ${figures.commitP99Ms} ms; write sent→event p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms; lost ${figures.lost}`)
  return figures
}

/** Databases API: create latency from the warm pool and cold, and list page throughput, on an Atrium of its own */
async function runDatabases(): Promise<DatabasesFigures> {
  return databasesWorkload({
    adminKey: ADMIN_KEY,
    creates: quick ? 5 : 10,
    listSeconds: DURATION * 2,
    concurrency: 16,
    async startAtrium(env, port) {
      const server = start('databases', [process.execPath, 'dist/main.js'], {
        NODE_ENV: 'production', ATHENA_KEY_12: ADMIN_KEY, ATRIUM_SECRET_KEY: 'bench-secret-key-0123456789abcdef0123456789',
        ATRIUM_LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env,
      }, port)
      await waitForPing(server.base, server.child, 30_000)
      return { base: server.base, stop: () => stop(server) }
    },
  })
}

/** spawn to first /ping on the embedded default, with an already initialised data directory */
async function coldStartWorkload() {
  const dir = mkdtempSync(join(tmpdir(), 'atrium-cold-'))
  chmodSync(dir, 0o711)
  const times: number[] = []
  try {
    for (let i = 0; i < (quick ? 2 : 4); i++) {
      const t0 = performance.now()
      const server = start('cold', [process.execPath, 'dist/main.js'], { ATRIUM_DATA_DIR: dir, ATRIUM_LOG_LEVEL: 'warn', HOST: '127.0.0.1' }, PORT + 2)
      await waitForPing(server.base, server.child, 60_000)
      if (i > 0) times.push(performance.now() - t0) // the first start initialises the data directory
      await stop(server)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]
  console.log(`  cold start (embedded, warm data dir): ${Math.round(median)} ms to /ping`)
  return { medianMs: Math.round(median), runsMs: times.map(Math.round) }
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return
  const exited = new Promise((r) => server.child.once('exit', r))
  server.child.kill('SIGTERM')
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

async function serverVersions() {
  const c = new pg.Client({ connectionString: PG_ADMIN })
  await c.connect()
  const pgVersion = (await c.query('SHOW server_version')).rows[0].server_version
  await c.end()
  const mysql = await import('mysql2/promise')
  const m = await mysql.createConnection({ uri: MYSQL_ADMIN })
  const [r] = await m.query('SELECT VERSION() AS v')
  await m.end()
  return { node: process.version, postgres: pgVersion, mariadb: (r as Array<{ v: string }>)[0].v, database: DB_NAME }
}

function report(rows: Row[], streamed: unknown, stored: unknown, coldStart: unknown, backup: unknown, versions: Record<string, string>, started: number, realtime?: RealtimeFigures, databases?: DatabasesFigures, assistant?: unknown, workspace?: WorkspaceFigures, agents?: unknown) {
  const ratios: Array<Record<string, unknown>> = []
  for (const row of rows.filter((r) => r.baseline)) {
    const base = rows.find((b) => b.workload === row.workload && b.concurrency === row.concurrency && b.target === row.baseline)
    if (!base) continue
    ratios.push({
      workload: row.workload,
      route: row.target,
      concurrency: row.concurrency,
      baseline: row.baseline,
      throughput: row.rounds?.length ? median(row.rounds) : +(row.reqPerSec / base.reqPerSec).toFixed(2),
      p99: row.p99Rounds?.length ? median(row.p99Rounds) : base.p99 ? +(row.p99 / base.p99).toFixed(2) : null,
      ...(row.otherBaselines ? { otherBaselines: row.otherBaselines } : {}),
    })
  }
  console.log('\n  workload   route          conc  baseline          atrium/baseline req/s   p99 ratio   other baselines')
  for (const r of ratios) {
    const others = Object.entries((r.otherBaselines ?? {}) as Record<string, number>).map(([b, x]) => `${x}x vs ${b}`).join(', ')
    console.log(`  ${String(r.workload).padEnd(10)} ${String(r.route).padEnd(14)} ${String(r.concurrency).padEnd(5)} ${String(r.baseline).padEnd(16)} ${String(r.throughput).padStart(10)}x ${String(r.p99 ?? '-').padStart(14)}x   ${others}`)
  }
  const doc = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    durationSeconds: (Date.now() - started) / 1000,
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), taskset: hasTaskset },
    versions,
    settings: { durationPerRun: DURATION, warmup: WARMUP, rounds: ROUNDS, concurrency: CONCURRENCY, fixture: SIZES, poolMax: 10, keyEnforcement: true },
    runs: rows,
    ratios,
    streamed,
    storage: stored,
    realtime,
    databases,
    assistant,
    workspace,
    agents,
    coldStart,
    backup,
  }
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true })
  writeFileSync(join(ROOT, 'bench/results/latest.json'), `${JSON.stringify(doc, null, 2)}\n`)
  console.log('\n  written to bench/results/latest.json')
}

await main()
