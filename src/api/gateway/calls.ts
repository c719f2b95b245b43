// One structured gateway call (fetch, count, insert, update, delete) from its body to the answer's parts: the same
// code serves the synchronous routes and deferred requests (src/deferred/), so a deferred request's answer is
// the body the synchronous call would have sent. Framework-free: routes and jobs hand in a RequestContext.
import type { Operation } from '../../auth/operation-rights.js'
import { countRows } from '../../data/read-rows.js'
import { deleteRowsAt, fetchRowsAt, insertRowsAt, updateRowsAt, type DataTarget } from '../../data/data-target.js'
import type { DataDeps } from '../../data/data-deps.js'
import type { Timings } from '../../observability/timings.js'
import type { DeleteQuery, InsertQuery, ReadQuery, UpdateQuery } from '../../query/ast.js'
import {
  parseAthenaDelete, parseAthenaFetch, parseAthenaInsert, parseAthenaUpdate,
  type AthenaDeleteBody, type AthenaFetchBody, type AthenaInsertBody,
} from '../../query/parse/athena.js'
import type { StreamedRead } from '../../query/run/runner.js'
import type { RequestContext } from '../../request-context.js'
import { plural } from './respond.js'

/** the structured calls, by the route operation that makes them */
export const CALL_OPERATIONS = {
  'gateway.fetch': 'fetch',
  'gateway.update': 'update',
  'gateway.insert': 'insert',
  'gateway.delete': 'delete',
  'query.count': 'count',
} as const

export type CallKind = (typeof CALL_OPERATIONS)[keyof typeof CALL_OPERATIONS]

export interface GatewayCall {
  kind: CallKind
  /** the request body as the route validated it */
  body: unknown
  /** X-Strip-Nulls */
  stripNulls?: boolean
  /** X-Publish-Event (writes) */
  publishEvent?: string
  /** the JSON text `body` was parsed from, when the call came over HTTP (an insert hands it to PostgreSQL) */
  bodyText?: string | null
  /** Prefer: return=minimal: a write sends no rows back, like `head: true` in its body (reads ignore it) */
  returnMinimal?: boolean
}

export type ParsedCall =
  | { kind: 'fetch'; ast: ReadQuery; body: AthenaFetchBody; stripNulls?: boolean }
  | { kind: 'count'; ast: ReadQuery }
  | { kind: 'insert'; ast: InsertQuery; publishEvent?: string }
  | { kind: 'update'; ast: UpdateQuery; publishEvent?: string }
  | { kind: 'delete'; ast: DeleteQuery; publishEvent?: string }

export type CallReply =
  | { kind: 'page'; message: string; dataJson: string; extra: Record<string, unknown>; cached?: boolean }
  | { kind: 'stream'; message: string; stream: StreamedRead; extra: Record<string, unknown> }

/** syntax only (names are the planner's): a malformed call is refused before anything runs or is queued */
export function parseCall(call: GatewayCall): ParsedCall {
  const { stripNulls, publishEvent, returnMinimal } = call
  switch (call.kind) {
    case 'fetch':
      return { kind: 'fetch', ast: parseAthenaFetch(call.body as AthenaFetchBody, stripNulls), body: call.body as AthenaFetchBody, stripNulls }
    case 'count': {
      const body = call.body as AthenaFetchBody
      return { kind: 'count', ast: parseAthenaFetch({ ...body, limit: undefined, offset: undefined, page_size: undefined }) }
    }
    case 'insert':
      return { kind: 'insert', ast: parseAthenaInsert(call.body as AthenaInsertBody, stripNulls, call.bodyText, returnMinimal), publishEvent }
    case 'update': {
      // POST /gateway/update without update_body is a read, with the payload of /gateway/fetch
      const body = call.body as AthenaFetchBody
      if (body.update_body === undefined) return parseCall({ kind: 'fetch', body, stripNulls })
      return { kind: 'update', ast: parseAthenaUpdate(body, stripNulls, returnMinimal), publishEvent }
    }
    case 'delete':
      return { kind: 'delete', ast: parseAthenaDelete(call.body as AthenaDeleteBody | undefined, returnMinimal), publishEvent }
  }
}

/** an insert, update or delete (POST /gateway/update without update_body is a fetch) */
export const isWrite = (parsed: ParsedCall): boolean => parsed.ast.kind !== 'read'

/** the operations (rights) a call needs; the services check them again when the call runs */
export function operationsOf(parsed: ParsedCall): Operation[] {
  switch (parsed.kind) {
    case 'fetch': return ['rows.read']
    case 'count': return ['rows.count']
    case 'insert': return parsed.ast.onConflict?.action === 'merge' ? ['rows.insert', 'rows.upsert'] : ['rows.insert']
    case 'update': return ['rows.update']
    case 'delete': return ['rows.delete']
  }
}

export const tableOf = (parsed: ParsedCall): string => parsed.ast.relation.name

export interface RunOptions {
  timings?: Timings
  /** Cache-Control: no-cache on a fetch */
  bypassCache?: boolean
  /** a large fetch may answer with a stream of rows */
  allowStream?: boolean
}

/** runs the call at `target` and returns the message, data and extra fields of its success envelope */
export async function runCall(deps: DataDeps, ctx: RequestContext, target: DataTarget, parsed: ParsedCall, opts: RunOptions = {}): Promise<CallReply> {
  switch (parsed.kind) {
    case 'fetch': {
      const { body, stripNulls } = parsed
      const outcome = await fetchRowsAt(deps, ctx, target, parsed.ast, {
        cacheRequest: { body, strip: stripNulls },
        bypassCache: opts.bypassCache,
        allowStream: opts.allowStream,
        timings: opts.timings,
      })
      const totalPages = (total: number | undefined) => (body.page_size && total !== undefined ? Math.ceil(total / body.page_size) : undefined)
      if (outcome.kind === 'stream') {
        const { stream } = outcome
        return { kind: 'stream', message: `Fetched ${plural(stream.rows, 'row')}`, stream, extra: { total_pages: totalPages(stream.total) } }
      }
      const { result } = outcome
      return {
        kind: 'page',
        message: `Fetched ${plural(result.rows, 'row')}`,
        dataJson: result.body,
        extra: { cache_key: outcome.cacheKey ?? null, total_pages: totalPages(result.total) },
        cached: outcome.cached,
      }
    }
    case 'count': {
      const count = await countRows(ctx, parsed.ast)
      return { kind: 'page', message: `Counted ${plural(count, 'row')}`, dataJson: JSON.stringify({ count, table_name: parsed.ast.relation.name }), extra: {} }
    }
    case 'insert': {
      const result = await insertRowsAt(deps, ctx, target, parsed.ast, { publishEvent: parsed.publishEvent })
      return { kind: 'page', message: `${parsed.ast.onConflict ? 'Upserted' : 'Inserted'} ${plural(result.affected, 'row')}`, dataJson: result.body, extra: {} }
    }
    case 'update': {
      const result = await updateRowsAt(deps, ctx, target, parsed.ast, { publishEvent: parsed.publishEvent })
      return { kind: 'page', message: `Updated ${plural(result.affected, 'row')}`, dataJson: result.body, extra: {} }
    }
    case 'delete': {
      const result = await deleteRowsAt(deps, ctx, target, parsed.ast, { publishEvent: parsed.publishEvent })
      return { kind: 'page', message: `Deleted ${plural(result.affected, 'row')}`, dataJson: result.body, extra: {} }
    }
  }
}
