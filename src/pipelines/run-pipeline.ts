// One batch of a pipeline at a time: read the next rows from the source (a table through the structured read
// path, or a read-only query through the raw-SQL path), transform them, and write them to the sink through
// the structured write path (one statement, so one transaction, per batch). The same code simulates: it then
// writes nothing and keeps a sample. The state between batches is plain JSON, so a job can store it per step.
import { AppError } from '../errors/app-error.js'
import type { DataDeps } from '../data/data-deps.js'
import { countRows, readRows } from '../data/read-rows.js'
import { runRawSql } from '../data/run-raw-sql.js'
import { insertRows } from '../data/write-rows.js'
import type { Filter, InsertQuery, OrderTerm, ReadQuery } from '../query/ast.js'
import { parseAthenaFetch, relationOf } from '../query/parse/athena.js'
import { parseField } from '../query/parse/grammar.js'
import { plan } from '../query/pipeline.js'
import type { RequestContext } from '../request-context.js'
import type { PipelineDefinition } from './definition.js'
import type { EvalContext, Row } from './expression-eval.js'
import { transformRow } from './transform-rows.js'

export interface Rejection {
  reason: string
  row: Row
}

export interface RunState {
  /** the cursor column's value of the last row read (null: none read yet) */
  cursor: unknown
  /** rows read so far (the offset of the next page when there is no cursor column) */
  read: number
  written: number
  rejected: number
  filtered: number
  batches: number
  /** the first rejected rows with their reasons (at most pipelines.maxRejectedRows) */
  rejections: Rejection[]
  done: boolean
}

export interface RunEnv {
  data: DataDeps
  /** the caller, about the source client */
  sourceCtx: RequestContext
  /** the caller, about the sink client; null when simulating */
  sinkCtx: RequestContext | null
  evalCtx: EvalContext
  maxRejections: number
  /** simulating: the output rows kept, up to `sampleSize` */
  sample?: Row[]
  sampleSize?: number
  /** a query source's rows, read once per process run */
  queryRows?: Row[]
}

export function initialState(cursor: unknown): RunState {
  return { cursor: cursor ?? null, read: 0, written: 0, rejected: 0, filtered: 0, batches: 0, rejections: [], done: false }
}

/** the read of one page of a table source: after the cursor (in its order), or by offset in primary-key order */
async function tableRead(def: PipelineDefinition, env: RunEnv, state: RunState, limit: number): Promise<ReadQuery> {
  const { source } = def
  const base = parseAthenaFetch({ table_name: source.table_name, view_name: source.view_name, columns: source.columns, conditions: source.conditions })
  if (source.cursor_column) {
    const field = parseField(source.cursor_column, 'invalid_pipeline')
    const after: Filter[] = state.cursor === null ? [] : [{ kind: 'cond', field, op: 'gt', negated: false, value: { kind: 'scalar', value: state.cursor } }]
    return { ...base, where: [...base.where, ...after], order: [{ field, direction: 'asc' }], limit }
  }
  // offsets are stable only in a fixed order: the primary key's (a keyless view is read in the database's order)
  const planned = await plan(env.sourceCtx.source, base)
  const order: OrderTerm[] = planned.table.primaryKey.map((column) => ({ field: { column, json: [] }, direction: 'asc' }))
  return { ...base, order, limit, offset: state.read }
}

/** how many rows a run will read, for progress; null when it cannot tell cheaply */
export async function countSource(def: PipelineDefinition, env: RunEnv, cursor: unknown): Promise<number | null> {
  if (def.source.query !== undefined) return null
  const read = await tableRead(def, env, initialState(cursor), 1)
  const total = await countRows(env.sourceCtx, { ...read, order: [], limit: undefined, offset: undefined })
  return def.source.limit === undefined ? total : Math.min(total, def.source.limit)
}

const isNumeric = (v: unknown) => typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))
/** cursor order for query rows: numbers as numbers, everything else as text (ISO timestamps sort as text) */
function cursorCompare(a: unknown, b: unknown): number {
  if (isNumeric(a) && isNumeric(b)) return Number(a) - Number(b)
  const x = String(a), y = String(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** a read-only query runs once (its rows capped by gateway.rawSql); batches are slices of its rows */
async function queryPage(def: PipelineDefinition, env: RunEnv, state: RunState, limit: number): Promise<Row[]> {
  if (!env.queryRows) {
    const outcome = await runRawSql(env.data, env.sourceCtx, def.source.query!, { readOnly: true })
    if (outcome.truncated) {
      throw new AppError('invalid_pipeline', `the source query returned more rows than a raw-SQL result may hold (gateway.rawSql caps it at ${outcome.returned})`, {
        hint: 'read a table source (table_name) instead, which is paged; or narrow the query',
      })
    }
    env.queryRows = JSON.parse(outcome.data) as Row[]
  }
  const column = def.source.cursor_column
  if (!column) return env.queryRows.slice(state.read, state.read + limit)
  const rows = env.queryRows.filter((r) => r[column] !== null && r[column] !== undefined && (state.cursor === null || cursorCompare(r[column], state.cursor) > 0))
  return rows.sort((a, b) => cursorCompare(a[column], b[column])).slice(0, limit)
}

async function readPage(def: PipelineDefinition, env: RunEnv, state: RunState, limit: number): Promise<Row[]> {
  if (def.source.query !== undefined) return queryPage(def, env, state, limit)
  const outcome = await readRows(env.data, env.sourceCtx, await tableRead(def, env, state, limit))
  if (outcome.kind !== 'page') throw new Error('a bounded read came back as a stream')
  return JSON.parse(outcome.result.body) as Row[]
}

function insertOf(def: PipelineDefinition, rows: Row[]): InsertQuery {
  const { sink } = def
  return {
    kind: 'insert',
    relation: relationOf({ table_name: sink.table_name }),
    rows,
    missing: 'null',
    onConflict: sink.mode === 'upsert' ? { columns: sink.key, action: 'merge' } : undefined,
    returning: null,
  }
}

/**
 * Writes one batch in one statement. When the database refuses it for a row's data (a constraint, a value the
 * column cannot hold), the rows are written one by one so that only the bad ones are rejected, each with the
 * database's reason; refusals that are not about the data (rights, unknown table or column) fail the run.
 */
async function writeBatch(def: PipelineDefinition, env: RunEnv, ctx: RequestContext, rows: Row[], state: RunState): Promise<void> {
  const isDataError = (err: unknown) => err instanceof AppError && err.status < 500 && err.spec.stage === 'execute'
  try {
    // upserts count an updated row twice on MySQL: every row of a written batch is one row written
    await insertRows(env.data, ctx, insertOf(def, rows))
    state.written += rows.length
    return
  } catch (err) {
    if (!isDataError(err) || rows.length === 1) {
      if (rows.length === 1 && isDataError(err)) return reject(env, state, rows[0]!, (err as Error).message)
      throw err
    }
  }
  for (const row of rows) {
    try {
      await insertRows(env.data, ctx, insertOf(def, [row]))
      state.written++
    } catch (err) {
      if (!isDataError(err)) throw err
      reject(env, state, row, (err as Error).message)
    }
  }
}

function reject(env: RunEnv, state: RunState, row: Row, reason: string): void {
  state.rejected++
  if (state.rejections.length < env.maxRejections) state.rejections.push({ reason, row })
}

/** reads, transforms and (unless simulating) writes the next batch; returns the state after it */
export async function runBatch(def: PipelineDefinition, env: RunEnv, before: RunState): Promise<RunState> {
  const state: RunState = { ...before, rejections: [...before.rejections] }
  const remaining = def.source.limit === undefined ? def.batchSize : Math.min(def.batchSize, def.source.limit - state.read)
  if (remaining <= 0) return { ...state, done: true }
  const rows = await readPage(def, env, state, remaining)
  const column = def.source.cursor_column
  if (column && rows.length && !Object.hasOwn(rows[0]!, column)) {
    throw new AppError('invalid_pipeline', `source rows have no cursor column "${column}"`, { hint: 'source.columns must include the cursor_column' })
  }
  state.read += rows.length
  if (rows.length) state.batches++
  if (column && rows.length) state.cursor = rows[rows.length - 1]![column] ?? state.cursor
  const out: Row[] = []
  for (const row of rows) {
    const outcome = transformRow(def.steps, row, env.evalCtx)
    if (outcome.kind === 'kept') out.push(outcome.row)
    else if (outcome.kind === 'filtered') state.filtered++
    else reject(env, state, row, outcome.reason)
  }
  if (env.sinkCtx) {
    if (out.length) await writeBatch(def, env, env.sinkCtx, out, state)
  } else {
    state.written += out.length
    if (env.sample) env.sample.push(...out.slice(0, Math.max(0, (env.sampleSize ?? 0) - env.sample.length)))
  }
  state.done = rows.length < remaining || (def.source.limit !== undefined && state.read >= def.source.limit)
  return state
}
