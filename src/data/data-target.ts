// Structured reads and writes at a target that is either a registered source or a PostgREST upstream named by
// request headers (X-Athena-Client: custom_supabase): one function per operation picks local or upstream, so
// routes never branch on it. The same right is checked either way, before anything is sent.
import { requireOperation, type Operation } from '../auth/operation-rights.js'
import type { DeleteQuery, InsertQuery, ReadQuery, UpdateQuery } from '../query/ast.js'
import { resolveUpstreamResourceId } from '../query/plan/resolve-resource-id.js'
import type { RequestContext } from '../request-context.js'
import type { DataDeps } from './data-deps.js'
import { forwardDelete, forwardInsert, forwardRead, forwardUpdate, upstreamFrom, type Upstream, type UpstreamResult } from '../upstream/postgrest-upstream.js'
import { readRows, type ReadOptions, type ReadOutcome } from './read-rows.js'
import { deleteRows, insertRows, updateRows, type WriteOptions, type WriteResult } from './write-rows.js'

export type UpstreamHeaders = Readonly<Record<string, string | string[] | undefined>>

export type DataTarget =
  /** the request context's own source */
  | { kind: 'source' }
  /** custom_supabase: the upstream's URL and key are in these headers (x-supabase-url, x-supabase-key) */
  | { kind: 'upstream'; headers: UpstreamHeaders }

/**
 * The upstream of a custom_supabase request, once the caller may do `operation`: the right comes first, so a
 * key without it learns nothing about the headers or the upstream.
 */
function upstreamOf(deps: DataDeps, target: { headers: UpstreamHeaders }, ctx: RequestContext, operation: Operation): Upstream {
  requireOperation(ctx.principal, operation)
  return upstreamFrom(target.headers, {
    allowedHosts: deps.config.gateway.upstreamAllowedHosts,
    timeoutMs: deps.config.gateway.upstreamTimeoutMs,
    acquire: (host) => deps.rateLimits.acquireOutbound(host),
  })
}

/** an upstream's answer in the shape of a local write: the rows it sent back are the rows written */
const asWrite = (forwarded: UpstreamResult): WriteResult => ({ body: forwarded.body, affected: forwarded.rows })

/** a read; an upstream's rows come back as one page, never cached (another server owns them) */
export async function fetchRowsAt(deps: DataDeps, ctx: RequestContext, target: DataTarget, ast: ReadQuery, opts: ReadOptions = {}): Promise<ReadOutcome> {
  if (target.kind === 'source') return readRows(deps, ctx, ast, opts)
  const forwarded = await forwardRead(upstreamOf(deps, target, ctx, 'rows.read'), ast)
  return { kind: 'page', result: { body: forwarded.body, rows: forwarded.rows }, cached: false }
}

export async function insertRowsAt(deps: DataDeps, ctx: RequestContext, target: DataTarget, ast: InsertQuery, opts?: WriteOptions): Promise<WriteResult> {
  if (target.kind === 'source') return insertRows(deps, ctx, ast, opts)
  // a merging upsert updates rows: it needs the update right upstream as it does locally
  if (ast.onConflict?.action === 'merge') requireOperation(ctx.principal, 'rows.upsert')
  return asWrite(await forwardInsert(upstreamOf(deps, target, ctx, 'rows.insert'), ast))
}

export async function updateRowsAt(deps: DataDeps, ctx: RequestContext, target: DataTarget, ast: UpdateQuery, opts?: WriteOptions): Promise<WriteResult> {
  if (target.kind === 'source') return updateRows(deps, ctx, ast, opts)
  return asWrite(await forwardUpdate(upstreamOf(deps, target, ctx, 'rows.update'), ast))
}

/** resource_id is resolved by the planner locally, and means an `id` column upstream */
export async function deleteRowsAt(deps: DataDeps, ctx: RequestContext, target: DataTarget, ast: DeleteQuery, opts?: WriteOptions): Promise<WriteResult> {
  if (target.kind === 'source') return deleteRows(deps, ctx, ast, opts)
  const upstream = upstreamOf(deps, target, ctx, 'rows.delete')
  return asWrite(await forwardDelete(upstream, resolveUpstreamResourceId(ast)))
}
