// Pipelines: the templates from the configuration, checking a pipeline before it runs (rights on both clients,
// the source and sink tables planned), simulating it in the request, and running it as a durable job whose
// record is the caller's to read.
import type { Logger } from 'pino'
import type { ApiKeyStore } from '../auth/api-key-store.js'
import { requireOperation } from '../auth/operation-rights.js'
import type { Principal } from '../auth/principal.js'
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import type { DataDeps } from '../data/data-deps.js'
import { assertWritable } from '../data/write-rows.js'
import { AppError } from '../errors/app-error.js'
import type { JobQueue, JobRecord } from '../jobs/job-queue.js'
import { relationOf } from '../query/parse/athena.js'
import { plan } from '../query/pipeline.js'
import type { RequestContext } from '../request-context.js'
import type { SourceRegistry } from '../sources/registry.js'
import { definePipeline, type PipelineDefinition, type PipelineRequest, type PipelineTemplate } from './definition.js'
import type { Row } from './expression-eval.js'
import { PipelineCursorStore } from './pipeline-cursor-store.js'
import { PIPELINE_JOB, pipelineJobHandler, pipelineJobOptions, storedOf, summaryOf, type PipelineJobData } from './pipeline-job.js'
import { cursorOwnerOf, jobOwnerOf, ownsJob, snapshotOf } from './pipeline-principal.js'
import { countSource, initialState, runBatch, type RunEnv } from './run-pipeline.js'
import { sqlTimestamp } from './transform-rows.js'

export interface PipelinesDeps {
  catalog: Catalog
  jobs: JobQueue
  apiKeys: Pick<ApiKeyStore, 'findByPublicId'>
  data: DataDeps
  registry: SourceRegistry
  config: Pick<Config, 'pipelines'>
  logger: Logger
}

export interface TemplateSummary {
  name: string
  description: string | null
  source_client: string | null
  source_table: string | null
  sink_client: string | null
  sink_table: string | null
  has_transform: boolean
  incremental: boolean
}

/** the caller's context for each client a pipeline reaches (the route checked the caller may reach both) */
export interface PipelineContexts {
  source: RequestContext
  sink: RequestContext
}

export class Pipelines {
  private readonly cursors: PipelineCursorStore
  private readonly templates: Record<string, PipelineTemplate>

  constructor(private readonly deps: PipelinesDeps) {
    this.cursors = new PipelineCursorStore(deps.catalog)
    // checked when the configuration was loaded (config/load.ts)
    this.templates = deps.config.pipelines.templates
  }

  /** every process defines the job kind (enqueueing needs it); only those with workers run it */
  async start(): Promise<void> {
    const { data, registry, apiKeys, config, logger } = this.deps
    const handler = pipelineJobHandler({
      data,
      registry,
      cursors: this.cursors,
      findKey: (publicId) => apiKeys.findByPublicId(publicId),
      maxRejectedRows: config.pipelines.maxRejectedRows,
      logger,
    })
    await this.deps.jobs.define<PipelineJobData>(PIPELINE_JOB, handler, pipelineJobOptions(config.pipelines.jobTimeoutSeconds))
  }

  listTemplates(): TemplateSummary[] {
    return Object.entries(this.templates).sort(([a], [b]) => a.localeCompare(b)).map(([name, t]) => ({
      name,
      description: t.description ?? null,
      source_client: t.source.client ?? null,
      source_table: t.source.table_name ?? t.source.view_name ?? null,
      sink_client: t.sink.client ?? null,
      sink_table: t.sink.table_name ?? null,
      has_transform: (t.transforms?.length ?? 0) > 0,
      incremental: t.source.cursor_column !== undefined,
    }))
  }

  /** the template (if any) with the request over it, checked; `client` is X-Athena-Client */
  define(req: PipelineRequest, client: string): PipelineDefinition {
    return definePipeline(req, { client, templates: this.templates, defaultBatchSize: this.deps.config.pipelines.batchSize })
  }

  /** the rights reading the source needs, and the plan of its read (unknown table or column: a 400 now) */
  private async checkSource(def: PipelineDefinition, ctx: RequestContext): Promise<void> {
    if (def.source.query !== undefined) {
      requireOperation(ctx.principal, 'sql.read')
      return
    }
    requireOperation(ctx.principal, 'rows.read')
    // counting plans the read: table, columns, conditions and the cursor column are checked without reading a row
    await countSource(def, this.env(def, ctx, null), null)
  }

  /** the rights writing the sink needs (unless only simulating), and its table and key planned */
  private async checkSink(def: PipelineDefinition, ctx: RequestContext, writing: boolean): Promise<void> {
    if (writing) {
      requireOperation(ctx.principal, 'rows.insert')
      if (def.sink.mode === 'upsert') requireOperation(ctx.principal, 'rows.upsert')
      assertWritable(ctx.source)
    }
    await plan(ctx.source, {
      kind: 'insert',
      relation: relationOf({ table_name: def.sink.table_name }),
      rows: [],
      missing: 'null',
      onConflict: def.sink.mode === 'upsert' ? { columns: def.sink.key, action: 'merge' } : undefined,
      returning: null,
    })
  }

  private env(def: PipelineDefinition, source: RequestContext, sink: RequestContext | null, now = sqlTimestamp(new Date())): RunEnv {
    return { data: this.deps.data, sourceCtx: source, sinkCtx: sink, evalCtx: { now }, maxRejections: this.deps.config.pipelines.maxRejectedRows }
  }

  /**
   * Reads (at most pipelines.simulateMaxRows rows), transforms, and writes nothing: the counts a run would
   * have, the rejected rows with their reasons, and a sample of the rows that would be written. It starts
   * where a run would (after the named pipeline's cursor) and moves no cursor.
   */
  async simulate(def: PipelineDefinition, ctx: PipelineContexts) {
    await this.checkSource(def, ctx.source)
    const { simulateMaxRows, sampleRows } = this.deps.config.pipelines
    const column = def.source.cursor_column
    const cursor = def.name !== null && column ? await this.cursors.get(cursorOwnerOf(ctx.source.principal), def.name, column) : null
    const sample: Row[] = []
    const env = { ...this.env(def, ctx.source, null), sample, sampleSize: sampleRows }
    const wanted = def.source.limit ?? Infinity
    const limit = Math.min(wanted, simulateMaxRows)
    const bounded: PipelineDefinition = { ...def, source: { ...def.source, limit }, batchSize: Math.min(def.batchSize, limit) }
    let state = initialState(cursor)
    while (!state.done) state = await runBatch(bounded, env, state)
    await this.checkSink(def, ctx.sink, false)
    // cut short by the cap: one more row, read into a state and an env that are then thrown away, tells
    let truncated = false
    if (state.read === simulateMaxRows && wanted > simulateMaxRows) {
      const probe = { ...bounded, source: { ...bounded.source, limit: simulateMaxRows + 1 }, batchSize: 1 }
      truncated = (await runBatch(probe, { ...env, sample: undefined }, state)).read > state.read
    }
    // the names of the gateway contract's dry-run answer (rows_fetched, rows_inserted, would_insert), then ours
    const { rows_read, rows_written, ...summary } = summaryOf(def, state)
    return { sample, counts: { rows_fetched: rows_read, rows_inserted: 0, would_insert: rows_written, dry_run: true as const, truncated, ...summary } }
  }

  /** checks everything a run needs now, then enqueues it; the job record says how it goes */
  async enqueue(def: PipelineDefinition, ctx: PipelineContexts): Promise<JobRecord> {
    await this.checkSource(def, ctx.source)
    await this.checkSink(def, ctx.sink, true)
    const principal = ctx.source.principal
    const data: PipelineJobData = {
      definition: storedOf(def),
      principal: snapshotOf(principal),
      owner: cursorOwnerOf(principal),
      request_id: ctx.source.requestId,
    }
    const id = await this.deps.jobs.enqueue(PIPELINE_JOB, data, { owner: jobOwnerOf(principal) })
    return (await this.deps.jobs.get(id))!
  }

  /** a pipeline run's job record; someone else's (or another kind of job) is not found */
  async getRun(principal: Principal, id: string): Promise<JobRecord> {
    const job = /^[0-9a-f-]{36}$/i.test(id) ? await this.deps.jobs.get(id) : null
    if (!job || job.kind !== PIPELINE_JOB || !ownsJob(principal, job.owner)) throw new AppError('job_not_found', `no pipeline run ${id}`)
    return job
  }

  /** stops a queued or running run of the caller's after the batch in hand (a finished run is returned as it is) */
  async cancelRun(principal: Principal, id: string): Promise<JobRecord> {
    const job = await this.getRun(principal, id)
    return this.deps.jobs.cancel(job.id)
  }
}
