// The pipeline-run job: a checked definition run batch by batch, each batch one job step, so a run taken up
// again after a crash or a retry continues after the last finished batch. A named pipeline's cursor moves in
// the step's catalog transaction. The sink write and that commit cannot be one transaction: a crash between
// them writes the batch again on the next attempt (an upsert sink makes that harmless).
import type { Logger } from 'pino'
import type { ApiKeyRow } from '../auth/api-key-store.js'
import type { DataDeps } from '../data/data-deps.js'
import type { JobContext, JobKindOptions } from '../jobs/job-queue.js'
import type { RequestContext } from '../request-context.js'
import type { SourceRegistry } from '../sources/registry.js'
import { definePipeline, type PipelineDefinition, type PipelineRequest } from './definition.js'
import type { PipelineCursorStore } from './pipeline-cursor-store.js'
import { principalOf, type PrincipalSnapshot } from './pipeline-principal.js'
import { countSource, initialState, runBatch, type RunState } from './run-pipeline.js'
import { sqlTimestamp } from './transform-rows.js'

export const PIPELINE_JOB = 'pipeline-run'

/** what the job stores: the definition as checked when it was enqueued, and who asked (no secret) */
export interface PipelineJobData extends Record<string, unknown> {
  definition: StoredDefinition
  principal: PrincipalSnapshot
  /** whose cursors the run reads and moves */
  owner: string
  request_id: string
}

export type StoredDefinition = Pick<PipelineDefinition, 'name' | 'template' | 'source' | 'sink' | 'transforms' | 'batchSize'>

export function storedOf(def: PipelineDefinition): StoredDefinition {
  const { name, template, source, sink, transforms, batchSize } = def
  return { name, template, source, sink, transforms, batchSize }
}

/** the definition again from what was stored, compiled anew (compiled expressions are not stored) */
export function definitionOf(stored: StoredDefinition): PipelineDefinition {
  const req: PipelineRequest = { source: stored.source, sink: stored.sink, transforms: stored.transforms, batch_size: stored.batchSize }
  if (stored.name !== null) req.name = stored.name
  return { ...definePipeline(req, { client: stored.source.client, templates: {}, defaultBatchSize: stored.batchSize }), template: stored.template }
}

export interface PipelineJobDeps {
  data: DataDeps
  registry: SourceRegistry
  cursors: PipelineCursorStore
  findKey(publicId: string): Promise<ApiKeyRow | undefined>
  maxRejectedRows: number
  logger: Logger
}

export function pipelineJobOptions(timeoutSeconds: number): JobKindOptions {
  return { retryLimit: 2, retryDelay: 5, retryBackoff: true, expireIn: timeoutSeconds }
}

/** what a finished run reports (the job record's result) */
export function summaryOf(def: PipelineDefinition, state: RunState) {
  return {
    pipeline: def.name,
    template: def.template,
    rows_read: state.read,
    rows_written: state.written,
    rows_rejected: state.rejected,
    rows_filtered: state.filtered,
    batches: state.batches,
    cursor: state.cursor,
    rejected_rows: state.rejections,
  }
}

export function pipelineJobHandler(deps: PipelineJobDeps) {
  return async (data: PipelineJobData, ctx: JobContext): Promise<unknown> => {
    const def = definitionOf(data.definition)
    const principal = await principalOf(data.principal, deps.findKey, [def.source.client, def.sink.client])
    const contextFor = (client: string): RequestContext => ({
      principal,
      source: deps.registry.resolve(client),
      requestId: data.request_id,
      log: deps.logger,
      deadline: ctx.signal,
    })
    const column = def.source.cursor_column
    const incremental = def.name !== null && column !== undefined
    // where the run starts, and when "now" is: fixed by the first attempt, so a retry continues the same run
    const start = await ctx.step('start', async (tx) => ({
      cursor: incremental ? await deps.cursors.get(data.owner, def.name!, column!, tx) : null,
      now: sqlTimestamp(new Date()),
    }))
    const env = {
      data: deps.data,
      sourceCtx: contextFor(def.source.client),
      sinkCtx: contextFor(def.sink.client),
      evalCtx: { now: start.now },
      maxRejections: deps.maxRejectedRows,
    }
    const total = await countSource(def, env, start.cursor).catch(() => null)
    let state = initialState(start.cursor)
    for (let batch = 1; !state.done; batch++) {
      const before = state
      state = await ctx.step(`batch-${batch}`, async (tx) => {
        const after = await runBatch(def, env, before)
        if (incremental && after.cursor !== null && after.cursor !== before.cursor) await deps.cursors.save(tx, data.owner, def.name!, column!, after.cursor)
        return after
      })
      const fraction = total ? state.read / total : 0
      await ctx.progress(state.done ? 1 : fraction, `${state.read} rows read, ${state.written} written, ${state.rejected} rejected`)
    }
    return summaryOf(def, state)
  }
}
