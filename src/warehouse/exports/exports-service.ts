// Exports: a query job's stored result (result exports) or a table (export jobs) written to one file in the object
// store, in a format × compression of export-formats.ts. A request records the export and enqueues its durable job
// in one catalog transaction; a worker writes the file on the tenant's DuckDB database and stores it. Downloads
// are signed URLs that expire (Atrium serves them for the filesystem store; S3 presigns them).
import { createReadStream, createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Logger } from 'pino'
import type { Catalog } from '../../catalog/catalog.js'
import { AppError } from '../../errors/app-error.js'
import type { JobContext, JobQueue } from '../../jobs/job-queue.js'
import type { ObjectStore } from '../../objects/object-store.js'
import { isUuid, type Window } from '../../tenancy/paging.js'
import { mayPerform, requireRole, type WorkspaceActor } from '../../tenancy/roles.js'
import { tableNameOf, type DuckDbEngine } from '../duckdb-engine.js'
import { RESULTS_BUCKET, resultObjectKey, type QueryJobs } from '../query-jobs.js'
import type { TableSchema } from '../table-schema.js'
import type { Warehouse } from '../warehouse-service.js'
import { downloadContentType, exportLayout, type ExportCompression, type ExportFormat } from './export-formats.js'
import { writeExport } from './write-export.js'

export const EXPORT_JOB_KIND = 'workspace.export'
export const EXPORTS_BUCKET = 'workspace-exports'

export interface ExportsDeps {
  catalog: Catalog
  jobs: JobQueue
  engine: DuckDbEngine
  objects: ObjectStore
  warehouse: Warehouse
  queryJobs: QueryJobs
  logger: Logger
  /** seconds a download URL stays valid */
  urlTtlSeconds: number
  /** seconds an export may take before its attempt fails */
  timeoutSeconds: number
  /** days a written file is kept (export-retention.ts removes it then); 0 keeps files for ever */
  retentionDays: number
}

export interface ExportRequest {
  format: ExportFormat
  compression: ExportCompression
}

interface ExportRow {
  id: string
  tenant_id: string
  query_job_id: string | null
  table_id: string | null
  format: ExportFormat
  compression: ExportCompression
  mask_private: boolean
  running_job_id: string | null
  object_key: string | null
  row_count: string | null
  size_bytes: string | null
  error_message: string | null
  // timestamps: ISO-8601 text, as the catalog gives them
  created_at: string
  completed_at: string | null
  file_deleted_at: string | null
  job_status: string | null
  job_error_message: string | null
}

/** which of the two kinds a lookup is for: a result export is not an export job, and the other way round */
type Source = 'result' | 'table'

const STATUS: Record<string, string> = { queued: 'pending', running: 'running', succeeded: 'done', failed: 'failed', cancelled: 'cancelled' }
const SELECT = `SELECT e.*, j.status AS job_status, j.error_message AS job_error_message FROM atrium.ws_exports e LEFT JOIN atrium.jobs j ON j.id = e.running_job_id`
const num = (v: string | null) => (v === null ? null : Number(v))
const DAY_MS = 24 * 3600 * 1000

export class Exports {
  constructor(private readonly deps: ExportsDeps) {}

  async start(): Promise<void> {
    // writing a file again gives the same file, so a retry after a crash is safe
    await this.deps.jobs.define<{ export_id: string }>(EXPORT_JOB_KIND, (data, ctx) => this.execute(data.export_id, ctx), { retryLimit: 2, retryDelay: 2, expireIn: this.deps.timeoutSeconds })
  }

  /** a query job's result: whoever may read its results may export them (masked results stay masked) */
  async exportResult(actor: WorkspaceActor, queryJobId: string, req: ExportRequest): Promise<Record<string, unknown>> {
    // the file is a copy of the result: masked exactly when the result was
    const result = await this.deps.queryJobs.readableResult(actor, queryJobId)
    return this.enqueue(actor, { query_job_id: result.id, table_id: null, mask: result.masked }, req)
  }

  /** a table: read by any role; private columns are written as NULL for callers below Dataset editor */
  async exportTable(actor: WorkspaceActor, tableId: string, req: ExportRequest): Promise<Record<string, unknown>> {
    const table = await this.deps.warehouse.getTable(actor, tableId)
    return this.enqueue(actor, { query_job_id: null, table_id: table.id, mask: !mayPerform(actor, 'columns.private') }, req)
  }

  async list(actor: WorkspaceActor, source: Source, w: Window, parentId?: string): Promise<Array<Record<string, unknown>>> {
    requireRole(actor, source === 'result' ? 'queries.read' : 'tables.read')
    // the parent must be the tenant's own: another tenant's id is a 404 like an unknown one
    if (parentId !== undefined) {
      if (source === 'result') await this.deps.queryJobs.getJob(actor, parentId)
      else await this.deps.warehouse.getTable(actor, parentId)
    }
    const column = source === 'result' ? 'query_job_id' : 'table_id'
    const rows = await this.deps.catalog.rows<ExportRow>(
      `${SELECT} WHERE e.tenant_id = $1 AND e.${column} IS NOT NULL AND ($2::uuid IS NULL OR e.${column} = $2) ORDER BY e.created_at, e.id OFFSET $3 LIMIT $4`,
      [actor.tenantId, parentId ?? null, w.skip, w.limit],
    )
    return rows.map((r) => this.view(r))
  }

  /** query jobs with their result exports in `exports` (one lookup for the whole list) */
  async withExports(actor: WorkspaceActor, jobs: Array<Record<string, unknown>>): Promise<Array<Record<string, unknown>>> {
    if (jobs.length === 0) return jobs
    const rows = await this.deps.catalog.rows<ExportRow>(
      `${SELECT} WHERE e.tenant_id = $1 AND e.query_job_id = ANY($2::uuid[]) ORDER BY e.created_at, e.id`,
      [actor.tenantId, jobs.map((j) => j.id)],
    )
    const byJob = new Map<string, Array<Record<string, unknown>>>()
    for (const r of rows) byJob.set(r.query_job_id!, [...(byJob.get(r.query_job_id!) ?? []), this.view(r)])
    return jobs.map((j) => ({ ...j, exports: byJob.get(j.id as string) ?? [] }))
  }

  async get(actor: WorkspaceActor, source: Source, id: string): Promise<Record<string, unknown>> {
    return this.view(await this.row(actor, source, id))
  }

  /**
   * A fresh signed URL to the written file, valid urlTtlSeconds but never past the file's own expiry; 409 until
   * the export is done, 410 once its file has expired (by time: the hourly job may not have removed it yet).
   */
  async download(actor: WorkspaceActor, source: Source, id: string): Promise<Record<string, unknown>> {
    const row = await this.row(actor, source, id)
    const status = statusOf(row)
    if (status !== 'done' || !row.object_key) throw new AppError('workspace_export_not_ready', `export ${id} is ${status}; its file can be downloaded once it is done`)
    const fileExpiresAt = this.fileExpiresAt(row)
    const secondsLeft = fileExpiresAt ? Math.floor((fileExpiresAt.getTime() - Date.now()) / 1000) : Infinity
    if (row.file_deleted_at || secondsLeft < 1) throw expired(row, source, this.deps.retentionDays)
    const expiresIn = Math.min(this.deps.urlTtlSeconds, secondsLeft)
    const signed = await this.deps.objects.signedUrl({ bucket: EXPORTS_BUCKET, key: row.object_key }, { method: 'GET', expiresIn })
    // expires_at here is the URL's (as it always was); the export's own (GET) is when the file goes
    return { ...this.view(row), signed_url: signed.url, expires_at: signed.expiresAt }
  }

  /** when retention removes the file: null while it is not written, or with retention off */
  private fileExpiresAt(row: ExportRow): Date | null {
    const completed = row.completed_at === null ? NaN : Date.parse(row.completed_at)
    if (!this.deps.retentionDays || !row.object_key || Number.isNaN(completed)) return null
    return new Date(completed + this.deps.retentionDays * DAY_MS)
  }

  /** one shape for both kinds (BigQuery's extract job, with the DataCovey names): gcs_path is the object's path */
  private view(row: ExportRow): Record<string, unknown> {
    const status = statusOf(row)
    return {
      id: row.id,
      tenant_id: row.tenant_id,
      ...(row.query_job_id ? { query_job_id: row.query_job_id } : { table_id: row.table_id }),
      status,
      format: row.format,
      compression: row.compression,
      // the file's path while it exists; a removed file has none
      gcs_path: row.object_key && !row.file_deleted_at ? `${EXPORTS_BUCKET}/${row.object_key}` : null,
      row_count: num(row.row_count),
      size_bytes: num(row.size_bytes),
      columns_masked: row.mask_private,
      signed_url: null,
      error_message: row.error_message ?? (status === 'failed' ? row.job_error_message : null),
      created_at: row.created_at,
      completed_at: ['done', 'failed'].includes(status) ? row.completed_at : null,
      // when the file is (or was) removed by retention; file_deleted_at says it is gone
      expires_at: status === 'done' ? this.fileExpiresAt(row) : null,
      file_deleted_at: row.file_deleted_at,
      archived_at: null,
    }
  }

  // ---- the worker ----

  private async execute(id: string, ctx: JobContext): Promise<unknown> {
    const [row] = await this.deps.catalog.rows<ExportRow>(`${SELECT} WHERE e.id = $1`, [id])
    if (!row) return { skipped: 'the export no longer exists' }
    const { engine } = this.deps
    const dir = engine.resultsDir(row.tenant_id)
    const layout = exportLayout(row.format, row.compression)
    const key = `${row.tenant_id}/${row.id}.${layout.extension}`
    const sourceFile = join(dir, `export-${row.id}.source.parquet`)
    try {
      const source = row.query_job_id ? await this.resultSource(row.query_job_id, sourceFile) : await this.tableSource(row)
      if (ctx.signal.aborted) throw ctx.signal.reason
      const written = await engine.withConnection(row.tenant_id, async (c) => {
        const stop = () => c.interrupt()
        ctx.signal.addEventListener('abort', stop, { once: true })
        try {
          return await writeExport(c, { ...source, format: row.format, layout, dir, baseName: `export-${row.id}` })
        } finally {
          ctx.signal.removeEventListener('abort', stop)
        }
      })
      try {
        await this.deps.objects.put({ bucket: EXPORTS_BUCKET, key }, createReadStream(written.file), { contentType: downloadContentType(layout), contentLength: written.bytes })
      } finally {
        await rm(written.file, { force: true })
      }
      await this.deps.catalog.rows(
        'UPDATE atrium.ws_exports SET object_key = $2, row_count = $3, size_bytes = $4, completed_at = now() WHERE id = $1',
        [id, key, written.rows, written.bytes],
      )
      return { rows: written.rows, bytes: written.bytes }
    } catch (err) {
      if (ctx.signal.aborted) throw err
      // what will fail again (the source is gone, DuckDB refuses a value) is recorded and ends the job at once
      if (err instanceof AppError && err.status < 500) {
        await this.deps.catalog.rows('UPDATE atrium.ws_exports SET error_message = $2, completed_at = now() WHERE id = $1', [id, err.message])
        return { error: err.code }
      }
      throw err
    } finally {
      await rm(sourceFile, { force: true })
    }
  }

  /** the stored Parquet result, copied next to the tenant's database (the one folder DuckDB may read) */
  private async resultSource(queryJobId: string, file: string) {
    const [job] = await this.deps.catalog.rows<{ tenant_id: string; result_key: string | null; result_columns: Array<{ name: string; type: string }> | null }>(
      'SELECT tenant_id, result_key, result_columns FROM atrium.ws_query_jobs WHERE id = $1', [queryJobId],
    )
    if (!job?.result_key) throw new AppError('query_result_not_ready', `query job ${queryJobId} has no stored result`)
    const got = await this.deps.objects.get({ bucket: RESULTS_BUCKET, key: resultObjectKey(job.tenant_id, job.result_key) })
    await pipeline(got.body, createWriteStream(file, { mode: 0o600 }))
    return { sourceSql: `SELECT * FROM read_parquet('${file.replaceAll("'", "''")}')`, columns: job.result_columns ?? [] }
  }

  /** the table's declared columns, private ones as NULL of their type when the export is masked */
  private async tableSource(row: ExportRow) {
    const [table] = await this.deps.catalog.rows<{ dataset_id: string; schema: TableSchema; archived_at: Date | null }>(
      'SELECT dataset_id, schema, archived_at FROM atrium.ws_tables WHERE id = $1 AND tenant_id = $2', [row.table_id, row.tenant_id],
    )
    if (!table || table.archived_at) throw new AppError('workspace_table_not_found', `table ${row.table_id} was deleted before it could be exported`)
    const cols = table.schema.columns
    const list = cols.map((c) => (row.mask_private && c.private ? `CAST(NULL AS ${c.type}) AS "${c.name}"` : `"${c.name}"`)).join(', ')
    const ref = { tenantId: row.tenant_id, datasetId: table.dataset_id, tableId: row.table_id! }
    return { sourceSql: `SELECT ${list} FROM ${tableNameOf(ref)}`, columns: cols.map((c) => ({ name: c.name, type: c.type })) }
  }

  private async enqueue(actor: WorkspaceActor, source: { query_job_id: string | null; table_id: string | null; mask: boolean }, req: ExportRequest) {
    const id = await this.deps.catalog.transaction(async (tx) => {
      const row = (await tx.query({
        sql: `INSERT INTO atrium.ws_exports (tenant_id, query_job_id, table_id, format, compression, mask_private, requested_by)
              VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
        params: [actor.tenantId, source.query_job_id, source.table_id, req.format, req.compression, source.mask, actor.kind === 'user' ? actor.userId : null],
      })).rows[0] as { id: string }
      const jobId = await this.deps.jobs.enqueue(EXPORT_JOB_KIND, { export_id: row.id }, { tx, owner: { kind: 'tenant', id: actor.tenantId } })
      await tx.query({ sql: 'UPDATE atrium.ws_exports SET running_job_id = $2 WHERE id = $1', params: [row.id, jobId] })
      return row.id
    })
    const [row] = await this.deps.catalog.rows<ExportRow>(`${SELECT} WHERE e.id = $1`, [id])
    return this.view(row!)
  }

  private async row(actor: WorkspaceActor, source: Source, id: string): Promise<ExportRow> {
    requireRole(actor, source === 'result' ? 'queries.read' : 'tables.read')
    const column = source === 'result' ? 'query_job_id' : 'table_id'
    const [row] = isUuid(id) ? await this.deps.catalog.rows<ExportRow>(`${SELECT} WHERE e.tenant_id = $1 AND e.id = $2 AND e.${column} IS NOT NULL`, [actor.tenantId, id]) : []
    if (!row) throw new AppError('workspace_export_not_found', `no ${source === 'result' ? 'result export' : 'export job'} ${id} in your tenant`)
    // a masked caller reads no export of a result it could not read itself
    if (source === 'result') await this.deps.queryJobs.readableResult(actor, row.query_job_id!)
    return row
  }
}

function statusOf(row: ExportRow): string {
  if (row.error_message) return 'failed'
  return STATUS[row.job_status ?? 'queued'] ?? 'pending'
}

/** 410 for a file removed by retention (or past its expiry): says when, why, and what to do */
function expired(row: ExportRow, source: Source, days: number): AppError {
  const again = source === 'result' ? `POST /api/v1/query_jobs/${row.query_job_id}/exports` : 'POST /api/v1/export_jobs'
  const when = row.file_deleted_at ? `was removed at ${row.file_deleted_at}` : 'has expired'
  return new AppError('workspace_export_expired',
    `the file of export ${row.id} ${when}: export files are kept ${days > 0 ? `${days} day${days === 1 ? '' : 's'}` : 'for a limited time'} after they are written; run the export again (${again}) for a new file`)
}
