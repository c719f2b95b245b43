// Structured writes for every surface: rights, frozen clients, planning and running, cache invalidation, and
// X-Publish-Event through the outbox (published if and only if the source commits), and change events for
// realtime subscribers of the table.
import { requireOperation } from '../auth/operation-rights.js'
import { AppError } from '../errors/app-error.js'
import type { ChangeEventType, ChangeEventV1, NewEvent, RowEventType, RowEventV1 } from '../outbox/events.js'
import type { RequestContext } from '../request-context.js'
import type { DataDeps } from './data-deps.js'
import type { Source } from '../sources/source.js'
import { STAR, type DeleteQuery, type InsertQuery, type UpdateQuery } from '../query/ast.js'
import { plan, runnerFor } from '../query/pipeline.js'
import type { AnnounceHook, MutationOptions, MutationResult } from '../query/run/runner.js'
import type { PlannedInsert, PlannedMutation } from '../query/plan/types.js'

export interface WriteOptions extends MutationOptions {
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

const CHANGE_TYPES: Record<RowEventType, ChangeEventType> = { 'row.inserted': 'change.inserted', 'row.updated': 'change.updated', 'row.deleted': 'change.deleted' }

async function write<Q extends InsertQuery | UpdateQuery | DeleteQuery>(
  deps: DataDeps,
  ctx: RequestContext,
  name: string | undefined,
  ast: Q,
  type: RowEventType,
  run: (planned: PlannedMutation, announce?: AnnounceHook) => Promise<MutationResult>,
): Promise<WriteResult> {
  assertWritable(ctx.source)
  // publishing needs the written rows even when the caller asked for none back
  const withRows = () => ({ ...ast, returning: [STAR] })
  let planned = (await plan(ctx.source, (name && ast.returning === null ? withRows() : ast) as never)) as unknown as PlannedMutation
  const table = planned.table.name
  // a Set lookup: a table nobody listens to is written exactly as before. A captured table's changes come from
  // the database's own trigger, so only a table with subscribers and no capture needs Atrium's change event.
  const watch = deps.changeWatch.stateOf(ctx.source.name, table)
  const draft = name
    ? (r: MutationResult) => rowEvent(ctx, type, name, table, r, watch === 'captured')
    : watch === 'subscribed' ? (r: MutationResult) => changeEvent(ctx, CHANGE_TYPES[type], table, r) : undefined
  if (draft && !name && ast.returning === null) planned = (await plan(ctx.source, withRows() as never)) as unknown as PlannedMutation
  // a write that publishes nothing never touches the catalog
  const result = draft
    ? await deps.outbox.sourceWrites.write(ctx.source, draft, (announce) => run(planned, announce))
    : await run(planned)
  if (deps.resultCache.invalidate(ctx.source.name, table) > 0) deps.metrics.fetchCache.inc({ result: 'invalidated' })
  const location = locationOf(planned, result.body)
  const written: WriteResult = draft && ast.returning === null ? { body: '[]', affected: result.affected } : result
  return location ? { ...written, location } : written
}

/** version 1 of a row event; a write that changed no row publishes nothing */
function rowEvent(ctx: RequestContext, type: RowEventType, name: string, table: string, result: MutationResult, captured: boolean): NewEvent<RowEventV1> | null {
  if (result.affected === 0) return null
  const payload: RowEventV1 = { type, version: 1, name, source: ctx.source.name, table, rows: JSON.parse(result.body) as unknown[], request_id: ctx.requestId ?? null }
  if (captured) payload.captured = true
  return { payload, source: ctx.source.name, requestId: ctx.requestId ?? null }
}

/** version 1 of a change event of a write through Atrium (the rows before an update are not known here) */
function changeEvent(ctx: RequestContext, type: ChangeEventType, table: string, result: MutationResult): NewEvent<ChangeEventV1> | null {
  if (result.affected === 0) return null
  return {
    payload: { type, version: 1, origin: 'atrium', source: ctx.source.name, table, rows: JSON.parse(result.body) as unknown[], old_rows: null, request_id: ctx.requestId ?? null },
    source: ctx.source.name,
    requestId: ctx.requestId ?? null,
  }
}

/**
 * An insert of no rows passes every check of a write (right, frozen client, table, writable) and then runs
 * nothing: no statement could insert zero rows without inventing one (`DEFAULT VALUES`).
 */
export function insertRows(deps: DataDeps, ctx: RequestContext, ast: InsertQuery, { publishEvent, ...opts }: WriteOptions = {}): Promise<WriteResult> {
  requireOperation(ctx.principal, 'rows.insert')
  if (ast.onConflict?.action === 'merge') requireOperation(ctx.principal, 'rows.upsert')
  return write(deps, ctx, publishEvent, ast, 'row.inserted', (p, announce) => ((p as PlannedInsert).rows.length ? runnerFor(ctx.source).insert(p as PlannedInsert, withAnnounce(opts, announce)) : nothingWritten(opts)))
}

export function updateRows(deps: DataDeps, ctx: RequestContext, ast: UpdateQuery, { publishEvent, ...opts }: WriteOptions = {}): Promise<WriteResult> {
  requireOperation(ctx.principal, 'rows.update')
  return write(deps, ctx, publishEvent, ast, 'row.updated', (p, announce) => runnerFor(ctx.source).update(p as never, withAnnounce(opts, announce)))
}

export function deleteRows(deps: DataDeps, ctx: RequestContext, ast: DeleteQuery, { publishEvent, ...opts }: WriteOptions = {}): Promise<WriteResult> {
  requireOperation(ctx.principal, 'rows.delete')
  return write(deps, ctx, publishEvent, ast, 'row.deleted', (p, announce) => runnerFor(ctx.source).delete(p as never, withAnnounce(opts, announce)))
}

/** the caller's options, plus the outbox's hook only when the write publishes an event */
function withAnnounce(opts: MutationOptions, announce: AnnounceHook | undefined): MutationOptions {
  return announce ? { ...opts, announce } : opts
}

async function nothingWritten(opts: MutationOptions): Promise<MutationResult> {
  const result = { body: '[]', affected: 0 }
  opts.verify?.(result)
  return result
}
