// Structured reads and writes at a target that is either a registered source or a PostgREST upstream named by
// request headers (X-Athena-Client: custom_supabase): one function per operation picks local or upstream, so
// routes never branch on it. The same right is checked either way, before anything is sent.
import { requireRight, type Principal } from '../auth/principal.js'
import type { DeleteQuery, InsertQuery, ReadQuery, UpdateQuery } from '../query/ast.js'
import { resolveUpstreamResourceId } from '../query/plan/resolve-resource-id.js'
import type { Services } from '../services.js'
import type { Source } from '../sources/source.js'
import { forwardDelete, forwardInsert, forwardRead, forwardUpdate, upstreamFrom, type Upstream, type UpstreamResult } from '../upstream/postgrest-upstream.js'
import { readRows, type ReadOptions, type ReadOutcome } from './read-rows.js'
import { deleteRows, insertRows, updateRows, type WriteContext, type WriteResult } from './write-rows.js'

export type UpstreamHeaders = Readonly<Record<string, string | string[] | undefined>>

export type DataTarget =
  | { kind: 'source'; source: Source }
  /** custom_supabase: the upstream's URL and key are in these headers (x-supabase-url, x-supabase-key) */
  | { kind: 'upstream'; headers: UpstreamHeaders }

export interface TargetWriteContext extends Omit<WriteContext, 'source'> {
  target: DataTarget
}

/**
 * The upstream of a custom_supabase request, once the caller holds `right`: the right comes first, so a key
 * without it learns nothing about the headers or the upstream.
 */
function upstreamOf(services: Services, target: { headers: UpstreamHeaders }, principal: Principal, right: string, purpose: string): Upstream {
  requireRight(principal, right, purpose)
  return upstreamFrom(target.headers, {
    allowedHosts: services.config.gateway.upstreamAllowedHosts,
    timeoutMs: services.config.gateway.upstreamTimeoutMs,
    acquire: (host) => services.rateLimits.acquireOutbound(host),
  })
}

/** an upstream's answer in the shape of a local write: the rows it sent back are the rows written */
const asWrite = (forwarded: UpstreamResult): WriteResult => ({ body: forwarded.body, affected: forwarded.rows })

const localContext = (ctx: TargetWriteContext, source: Source): WriteContext => ({
  services: ctx.services, source, principal: ctx.principal, requestId: ctx.requestId, publishEvent: ctx.publishEvent,
})

/** a read; an upstream's rows come back as one page, never cached (another server owns them) */
export async function fetchRowsAt(services: Services, target: DataTarget, principal: Principal, ast: ReadQuery, opts: ReadOptions = {}): Promise<ReadOutcome> {
  if (target.kind === 'source') return readRows(services, target.source, principal, ast, opts)
  const forwarded = await forwardRead(upstreamOf(services, target, principal, 'gateway.read', 'read rows'), ast)
  return { kind: 'page', result: { body: forwarded.body, rows: forwarded.rows }, cached: false }
}

export async function insertRowsAt(ctx: TargetWriteContext, ast: InsertQuery): Promise<WriteResult> {
  const { target } = ctx
  if (target.kind === 'source') return insertRows(localContext(ctx, target.source), ast)
  return asWrite(await forwardInsert(upstreamOf(ctx.services, target, ctx.principal, 'gateway.insert', 'insert rows'), ast))
}

export async function updateRowsAt(ctx: TargetWriteContext, ast: UpdateQuery): Promise<WriteResult> {
  const { target } = ctx
  if (target.kind === 'source') return updateRows(localContext(ctx, target.source), ast)
  return asWrite(await forwardUpdate(upstreamOf(ctx.services, target, ctx.principal, 'gateway.update', 'update rows'), ast))
}

/** resource_id is resolved by the planner locally, and means an `id` column upstream */
export async function deleteRowsAt(ctx: TargetWriteContext, ast: DeleteQuery): Promise<WriteResult> {
  const { target } = ctx
  if (target.kind === 'source') return deleteRows(localContext(ctx, target.source), ast)
  const upstream = upstreamOf(ctx.services, target, ctx.principal, 'gateway.delete', 'delete rows')
  return asWrite(await forwardDelete(upstream, resolveUpstreamResourceId(ast)))
}
