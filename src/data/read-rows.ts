// Structured reads for every surface: rights, the fetch cache, planning and running, streaming large results.
import { requireOperation } from '../auth/operation-rights.js'
import type { RequestContext } from '../request-context.js'
import type { Source } from '../sources/source.js'
import type { DataDeps } from './data-deps.js'
import type { ReadQuery } from '../query/ast.js'
import { compilerFor, executorFor, plan, runnerFor } from '../query/pipeline.js'
import type { PlannedRead } from '../query/plan/types.js'
import { ResultCache } from '../query/result-cache.js'
import { pageRows, type ReadResult, type StreamedRead } from '../query/run/runner.js'
import type { Timings } from '../observability/timings.js'

// Rows fetched per cursor round trip while streaming: small chunks keep little in flight (measured: 250-row
// chunks hold the server's memory growth for a 1M-row read to about a third of what 1000-row chunks do).
const STREAM_CHUNK_ROWS = 250

export type ReadOutcome =
  | { kind: 'page'; result: ReadResult; cached: boolean; cacheKey?: string; plan?: PlannedRead }
  | { kind: 'stream'; stream: StreamedRead; plan: PlannedRead }

export interface ReadOptions {
  /** the request as the client sent it, for the cache key; omit to bypass the cache */
  cacheRequest?: unknown
  bypassCache?: boolean
  /** stream when no limit (or a large one) is given; otherwise read one page into memory */
  allowStream?: boolean
  timings?: Timings
}

/** HEAD: the headers of a read without its rows: the count, and how many rows the requested page would hold */
export interface HeadOutcome {
  kind: 'head'
  /** every matching row (the count mode asked for, else exact) */
  total: number
  /** the rows the page would hold */
  rows: number
}

/** every table a plan reads, so a write to any of them drops the cached result */
export function tablesRead(p: PlannedRead): string[] {
  const out = [p.table.name]
  for (const s of p.select) if (s.kind === 'embed') out.push(...tablesRead(s.child))
  return out
}

/**
 * With `noBody` (HEAD), the same checks as the read, then one count instead of the rows; the fetch cache holds
 * bodies only and is not consulted.
 */
export async function readRows(deps: DataDeps, ctx: RequestContext, ast: ReadQuery, opts: ReadOptions & { noBody: true }): Promise<HeadOutcome>
export async function readRows(deps: DataDeps, ctx: RequestContext, ast: ReadQuery, opts?: ReadOptions): Promise<ReadOutcome>
export async function readRows(deps: DataDeps, { source, principal }: RequestContext, ast: ReadQuery, opts: ReadOptions & { noBody?: boolean } = {}): Promise<ReadOutcome | HeadOutcome> {
  requireOperation(principal, 'rows.read')
  if (opts.noBody) return readHead(source, ast)
  const cache = deps.resultCache
  const cacheKey = opts.cacheRequest !== undefined && cache.enabled ? ResultCache.key(source.name, opts.cacheRequest) : undefined
  if (cacheKey && !opts.bypassCache) {
    const hit = cache.get(cacheKey)
    if (hit) {
      deps.metrics.fetchCache.inc({ result: 'hit' })
      return { kind: 'page', result: { body: hit.value, rows: hit.rows, total: hit.extra.total as number | undefined }, cached: true, cacheKey }
    }
    deps.metrics.fetchCache.inc({ result: 'miss' })
  }
  const timings = opts.timings
  let started = performance.now()
  // planning is synchronous once the schema is cached: awaiting it anyway would cost a turn of the queue
  const planning = plan(source, ast)
  const planned = planning instanceof Promise ? await planning : planning
  timings?.add('plan', performance.now() - started)
  const runner = runnerFor(source)
  const threshold = deps.config.gateway.streamThresholdRows
  const large = opts.allowStream && !planned.group && (planned.limit === undefined || planned.limit > threshold)
  if (large) {
    // Most unbounded reads are small: one capped query answers them; only when the cap is reached is the
    // read redone through a cursor, streamed with bounded memory.
    const cap = threshold + 1
    const probe = await readPage(source, { ...planned, limit: Math.min(planned.limit ?? cap, cap) }, timings)
    if (probe.rows < cap) {
      if (cacheKey) cache.set(cacheKey, source.name, tablesRead(planned), probe.body, probe.rows, { total: probe.total })
      return { kind: 'page', result: probe, cached: false, cacheKey, plan: planned }
    }
    started = performance.now()
    const outcome = await runner.readLarge(planned, STREAM_CHUNK_ROWS)
    timings?.add('stream', performance.now() - started)
    if ('stream' in outcome) return { kind: 'stream', stream: outcome.stream, plan: planned }
    return { kind: 'page', result: outcome.small, cached: false, plan: planned }
  }
  const result = await readPage(source, planned, timings)
  if (cacheKey) cache.set(cacheKey, source.name, tablesRead(planned), result.body, result.rows, { total: result.total })
  return { kind: 'page', result, cached: false, cacheKey, plan: planned }
}

/** one page: compile and execute as two timed stages, so Server-Timing shows what each cost */
function readPage(source: Source, planned: PlannedRead, timings: Timings | undefined): Promise<ReadResult> {
  const started = performance.now()
  const compiled = compilerFor(source).read(planned, planned.count)
  const compiledAt = performance.now()
  timings?.add('compile', compiledAt - started)
  const reading = executorFor(source).read(compiled)
  return timings ? reading.then((r) => { timings.add('execute', performance.now() - compiledAt); return r }) : reading
}

async function readHead(source: Source, ast: ReadQuery): Promise<HeadOutcome> {
  // the count covers every matching row; the page's size follows from it without reading rows
  const planned = await plan(source, { ...ast, limit: undefined, offset: undefined })
  const total = await runnerFor(source).count(planned, ast.count ?? 'exact')
  return { kind: 'head', total, rows: pageRows(total, ast.offset ?? 0, ast.limit) }
}

export async function countRows({ source, principal }: RequestContext, ast: ReadQuery): Promise<number> {
  requireOperation(principal, 'rows.count')
  const planned = await plan(source, ast)
  return runnerFor(source).count(planned, 'exact')
}
