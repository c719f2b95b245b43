// Import jobs: a file a user uploaded (POST /api/files/upload, named by its storage_path) appended to a table by a
// durable job. The file is checked against the table's declared schema first: its columns must be the table's,
// and every value must fit its column's type and nullability; rows that do not are counted and a few reported
// with their reasons, and then nothing is imported (all or nothing). A row insert and its mark in the tenant's
// database commit together, so a retry after a crash never appends twice.
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { DuckDBConnection } from '@duckdb/node-api'
import type { Logger } from 'pino'
import { uploadedObject } from '../../assistant/files.js'
import type { Catalog } from '../../catalog/catalog.js'
import type { Config } from '../../config/schema.js'
import { AppError } from '../../errors/app-error.js'
import type { JobContext, JobQueue } from '../../jobs/job-queue.js'
import type { ObjectStore } from '../../objects/object-store.js'
import { isUuid, type Window } from '../../tenancy/paging.js'
import { requireRole, type WorkspaceActor } from '../../tenancy/roles.js'
import { tableNameOf, type DuckDbEngine } from '../duckdb-engine.js'
import type { TableSchema } from '../table-schema.js'
import type { Warehouse } from '../warehouse-service.js'
import { checkedRowsSql, fileColumnsSql, literal, matchColumns, type ImportFormat } from './import-checks.js'

export const IMPORT_JOB_KIND = 'workspace.import'
/** bad rows reported with their reasons; the rest are only counted */
const SAMPLE_ROWS = 5
const EXTENSIONS: Record<ImportFormat, string> = { CSV: 'csv', JSONL: 'jsonl', PARQUET: 'parquet' }

export interface ImportJobsDeps {
  catalog: Catalog
  jobs: JobQueue
  engine: DuckDbEngine
  objects: ObjectStore
  warehouse: Warehouse
  logger: Logger
  /** where uploads live (assistant.uploadBucket) */
  config: { assistant: Config['assistant'] }
  timeoutSeconds: number
}

interface ImportRow {
  id: string
  tenant_id: string
  table_id: string
  source_uri: string
  source_object: string
  format: ImportFormat
  running_job_id: string | null
  rows_read: string | null
  rows_imported: string | null
  bad_rows: string | null
  bad_row_samples: Array<{ row: number; reason: string }> | null
  error_message: string | null
  created_at: Date
  completed_at: Date | null
  job_status: string | null
  job_error_message: string | null
}

/** why an import ends without rows: recorded on the job, never retried (the file would fail the same way) */
class ImportRefused extends Error {
  constructor(message: string, readonly extra: { rows_read?: number; bad_rows?: number; bad_row_samples?: unknown[] } = {}) {
    super(message)
  }
}

const STATUS: Record<string, string> = { queued: 'pending', running: 'running', succeeded: 'done', failed: 'failed', cancelled: 'cancelled' }
const SELECT = `SELECT i.*, j.status AS job_status, j.error_message AS job_error_message FROM atrium.ws_import_jobs i LEFT JOIN atrium.jobs j ON j.id = i.running_job_id`
/** the tenant database's record of the imports it has committed (never readable from query text: not a dataset) */
const IMPORT_LOG = 'main.atrium_import_log'
const num = (v: string | null) => (v === null ? null : Number(v))
const firstLine = (err: unknown) => (err as Error).message.split('\n')[0]!

export class ImportJobs {
  constructor(private readonly deps: ImportJobsDeps) {}

  async start(): Promise<void> {
    await this.deps.jobs.define<{ import_id: string }>(IMPORT_JOB_KIND, (data, ctx) => this.execute(data.import_id, ctx), { retryLimit: 2, retryDelay: 2, expireIn: this.deps.timeoutSeconds })
  }

  /**
   * `owner` is the signed-in user's token subject: source_uri is looked up among that user's own uploads only,
   * so another user's file is not found, whatever path is sent.
   */
  async create(actor: WorkspaceActor, owner: string | null, input: { table_id: string; source_uri: string; format: ImportFormat }): Promise<Record<string, unknown>> {
    requireRole(actor, 'tables.write')
    const table = await this.deps.warehouse.getTable(actor, input.table_id)
    const notFound = (why: string) => new AppError('import_source_not_found', why, { data: { loc: ['body', 'source_uri'] }, hint: 'upload the file with POST /api/files/upload?bucket=… and send its storage_path' })
    if (owner === null) throw notFound('the admin key has no uploaded files: import as the user who uploaded the file')
    let ref
    try {
      ref = uploadedObject(this.deps.config, owner, input.source_uri)
    } catch {
      throw notFound(`source_uri ${JSON.stringify(input.source_uri.slice(0, 200))} is not a storage_path`)
    }
    if (!(await this.deps.objects.stat(ref))) throw notFound(`no uploaded file ${JSON.stringify(input.source_uri.slice(0, 200))} of yours`)
    const id = await this.deps.catalog.transaction(async (tx) => {
      const row = (await tx.query({
        sql: `INSERT INTO atrium.ws_import_jobs (tenant_id, table_id, source_uri, source_object, format, requested_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        params: [actor.tenantId, table.id, input.source_uri, `${ref.bucket}/${ref.key}`, input.format, actor.kind === 'user' ? actor.userId : null],
      })).rows[0] as { id: string }
      const jobId = await this.deps.jobs.enqueue(IMPORT_JOB_KIND, { import_id: row.id }, { tx, owner: { kind: 'tenant', id: actor.tenantId } })
      await tx.query({ sql: 'UPDATE atrium.ws_import_jobs SET running_job_id = $2 WHERE id = $1', params: [row.id, jobId] })
      return row.id
    })
    return this.get(actor, id)
  }

  async list(actor: WorkspaceActor, w: Window, tableId?: string): Promise<Array<Record<string, unknown>>> {
    requireRole(actor, 'tables.read')
    if (tableId !== undefined) await this.deps.warehouse.getTable(actor, tableId)
    const rows = await this.deps.catalog.rows<ImportRow>(
      `${SELECT} WHERE i.tenant_id = $1 AND ($2::uuid IS NULL OR i.table_id = $2) ORDER BY i.created_at, i.id OFFSET $3 LIMIT $4`,
      [actor.tenantId, tableId ?? null, w.skip, w.limit],
    )
    return rows.map(view)
  }

  async get(actor: WorkspaceActor, id: string): Promise<Record<string, unknown>> {
    requireRole(actor, 'tables.read')
    const [row] = isUuid(id) ? await this.deps.catalog.rows<ImportRow>(`${SELECT} WHERE i.tenant_id = $1 AND i.id = $2`, [actor.tenantId, id]) : []
    if (!row) throw new AppError('import_job_not_found', `no import job ${id} in your tenant`)
    return view(row)
  }

  // ---- the worker ----

  private async execute(id: string, ctx: JobContext): Promise<unknown> {
    const [row] = await this.deps.catalog.rows<ImportRow>(`${SELECT} WHERE i.id = $1`, [id])
    if (!row) return { skipped: 'the import job no longer exists' }
    const [table] = await this.deps.catalog.rows<{ dataset_id: string; schema: TableSchema; archived_at: Date | null }>(
      'SELECT dataset_id, schema, archived_at FROM atrium.ws_tables WHERE id = $1 AND tenant_id = $2', [row.table_id, row.tenant_id],
    )
    const file = join(this.deps.engine.resultsDir(row.tenant_id), `import-${row.id}.${EXTENSIONS[row.format]}`)
    try {
      if (!table || table.archived_at) throw new ImportRefused('the table was deleted before the import ran')
      const ref = { tenantId: row.tenant_id, datasetId: table.dataset_id, tableId: row.table_id }
      const done = await this.deps.engine.withConnection(row.tenant_id, async (c) => {
        // a run after a crash: the rows may already be in (the mark commits with them)
        const logged = await this.logged(c, id)
        if (logged !== null) return { rows_read: logged, rows_imported: logged }
        const slash = row.source_object.indexOf('/')
        const got = await this.deps.objects.get({ bucket: row.source_object.slice(0, slash), key: row.source_object.slice(slash + 1) })
        await pipeline(got.body, createWriteStream(file, { mode: 0o600 }))
        const stop = () => c.interrupt()
        ctx.signal.addEventListener('abort', stop, { once: true })
        try {
          return await this.load(c, id, row.format, file, tableNameOf(ref), table.schema)
        } finally {
          ctx.signal.removeEventListener('abort', stop)
        }
      })
      await this.deps.catalog.transaction(async (tx) => {
        await tx.query({ sql: 'UPDATE atrium.ws_import_jobs SET rows_read = $2, rows_imported = $3, bad_rows = 0, completed_at = now() WHERE id = $1', params: [id, done.rows_read, done.rows_imported] })
        // the table's rows changed: stored query results over it are no longer answers
        await tx.query({ sql: 'UPDATE atrium.ws_tables SET changed_at = now() WHERE id = $1', params: [row.table_id] })
      })
      return done
    } catch (err) {
      if (ctx.signal.aborted) throw err
      if (err instanceof ImportRefused) {
        await this.deps.catalog.rows(
          'UPDATE atrium.ws_import_jobs SET error_message = $2, rows_read = $3, rows_imported = 0, bad_rows = $4, bad_row_samples = $5, completed_at = now() WHERE id = $1',
          [id, err.message, err.extra.rows_read ?? null, err.extra.bad_rows ?? null, err.extra.bad_row_samples ? JSON.stringify(err.extra.bad_row_samples) : null],
        )
        return { refused: err.message }
      }
      throw err
    } finally {
      await rm(file, { force: true })
    }
  }

  /** checks the file, then appends its rows and the import's mark in one DuckDB transaction */
  private async load(c: DuckDBConnection, id: string, format: ImportFormat, file: string, target: string, schema: TableSchema) {
    const declared = schema.columns
    let fileColumns: string[]
    try {
      fileColumns = (await c.runAndReadAll(fileColumnsSql(format, file))).getRows().map((r) => String(r[0]))
    } catch (err) {
      throw new ImportRefused(`the file cannot be read as ${format}: ${firstLine(err)}`)
    }
    const match = matchColumns(declared, fileColumns)
    if (match.unknown.length > 0) throw new ImportRefused(`the file has columns the table does not: ${match.unknown.slice(0, 20).join(', ')} (the table has ${declared.map((d) => d.name).join(', ')})`)
    if (match.missingRequired.length > 0) throw new ImportRefused(`the file lacks the NOT NULL columns ${match.missingRequired.join(', ')}`)
    const staged = `import_${id.replaceAll('-', '')}`
    try {
      await c.run(`CREATE TEMP TABLE ${staged} AS ${checkedRowsSql(format, file, declared, match.sources)}`)
    } catch (err) {
      throw new ImportRefused(`the file cannot be read as ${format}: ${firstLine(err)}`)
    }
    try {
      const [counts] = (await c.runAndReadAll(`SELECT count(*)::BIGINT, count(*) FILTER (WHERE __reason <> '')::BIGINT FROM ${staged}`)).getRows()
      const total = Number(counts![0])
      const bad = Number(counts![1])
      if (bad > 0) {
        const samples = (await c.runAndReadAll(`SELECT __row::BIGINT, __reason FROM ${staged} WHERE __reason <> '' ORDER BY __row LIMIT ${SAMPLE_ROWS}`)).getRows()
          .map((r) => ({ row: Number(r[0]), reason: String(r[1]) }))
        throw new ImportRefused(`${bad} of ${total} rows do not fit the table's schema; nothing was imported`, { rows_read: total, bad_rows: bad, bad_row_samples: samples })
      }
      await c.run(`CREATE TABLE IF NOT EXISTS ${IMPORT_LOG} (import_id VARCHAR PRIMARY KEY, row_count BIGINT NOT NULL)`)
      await c.run('BEGIN TRANSACTION')
      try {
        await c.run(`INSERT INTO ${target} (${declared.map((d) => `"${d.name}"`).join(', ')}) SELECT ${declared.map((_, i) => `c${i}`).join(', ')} FROM ${staged} ORDER BY __row`)
        await c.run(`INSERT INTO ${IMPORT_LOG} VALUES (${literal(id)}, ${total})`)
        await c.run('COMMIT')
      } catch (err) {
        // a conflict with a concurrent change of the table: the job's retry tries again
        await c.run('ROLLBACK').catch(() => {})
        throw err
      }
      return { rows_read: total, rows_imported: total }
    } finally {
      await c.run(`DROP TABLE IF EXISTS ${staged}`).catch(() => {})
    }
  }

  private async logged(c: DuckDBConnection, id: string): Promise<number | null> {
    const exists = await c.runAndReadAll(`SELECT 1 FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'atrium_import_log'`)
    if (exists.getRows().length === 0) return null
    const rows = (await c.runAndReadAll(`SELECT row_count FROM ${IMPORT_LOG} WHERE import_id = ${literal(id)}`)).getRows()
    return rows.length > 0 ? Number(rows[0]![0]) : null
  }
}

function statusOf(row: ImportRow): string {
  if (row.error_message) return 'failed'
  return STATUS[row.job_status ?? 'queued'] ?? 'pending'
}

function view(row: ImportRow): Record<string, unknown> {
  const status = statusOf(row)
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    table_id: row.table_id,
    status,
    source_uri: row.source_uri,
    format: row.format,
    rows_read: num(row.rows_read),
    rows_imported: num(row.rows_imported),
    bad_rows: num(row.bad_rows),
    bad_row_samples: row.bad_row_samples ?? [],
    error_message: row.error_message ?? (status === 'failed' ? row.job_error_message : null),
    created_at: row.created_at,
    completed_at: ['done', 'failed'].includes(status) ? row.completed_at : null,
    archived_at: null,
  }
}
