// The workspace workload of `npm run bench`: (a) submit-to-done latency of a trivial query job through HTTP
// (POST /api/v1/queries/run, then GET /api/v1/query_jobs/{id} until it is done), p50 and p99; (b) an aggregate
// over a rows-sized table through a query job, against the same SQL run directly in DuckDB (@duckdb/node-api,
// same thread count, same data), reported as the overhead ratio. Each run's SQL differs by a constant that
// changes no result, so the stored-result cache never answers it.
import { DuckDBInstance } from '@duckdb/node-api'
import { SignJWT } from 'jose'

export interface WorkspaceBenchOptions {
  base: string
  adminKey: string
  jwtSecret: string
  /** rows of the aggregated table: a power of ten (10^7 in a full run) */
  rows: number
  /** trivial jobs timed, and aggregate runs on each side */
  trivialJobs: number
  aggregateRuns: number
  /** DuckDB threads of the direct baseline: the server's workspace.duckdbThreads */
  threads: number
  /** the whole workload stops starting new runs after this long */
  maxSeconds: number
}

export interface WorkspaceFigures {
  trivial: { jobs: number; p50Ms: number; p99Ms: number; meanMs: number }
  aggregate: { rows: number; runs: number; jobMedianMs: number; directMedianMs: number; overheadRatio: number; jobRunsMs: number[]; directRunsMs: number[] }
  loadSeconds: number
}

const pct = (xs: number[], p: number) => (xs.length ? +[...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!.toFixed(1) : 0)
const median = (xs: number[]) => pct(xs, 0.5)

/** a SELECT of `rows` (a power of ten) rows built from a ten-row VALUES list: query jobs take no table functions */
function generated(rows: number): string {
  const digits = Math.round(Math.log10(rows))
  if (10 ** digits !== rows) throw new Error(`rows must be a power of ten (${rows})`)
  const names = Array.from({ length: digits }, (_, i) => `d${i}`)
  const id = names.map((n, i) => `${n}.x * ${10 ** i}`).join(' + ')
  return `WITH d AS (SELECT * FROM (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) AS t(x))
    SELECT ${id} AS id, ((${id}) % 100)::INTEGER AS grp, ((${id}) % 1000) / 10.0 AS v FROM ${names.map((n) => `d AS ${n}`).join(', ')}`
}

const aggregate = (table: string, i: number) => `SELECT grp, count(*) AS n, sum(v) AS total, avg(v) AS mean, max(id) AS top FROM ${table} WHERE id > -${i + 1} GROUP BY grp ORDER BY grp`

export async function workspaceWorkload(opts: WorkspaceBenchOptions): Promise<WorkspaceFigures> {
  const deadline = Date.now() + opts.maxSeconds * 1000
  const api = async (method: string, path: string, auth: Record<string, string>, body?: unknown) => {
    const res = await fetch(`${opts.base}${path}`, { method, headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
    return text ? JSON.parse(text) : null
  }
  // a tenant with an Org admin signed in by JWT
  const tenant = await api('POST', '/api/v1/tenants', { apikey: opts.adminKey }, { name: `bench ${Date.now()}` })
  const email = `bench-${tenant.id}@bench.test`
  await api('POST', '/api/v1/users', { apikey: opts.adminKey, 'x-tenant-id': tenant.id }, { email, name: 'bench', role: 'Org admin' })
  const now = Math.floor(Date.now() / 1000)
  const jwt = await new SignJWT({ sub: `bench-${tenant.id}`, email, iat: now, exp: now + 3600 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(opts.jwtSecret))
  const auth = { authorization: `Bearer ${jwt}` }
  const project = await api('POST', '/api/v1/projects', auth, { name: 'bench' })
  const dataset = await api('POST', '/api/v1/datasets', auth, { name: 'bench', project_id: project.id })
  await api('POST', '/api/v1/tables', auth, { name: 'facts', dataset_id: dataset.id, schema: { columns: [{ name: 'id', type: 'BIGINT' }, { name: 'grp', type: 'INTEGER' }, { name: 'v', type: 'DOUBLE' }] } })
  const query = await api('POST', '/api/v1/queries', auth, { query_text: 'SELECT 1', project_id: project.id })

  /** submits and polls every 5 ms until the job leaves pending/running; ms from the submit to done */
  const runJob = async (sql: string): Promise<number> => {
    const t0 = performance.now()
    const { job_id: jobId } = await api('POST', '/api/v1/queries/run', auth, { query_id: query.id, query_text: sql })
    for (let i = 0; i < 200_000; i++) {
      const job = await api('GET', `/api/v1/query_jobs/${jobId}`, auth)
      if (job.status === 'done') return performance.now() - t0
      if (job.status !== 'pending' && job.status !== 'running') throw new Error(`bench query job ${job.status}: ${JSON.stringify(job.error_result)}`)
      await new Promise((r) => setTimeout(r, 5))
    }
    throw new Error('bench query job did not finish')
  }

  // the table, filled through a query job (INSERT … SELECT)
  const loadStarted = performance.now()
  await runJob(`INSERT INTO bench.facts ${generated(opts.rows)}`)
  const loadSeconds = +((performance.now() - loadStarted) / 1000).toFixed(1)

  // (a) trivial jobs, one after another, after two warm-up jobs
  for (let i = 0; i < 2; i++) await runJob(`SELECT ${-1 - i} AS n`)
  const trivial: number[] = []
  for (let i = 0; i < opts.trivialJobs && Date.now() < deadline; i++) trivial.push(await runJob(`SELECT ${i} AS n`))

  // (b) the aggregate: the baseline holds the same rows in its own DuckDB database, with the same threads
  const direct = await DuckDBInstance.create(':memory:', { threads: String(opts.threads) })
  const conn = await direct.connect()
  await conn.run(`CREATE TABLE facts AS ${generated(opts.rows)}`)
  const jobRuns: number[] = []
  const directRuns: number[] = []
  try {
    await runJob(aggregate('bench.facts', 10_000)) // warm-up of each side
    await conn.runAndReadAll(aggregate('facts', 10_000))
    for (let i = 0; i < opts.aggregateRuns && (i === 0 || Date.now() < deadline); i++) {
      // alternate which side goes first, so neither always runs on a warmer machine
      const sides = [async () => jobRuns.push(await runJob(aggregate('bench.facts', i))), async () => {
        const t0 = performance.now()
        await conn.runAndReadAll(aggregate('facts', i))
        directRuns.push(performance.now() - t0)
      }]
      if (i % 2) sides.reverse()
      for (const side of sides) await side()
    }
  } finally {
    conn.closeSync()
    direct.closeSync()
  }
  const jobMedianMs = median(jobRuns)
  const directMedianMs = median(directRuns)
  return {
    trivial: { jobs: trivial.length, p50Ms: pct(trivial, 0.5), p99Ms: pct(trivial, 0.99), meanMs: +(trivial.reduce((a, b) => a + b, 0) / Math.max(1, trivial.length)).toFixed(1) },
    aggregate: { rows: opts.rows, runs: jobRuns.length, jobMedianMs, directMedianMs, overheadRatio: +(jobMedianMs / directMedianMs).toFixed(2), jobRunsMs: jobRuns.map((x) => +x.toFixed(1)), directRunsMs: directRuns.map((x) => +x.toFixed(1)) },
    loadSeconds,
  }
}
