// Saved queries and query jobs: a run is recorded (atrium.ws_query_jobs) and enqueued as a durable job in one
// catalog transaction, answered with its id at once; a worker compiles it against the project's datasets, runs
// it on the engine into a Parquet result stored in the object store, and records BigQuery-style statistics.
// A job's status is its job record's, so a crash leaves it retried or failed, never running for ever.
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream, existsSync, renameSync, statSync, unlinkSync } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import type { Readable } from 'node:stream'
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'
import { AppError } from '../errors/app-error.js'
import type { JobContext, JobQueue } from '../jobs/job-queue.js'
import type { ObjectStore } from '../objects/object-store.js'
import { isUuid, type Window } from '../tenancy/paging.js'
import { mayPerform, requireRole, type WorkspaceActor } from '../tenancy/roles.js'
import type { CompiledDml } from './duckdb-dml.js'
import type { ReadableTable } from './duckdb-select.js'
import type { WarehouseEngine } from './engine.js'
import type { QueryCosts } from './query-costs.js'
import type { TableSchema } from './table-schema.js'

export const QUERY_JOB_KIND = 'workspace.query'
export const RESULTS_BUCKET = 'workspace-results'

export interface QueryJobsDeps {
  catalog: Catalog
  jobs: JobQueue
  engine: WarehouseEngine
  objects: ObjectStore
  logger: Logger
  costs: QueryCosts
  /** seconds a run may take before it is interrupted (and the attempt of a killed process expires) */
  queryTimeoutSeconds: number
}

export interface SavedQuery {
  id: string
  tenant_id: string
  project_id: string
  query_text: string
  created_at: Date
  archived_at: Date | null
}

interface QueryJobRow {
  id: string
  tenant_id: string
  project_id: string
  query_id: string
  query_text: string
  running_job_id: string | null
  mask_private: boolean
  result_key: string | null
  result_columns: Array<{ name: string; type: string }> | null
  column_privacy: Record<string, 'masked' | 'visible'> | null
  private_row_count: string | null
  total_rows: string | null
  total_bytes_processed: string | null
  total_slot_ms: string | null
  cache_hit: boolean | null
  num_dml_affected_rows: string | null
  statement_kind: string | null
  query_plan: unknown
  timeline: unknown
  error_result: { reason: string; message: string } | null
  started: Date | null
  ended: Date | null
  created_at: Date
  updated_at: Date
  job_status: string | null
  job_error_code: string | null
  job_error_message: string | null
}

/** the job record's status, as a query job says it; a run refused before it started reads as failed */
const STATUS: Record<string, string> = { queued: 'pending', running: 'running', succeeded: 'done', failed: 'failed', cancelled: 'cancelled' }
const num = (v: string | null) => (v === null ? null : Number(v))

export class QueryJobs {
  constructor(private readonly deps: QueryJobsDeps) {}

  async start(): Promise<void> {
    // a run that fails for a reason a retry can fix (a crash, a lost connection) is retried; a refused query is
    // recorded on the query job and ends the job at once (see execute)
    await this.deps.jobs.define<{ query_job_id: string }>(QUERY_JOB_KIND, (data, ctx) => this.execute(data.query_job_id, ctx), { retryLimit: 2, retryDelay: 2, expireIn: this.deps.queryTimeoutSeconds })
  }

  // ---- saved queries ----

  async createQuery(actor: WorkspaceActor, input: { query_text: string; project_id: string }): Promise<SavedQuery> {
    requireRole(actor, 'queries.write')
    await this.project(actor.tenantId, input.project_id)
    const [row] = await this.deps.catalog.rows<SavedQuery>(
      'INSERT INTO atrium.ws_queries (tenant_id, project_id, query_text) VALUES ($1, $2, $3) RETURNING *',
      [actor.tenantId, input.project_id, input.query_text],
    )
    return row!
  }

  async listQueries(actor: WorkspaceActor, w: Window, projectId?: string): Promise<SavedQuery[]> {
    requireRole(actor, 'queries.read')
    if (projectId !== undefined && !isUuid(projectId)) return []
    return this.deps.catalog.rows<SavedQuery>(
      `SELECT * FROM atrium.ws_queries WHERE tenant_id = $1 AND archived_at IS NULL AND ($2::uuid IS NULL OR project_id = $2)
       ORDER BY created_at, id OFFSET $3 LIMIT $4`,
      [actor.tenantId, projectId ?? null, w.skip, w.limit],
    )
  }

  async getQuery(actor: WorkspaceActor, id: string): Promise<SavedQuery> {
    requireRole(actor, 'queries.read')
    return this.query(actor.tenantId, id)
  }

  async updateQuery(actor: WorkspaceActor, id: string, input: { query_text?: string | null; project_id?: string | null }): Promise<SavedQuery> {
    requireRole(actor, 'queries.write')
    await this.query(actor.tenantId, id)
    if (input.project_id != null) await this.project(actor.tenantId, input.project_id)
    const [row] = await this.deps.catalog.rows<SavedQuery>(
      `UPDATE atrium.ws_queries SET query_text = coalesce($3, query_text), project_id = coalesce($4, project_id)
       WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL RETURNING *`,
      [actor.tenantId, id, input.query_text ?? null, input.project_id ?? null],
    )
    if (!row) throw queryNotFound(id)
    return row
  }

  async archiveQuery(actor: WorkspaceActor, id: string): Promise<void> {
    requireRole(actor, 'queries.write')
    await this.query(actor.tenantId, id)
    await this.deps.catalog.rows('UPDATE atrium.ws_queries SET archived_at = now() WHERE tenant_id = $1 AND id = $2', [actor.tenantId, id])
  }

  // ---- runs ----

  /**
   * Checks the text now (one SELECT over the project's datasets), so a refused query is a 422 at once; then
   * records the run and enqueues its job in one transaction and returns its id without waiting.
   */
  async run(actor: WorkspaceActor, input: { query_id: string; query_text: string }): Promise<{ job_id: string }> {
    requireRole(actor, 'queries.run')
    const saved = await this.query(actor.tenantId, input.query_id, ['body', 'query_id'])
    const mask = !mayPerform(actor, 'columns.private')
    const tables = await this.readableTables(actor.tenantId, saved.project_id)
    const compiled = await this.deps.engine.compileQuery(input.query_text, (d, t) => tables.get(`${d}.${t}`.toLowerCase()), mask)
    if (compiled.kind !== 'select') requireRole(actor, 'queries.dml')
    // the dry run: what it would process, priced, against what the tenant has left today and this month
    await this.deps.costs.checkQuota(actor.tenantId, await this.deps.engine.estimateBytes(actor.tenantId, compiled.tables))
    const id = await this.deps.catalog.transaction(async (tx) => {
      const row = (await tx.query({
        sql: `INSERT INTO atrium.ws_query_jobs (tenant_id, project_id, query_id, query_text, mask_private, submitted_by)
              VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        params: [actor.tenantId, saved.project_id, saved.id, input.query_text, mask, actor.kind === 'user' ? actor.userId : null],
      })).rows[0] as { id: string }
      const jobId = await this.deps.jobs.enqueue(QUERY_JOB_KIND, { query_job_id: row.id }, { tx, owner: { kind: 'tenant', id: actor.tenantId } })
      await tx.query({ sql: 'UPDATE atrium.ws_query_jobs SET running_job_id = $2 WHERE id = $1', params: [row.id, jobId] })
      return row.id
    })
    return { job_id: id }
  }

  /** cancels a pending or running job (a running DuckDB query is interrupted); a finished one is left as it is */
  async cancel(actor: WorkspaceActor, jobId: string): Promise<{ job_id: string; status: string }> {
    requireRole(actor, 'queries.run')
    const row = await this.jobRow(actor.tenantId, jobId)
    if (row.running_job_id) await this.deps.jobs.cancel(row.running_job_id)
    const after = await this.jobRow(actor.tenantId, jobId)
    return { job_id: jobId, status: statusOf(after) }
  }

  async getJob(actor: WorkspaceActor, id: string): Promise<Record<string, unknown>> {
    requireRole(actor, 'queries.read')
    return view(await this.jobRow(actor.tenantId, id))
  }

  async listJobs(actor: WorkspaceActor, w: Window, queryId?: string): Promise<Array<Record<string, unknown>>> {
    requireRole(actor, 'queries.read')
    if (queryId !== undefined) await this.query(actor.tenantId, queryId)
    const rows = await this.deps.catalog.rows<QueryJobRow>(
      `${JOB_SELECT} WHERE q.tenant_id = $1 AND ($2::uuid IS NULL OR q.query_id = $2) ORDER BY q.created_at DESC, q.id OFFSET $3 LIMIT $4`,
      [actor.tenantId, queryId ?? null, w.skip, w.limit],
    )
    return rows.map(view)
  }

  /** one page of a finished job's result (page ≥ 1, page_size 1–200) */
  async results(actor: WorkspaceActor, id: string, page: number, pageSize: number): Promise<Record<string, unknown>> {
    requireRole(actor, 'queries.read')
    const row = await this.finished(actor, id)
    await this.localResult(row)
    const { columns, totalRows, rows } = await this.deps.engine.readResult(row.tenant_id, row.result_key!, (page - 1) * pageSize, pageSize)
    return {
      rows,
      columns: columns.map((c) => ({ name: c.name, type: c.type })),
      column_privacy: row.column_privacy ?? {},
      total_rows: totalRows,
      page,
      page_size: pageSize,
      total_pages: Math.ceil(totalRows / pageSize),
    }
  }

  /** the whole result as the stored Parquet file */
  async download(actor: WorkspaceActor, id: string): Promise<{ body: Readable; size: number; filename: string }> {
    requireRole(actor, 'queries.read')
    const row = await this.finished(actor, id)
    const got = await this.deps.objects.get({ bucket: RESULTS_BUCKET, key: resultObjectKey(row.tenant_id, row.result_key!) })
    return { body: got.body, size: got.contentLength, filename: `query-job-${row.id}.parquet` }
  }

  /**
   * For result exports: a query job whose stored result the caller may read (and whether it was masked), after the same checks as
   * results and download (done; 403 for a masked caller on a result computed unmasked).
   */
  async readableResult(actor: WorkspaceActor, id: string): Promise<{ id: string; masked: boolean }> {
    requireRole(actor, 'queries.read')
    const row = await this.finished(actor, id)
    return { id: row.id, masked: row.mask_private }
  }

  // ---- the worker ----

  private async execute(id: string, ctx: JobContext): Promise<unknown> {
    const [row] = await this.deps.catalog.rows<QueryJobRow>(`${JOB_SELECT} WHERE q.id = $1`, [id])
    if (!row) return { skipped: 'the query job no longer exists' }
    const began = Date.now()
    const timeline: Array<{ elapsed_ms: number; phase: string }> = []
    const mark = (phase: string) => timeline.push({ elapsed_ms: Date.now() - began, phase })
    await this.deps.catalog.rows('UPDATE atrium.ws_query_jobs SET started = coalesce(started, now()), updated_at = now() WHERE id = $1', [id])
    try {
      const tables = await this.readableTables(row.tenant_id, row.project_id)
      const compiled = await this.deps.engine.compileQuery(row.query_text, (d, t) => tables.get(`${d}.${t}`.toLowerCase()), row.mask_private)
      mark('compiled')
      if (compiled.kind !== 'select') return await this.executeDml(row, compiled, timeline, mark, ctx)
      const privacy: Record<string, 'masked' | 'visible'> = {}
      for (const t of compiled.tables) for (const c of t.columns) if (c.private) privacy[c.name] = row.mask_private || t.snapshot ? 'masked' : 'visible'
      // identical SQL (after names and masking) over tables unchanged since: the stored result answers
      const cacheKey = createHash('sha256').update(compiled.sql).update('\n').update(compiled.tables.map((t) => `${t.tableId}@${tables.changedAt.get(t.tableId)}`).sort().join(',')).digest('hex')
      const [cached] = await this.deps.catalog.rows<QueryJobRow>(
        `SELECT * FROM atrium.ws_query_jobs WHERE tenant_id = $1 AND cache_key = $2 AND result_key IS NOT NULL AND error_result IS NULL AND id <> $3 ORDER BY ended DESC LIMIT 1`,
        [row.tenant_id, cacheKey, id],
      )
      if (cached) {
        mark('answered from the stored result')
        await this.record(id, { statement_kind: 'select', cache_key: cacheKey, result_key: cached.result_key, result_columns: cached.result_columns, column_privacy: privacy, total_rows: cached.total_rows, total_bytes_processed: 0, total_slot_ms: 0, cache_hit: true, query_plan: cached.query_plan, timeline, private_row_count: cached.private_row_count })
        return { cache_hit: true }
      }
      const bytes = await this.deps.engine.estimateBytes(row.tenant_id, compiled.tables)
      for (const t of compiled.tables) await this.deps.engine.materializeSnapshot(row.tenant_id, t)
      const ranAt = Date.now()
      const run = await this.deps.engine.runQuery(row.tenant_id, compiled.sql, { resultId: id, signal: ctx.signal })
      const slotMs = Date.now() - ranAt
      mark('ran')
      await this.deps.objects.put({ bucket: RESULTS_BUCKET, key: resultObjectKey(row.tenant_id, id) }, createReadStream(run.file), { contentType: 'application/vnd.apache.parquet', contentLength: statSync(run.file).size })
      mark('stored')
      const maskedInResult = run.columns.some((c) => privacy[c.name] === 'masked')
      await this.record(id, {
        statement_kind: 'select', cache_key: cacheKey, result_key: id, result_columns: run.columns, column_privacy: privacy, total_rows: run.totalRows,
        total_bytes_processed: bytes, total_slot_ms: slotMs, cache_hit: false, query_plan: run.plan, timeline,
        private_row_count: maskedInResult ? run.totalRows : 0,
      })
      return { total_rows: run.totalRows }
    } catch (err) {
      // a query the engine refuses will be refused again: recorded, and the job ends without a retry
      if (err instanceof AppError && err.status < 500 && !ctx.signal.aborted) {
        mark('failed')
        await this.record(id, { error_result: { reason: err.code, message: err.message }, timeline })
        return { error: err.code }
      }
      throw err
    }
  }

  /**
   * An INSERT, UPDATE or DELETE: run once in the tenant's database (a retry after a crash finds the first run's
   * count there), then the target's changed_at moves, so no stored result computed before it is reused.
   */
  private async executeDml(row: QueryJobRow, compiled: CompiledDml, timeline: unknown[], mark: (phase: string) => void, ctx: JobContext): Promise<unknown> {
    const bytes = await this.deps.engine.estimateBytes(row.tenant_id, compiled.tables)
    for (const t of compiled.tables) await this.deps.engine.materializeSnapshot(row.tenant_id, t)
    const ranAt = Date.now()
    const { affectedRows, plan } = await this.deps.engine.runDml(row.tenant_id, compiled.sql, { runId: row.id, signal: ctx.signal })
    const slotMs = Date.now() - ranAt
    mark('ran')
    await this.deps.catalog.rows('UPDATE atrium.ws_tables SET changed_at = now() WHERE tenant_id = $1 AND id = $2', [row.tenant_id, compiled.target.tableId])
    await this.record(row.id, {
      statement_kind: compiled.kind, num_dml_affected_rows: affectedRows, total_bytes_processed: bytes, total_slot_ms: slotMs,
      cache_hit: false, query_plan: plan, timeline, column_privacy: {}, private_row_count: 0,
    })
    return { num_dml_affected_rows: affectedRows }
  }

  /** the job's outcome, and what it cost (what it processed; nothing for a refused query) in the same transaction */
  private async record(id: string, fields: Record<string, unknown>): Promise<void> {
    const names = Object.keys(fields)
    const sets = names.map((n, i) => `${n} = $${i + 2}`).join(', ')
    const values = names.map((n) => (typeof fields[n] === 'object' && fields[n] !== null ? JSON.stringify(fields[n]) : fields[n]))
    await this.deps.catalog.transaction(async (tx) => {
      const row = (await tx.query({ sql: `UPDATE atrium.ws_query_jobs SET ${sets}, ended = now(), updated_at = now() WHERE id = $1 RETURNING tenant_id`, params: [id, ...values] })).rows[0] as { tenant_id: string } | undefined
      if (row) await this.deps.costs.record(tx, row.tenant_id, id, Number(fields.total_bytes_processed ?? 0))
    })
  }

  /** the project's tables by dataset.table (lower case, as DuckDB folds names), and when each last changed */
  private async readableTables(tenantId: string, projectId: string): Promise<Map<string, ReadableTable> & { changedAt: Map<string, string> }> {
    // the project's own datasets first, then those shared into it by an approval (atrium.ws_project_datasets);
    // a shared dataset whose name an own dataset (or an earlier shared one) already has is not readable by name
    const rows = await this.deps.catalog.rows<{ owner: string; own: boolean; dataset_id: string; dataset: string; table_id: string; name: string; schema: TableSchema; changed_at: string }>(
      `SELECT d.tenant_id AS owner, (d.tenant_id = $1 AND d.project_id = $2) AS own, d.id AS dataset_id, d.name AS dataset, t.id AS table_id, t.name, t.schema, t.changed_at::text AS changed_at
       FROM atrium.ws_datasets d JOIN atrium.ws_tables t ON t.dataset_id = d.id AND t.archived_at IS NULL
       WHERE d.archived_at IS NULL AND ((d.tenant_id = $1 AND d.project_id = $2)
         OR d.id IN (SELECT pd.dataset_id FROM atrium.ws_project_datasets pd WHERE pd.project_id = $2))
       ORDER BY own DESC, d.created_at, d.id`,
      [tenantId, projectId],
    )
    const map = new Map<string, ReadableTable>() as Map<string, ReadableTable> & { changedAt: Map<string, string> }
    map.changedAt = new Map()
    const datasetOf = new Map<string, string>()
    for (const r of rows) {
      const dataset = r.dataset.toLowerCase()
      if ((datasetOf.get(dataset) ?? r.dataset_id) !== r.dataset_id) continue
      datasetOf.set(dataset, r.dataset_id)
      // as text, to the microsecond: two changes within one second (a DML right after a query) are two versions
      const stamp = r.changed_at
      const foreign = r.owner !== tenantId
      map.set(`${r.dataset}.${r.name}`.toLowerCase(), {
        datasetId: r.dataset_id, tableId: r.table_id, name: `${r.dataset}.${r.name}`, columns: r.schema.columns,
        ownerTenantId: r.owner, writable: r.own,
        snapshot: foreign ? this.deps.engine.snapshotFile(tenantId, { tableId: r.table_id }, `${r.table_id}@${stamp}`) : undefined,
      })
      map.changedAt.set(r.table_id, stamp)
    }
    return map
  }

  /** a job whose result the caller may read: finished, and not unmasked private columns for a masked caller */
  private async finished(actor: WorkspaceActor, id: string): Promise<QueryJobRow> {
    const row = await this.jobRow(actor.tenantId, id)
    const status = statusOf(row)
    if (status === 'done' && row.num_dml_affected_rows !== null) {
      throw new AppError('query_result_not_ready', `query job ${id} ran ${String(row.statement_kind).toUpperCase()}, which returns no rows; its num_dml_affected_rows says how many rows it changed`)
    }
    if (status !== 'done' || !row.result_key) throw new AppError('query_result_not_ready', `query job ${id} is ${status}; results are there once it is done`)
    if (!mayPerform(actor, 'columns.private') && Object.values(row.column_privacy ?? {}).includes('visible')) {
      requireRole(actor, 'columns.private')
    }
    return row
  }

  /** the result file on this node's disk: written here by the run, or fetched back from the object store */
  private async localResult(row: QueryJobRow): Promise<void> {
    const file = this.deps.engine.resultFile(row.tenant_id, row.result_key!)
    if (existsSync(file)) return
    const got = await this.deps.objects.get({ bucket: RESULTS_BUCKET, key: resultObjectKey(row.tenant_id, row.result_key!) })
    const partial = `${file}.${process.pid}.part`
    try {
      await pipeline(got.body, createWriteStream(partial, { mode: 0o600 }))
      renameSync(partial, file)
    } catch (err) {
      if (existsSync(partial)) unlinkSync(partial)
      throw err
    }
  }

  private async jobRow(tenantId: string, id: string): Promise<QueryJobRow> {
    const [row] = isUuid(id) ? await this.deps.catalog.rows<QueryJobRow>(`${JOB_SELECT} WHERE q.tenant_id = $1 AND q.id = $2`, [tenantId, id]) : []
    if (!row) throw new AppError('query_job_not_found', `no query job ${id} in your tenant`)
    return row
  }

  private async query(tenantId: string, id: string, loc?: string[]): Promise<SavedQuery> {
    const [row] = isUuid(id) ? await this.deps.catalog.rows<SavedQuery>('SELECT * FROM atrium.ws_queries WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL', [tenantId, id]) : []
    if (!row) throw queryNotFound(id, loc)
    return row
  }

  private async project(tenantId: string, id: string): Promise<void> {
    const [row] = isUuid(id) ? await this.deps.catalog.rows('SELECT 1 FROM atrium.ws_projects WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL', [tenantId, id]) : []
    if (!row) throw new AppError('project_not_found', `no project ${id} in your tenant`, { data: { loc: ['body', 'project_id'] } })
  }
}

const JOB_SELECT = `SELECT q.*, j.status AS job_status, j.error_code AS job_error_code, j.error_message AS job_error_message FROM atrium.ws_query_jobs q LEFT JOIN atrium.jobs j ON j.id = q.running_job_id`

export const resultObjectKey = (tenantId: string, resultId: string) => `${tenantId}/${resultId}.parquet`

const queryNotFound = (id: string, loc?: string[]) => new AppError('query_not_found', `no query ${id} in your tenant`, loc ? { data: { loc } } : {})

function statusOf(row: QueryJobRow): string {
  if (row.error_result) return 'failed'
  return STATUS[row.job_status ?? 'queued'] ?? 'pending'
}

/** the query job as the API shows it: BigQuery's statistics, with what does not apply to a SELECT left null */
function view(row: QueryJobRow): Record<string, unknown> {
  const status = statusOf(row)
  const error = row.error_result ?? (row.job_error_code && status !== 'cancelled' ? { reason: row.job_error_code, message: row.job_error_message ?? '' } : null)
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    project_id: row.project_id,
    query_id: row.query_id,
    query_text: row.query_text,
    running_job_id: row.running_job_id,
    status,
    error_result: error,
    error_details: error ? { errors: [error] } : null,
    created: row.created_at,
    started: row.started,
    ended: ['done', 'failed', 'cancelled'].includes(status) ? row.ended : null,
    total_rows: num(row.total_rows),
    total_bytes_processed: num(row.total_bytes_processed),
    total_slot_ms: num(row.total_slot_ms),
    cache_hit: row.cache_hit,
    dml_stats: dmlStats(row),
    query_plan: row.query_plan,
    timeline: row.timeline,
    destination_table: null,
    num_dml_affected_rows: num(row.num_dml_affected_rows),
    script_statistics: null,
    session_info: null,
    transaction_info: null,
    reservation_usage: null,
    created_at: row.created_at,
    updated_at: row.updated_at,
    column_privacy: row.column_privacy ?? {},
    private_row_count: num(row.private_row_count),
    exports: [],
  }
}

/** BigQuery's dml_stats: the affected rows under the statement's kind; null for a SELECT */
function dmlStats(row: QueryJobRow): Record<string, number> | null {
  if (row.num_dml_affected_rows === null) return null
  const n = Number(row.num_dml_affected_rows)
  return { inserted_row_count: row.statement_kind === 'insert' ? n : 0, updated_row_count: row.statement_kind === 'update' ? n : 0, deleted_row_count: row.statement_kind === 'delete' ? n : 0 }
}
