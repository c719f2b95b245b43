// Structured writes for every surface: rights, frozen clients, planning and running, cache invalidation, events.
import { requireRight, type Principal } from '../auth/principal.js'
import { AppError } from '../errors/app-error.js'
import type { RowEvent } from '../events/event-bus.js'
import type { Services } from '../services.js'
import type { Source } from '../sources/source.js'
import { STAR, type DeleteQuery, type InsertQuery, type UpdateQuery } from '../query/ast.js'
import { plan, runnerFor } from '../query/pipeline.js'
import type { MutationOptions, MutationResult } from '../query/run/runner.js'
import type { PlannedInsert, PlannedMutation } from '../query/plan/types.js'

export interface WriteContext {
  services: Services
  source: Source
  principal: Principal
  requestId?: string
  /** X-Publish-Event: publish the written rows under this name */
  publishEvent?: string
}

/** a frozen client keeps serving reads but refuses every write and DDL (423 Locked) */
export function assertWritable(source: Source): void {
  if (source.frozen) {
    throw new AppError('client_frozen', `client "${source.name}" is frozen: reads are served, writes are refused`, {
      hint: 'an administrator can unfreeze it with PUT /admin/clients/{client_name}/freeze',
    })
  }
}

export interface WriteResult extends MutationResult {
  /** the primary key of the first written row, as [column, value] pairs, when the insert asked for it (`location`) */
  location?: Array<[string, unknown]>
}

/** the key of the first written row, read from the returned rows (the planner made sure they hold it) */
function locationOf(planned: PlannedMutation, body: string): WriteResult['location'] {
  if (planned.kind !== 'insert' || !planned.location) return undefined
  const first = (JSON.parse(body) as Array<Record<string, unknown>>)[0]
  return first ? planned.location.map((k) => [k, first[k]]) : undefined
}

async function write<Q extends InsertQuery | UpdateQuery | DeleteQuery>(
  ctx: WriteContext,
  ast: Q,
  type: RowEvent['type'],
  run: (planned: PlannedMutation) => Promise<MutationResult>,
): Promise<WriteResult> {
  assertWritable(ctx.source)
  // publishing needs the written rows even when the caller asked for none back
  const withRows = ctx.publishEvent && ast.returning === null ? { ...ast, returning: [STAR] } : ast
  const planned = (await plan(ctx.source, withRows as never)) as unknown as PlannedMutation
  const result = await run(planned)
  const table = planned.table.name
  if (ctx.services.resultCache.invalidate(ctx.source.name, table) > 0) ctx.services.metrics.fetchCache.inc({ result: 'invalidated' })
  if (ctx.publishEvent) {
    ctx.services.events.publish({
      type,
      source: ctx.source.name,
      table,
      rows: JSON.parse(result.body),
      name: ctx.publishEvent,
      requestId: ctx.requestId,
      at: new Date().toISOString(),
    })
  }
  const location = locationOf(planned, result.body)
  const written: WriteResult = ctx.publishEvent && ast.returning === null ? { body: '[]', affected: result.affected } : result
  return location ? { ...written, location } : written
}

/**
 * An insert of no rows passes every check of a write (right, frozen client, table, writable) and then runs
 * nothing: no statement could insert zero rows without inventing one (`DEFAULT VALUES`).
 */
export function insertRows(ctx: WriteContext, ast: InsertQuery, opts: MutationOptions = {}): Promise<WriteResult> {
  requireRight(ctx.principal, 'gateway.insert', 'insert rows')
  if (ast.onConflict?.action === 'merge') requireRight(ctx.principal, 'gateway.update', 'update rows on conflict (upsert)')
  return write(ctx, ast, 'row.inserted', (p) => ((p as PlannedInsert).rows.length ? runnerFor(ctx.source).insert(p as PlannedInsert, opts) : nothingWritten(opts)))
}

export function updateRows(ctx: WriteContext, ast: UpdateQuery, opts: MutationOptions = {}): Promise<WriteResult> {
  requireRight(ctx.principal, 'gateway.update', 'update rows')
  return write(ctx, ast, 'row.updated', (p) => runnerFor(ctx.source).update(p as never, opts))
}

export function deleteRows(ctx: WriteContext, ast: DeleteQuery, opts: MutationOptions = {}): Promise<WriteResult> {
  requireRight(ctx.principal, 'gateway.delete', 'delete rows')
  return write(ctx, ast, 'row.deleted', (p) => runnerFor(ctx.source).delete(p as never, opts))
}

async function nothingWritten(opts: MutationOptions): Promise<MutationResult> {
  const result = { body: '[]', affected: 0 }
  opts.verify?.(result)
  return result
}
