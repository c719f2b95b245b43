// What a pipeline is: its JSON shape (TypeBox, shared by the route, the configuration's templates and the job),
// and the check that turns one into a compiled definition: a template merged with the request's overrides,
// every transform step known, every expression parsed. Errors are 400s naming the step and the position.
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { AppError } from '../errors/app-error.js'
import { parseColumns } from '../query/parse/athena.js'
import { ExpressionError, parseExpression, type Expr } from './expression-parser.js'

export const CAST_TYPES = ['text', 'integer', 'number', 'boolean', 'date', 'timestamp', 'json'] as const
export type CastType = (typeof CAST_TYPES)[number]

const Name = Type.String({ minLength: 1, maxLength: 128 })
const ColumnMap = <T extends TSchema>(value: T) => Type.Record(Type.String({ minLength: 1, maxLength: 128 }), value, { minProperties: 1 })

const Condition = Type.Object({
  eq_column: Type.Optional(Type.String()),
  eq_value: Type.Optional(Type.Unknown()),
  column: Type.Optional(Type.String()),
  operator: Type.Optional(Type.String()),
  value: Type.Optional(Type.Unknown()),
})

export const PipelineSourceSchema = Type.Object({
  client: Type.Optional(Type.String({ minLength: 1, description: 'the client to read from (default: X-Athena-Client)' })),
  table_name: Type.Optional(Name),
  view_name: Type.Optional(Name),
  query: Type.Optional(Type.String({ minLength: 1, maxLength: 100_000, description: 'a read-only SQL query instead of a table' })),
  columns: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  conditions: Type.Optional(Type.Array(Condition, { maxItems: 100 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, description: 'read at most this many rows' })),
  cursor_column: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'an increasing column: rows are read in its order, and a named pipeline continues after the last value it copied' })),
}, { additionalProperties: false })

export const PipelineStepSchema = Type.Union([
  Type.Object({ rename: ColumnMap(Type.String({ minLength: 1, maxLength: 128 })) }, { additionalProperties: false }),
  Type.Object({ cast: ColumnMap(Type.Union(CAST_TYPES.map((c) => Type.Literal(c)))) }, { additionalProperties: false }),
  Type.Object({ map: ColumnMap(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
  Type.Object({ derive: ColumnMap(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
  Type.Object({ filter: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  Type.Object({ drop: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1 }) }, { additionalProperties: false }),
])

export const PipelineSinkSchema = Type.Object({
  client: Type.Optional(Type.String({ minLength: 1, description: 'the client to write to (default: X-Athena-Client)' })),
  table_name: Type.Optional(Name),
  mode: Type.Optional(Type.Union([Type.Literal('insert'), Type.Literal('upsert')], { description: 'insert (default) or upsert on key' })),
  key: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, description: 'the upsert conflict columns (default: the primary key)' })),
}, { additionalProperties: false })

/** a template in the configuration: a whole pipeline but the request-only fields */
export const PipelineTemplateSchema = Type.Object({
  description: Type.Optional(Type.String()),
  source: PipelineSourceSchema,
  transforms: Type.Optional(Type.Array(PipelineStepSchema, { maxItems: 100 })),
  sink: PipelineSinkSchema,
  batch_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
}, { additionalProperties: false })

export const PipelineRequestSchema = Type.Object({
  pipeline: Type.Optional(Type.String({ minLength: 1, description: 'a template from pipelines.templates; the other fields override it' })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$', description: 'names the pipeline, so an incremental run continues after the last cursor value (default: the template\'s name)' })),
  source: Type.Optional(Type.Partial(PipelineSourceSchema)),
  transforms: Type.Optional(Type.Array(PipelineStepSchema, { maxItems: 100 })),
  transform: Type.Optional(Type.Object({
    column_aliases: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), { description: 'source column → sink column (a rename applied after the transforms)' })),
  }, { additionalProperties: false })),
  sink: Type.Optional(Type.Partial(PipelineSinkSchema)),
  batch_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  dry_run: Type.Optional(Type.Boolean({ description: 'POST /pipelines: run like /pipelines/simulate, writing nothing' })),
}, { additionalProperties: false })

export type PipelineTemplate = Static<typeof PipelineTemplateSchema>
export type PipelineRequest = Static<typeof PipelineRequestSchema>
export type PipelineSource = Static<typeof PipelineSourceSchema>
export type PipelineSink = Static<typeof PipelineSinkSchema>
type StepJson = Static<typeof PipelineStepSchema>

export type Step =
  | { kind: 'rename'; columns: Array<[string, string]> }
  | { kind: 'cast'; columns: Array<[string, CastType]> }
  | { kind: 'map' | 'derive'; columns: Array<[string, Expr]> }
  | { kind: 'filter'; expr: Expr }
  | { kind: 'drop'; columns: string[] }

/** a checked pipeline: JSON (what the job stores and re-checks) plus its compiled steps */
export interface PipelineDefinition {
  /** the incremental cursor's name; null: runs start from the beginning */
  name: string | null
  template: string | null
  source: PipelineSource & { client: string }
  sink: PipelineSink & { client: string; table_name: string; mode: 'insert' | 'upsert' }
  transforms: StepJson[]
  batchSize: number
  steps: Step[]
}

const invalid = (message: string, hint?: string) => new AppError('invalid_pipeline', message, hint ? { hint } : {})

/** parses an expression of step `index`, turning a syntax error into a 400 that points at it */
function compileExpression(text: string, where: string): Expr {
  try {
    return parseExpression(text)
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err
    const caret = `${text}\n${' '.repeat(Math.min(err.position, text.length))}^`
    throw new AppError('invalid_expression', `${where}: ${err.message} (at position ${err.position})`, {
      detail: caret,
      data: { expression: text, position: err.position, step: where },
    })
  }
}

export function compileSteps(transforms: StepJson[]): Step[] {
  return transforms.map((raw, i): Step => {
    const where = `transforms[${i}]`
    const keys = Object.keys(raw)
    if (keys.length !== 1) throw invalid(`${where} must have exactly one of rename, cast, map, derive, filter, drop`)
    if ('rename' in raw) return { kind: 'rename', columns: Object.entries(raw.rename) }
    if ('cast' in raw) return { kind: 'cast', columns: Object.entries(raw.cast) as Array<[string, CastType]> }
    if ('map' in raw) return { kind: 'map', columns: Object.entries(raw.map).map(([c, e]) => [c, compileExpression(e, `${where}.map.${c}`)]) }
    if ('derive' in raw) return { kind: 'derive', columns: Object.entries(raw.derive).map(([c, e]) => [c, compileExpression(e, `${where}.derive.${c}`)]) }
    if ('filter' in raw) return { kind: 'filter', expr: compileExpression(raw.filter, `${where}.filter`) }
    return { kind: 'drop', columns: raw.drop }
  })
}

/** the cursor is a plain column the read returns under its own name, so each batch can tell where it ended */
function checkCursorColumn(column: string, columns: PipelineSource['columns']): void {
  if (!/^[^\s,:()"]+$/.test(column) || column.includes('->')) throw invalid(`source.cursor_column must be a plain column name, got "${column}"`)
  if (columns === undefined) return
  const returned = parseColumns(columns).some((item) => item.kind === 'star' || (item.kind === 'column' && (item.alias ?? item.field.column) === column && item.field.json.length === 0))
  if (!returned) throw invalid(`source.columns must include the cursor_column "${column}"`)
}

export interface DefineOptions {
  /** X-Athena-Client: the client of a source or sink that names none */
  client: string
  templates: Record<string, PipelineTemplate>
  defaultBatchSize: number
}

/** the template (if named) with the request's fields over it, checked and compiled */
export function definePipeline(req: PipelineRequest, opts: DefineOptions): PipelineDefinition {
  let template: PipelineTemplate | undefined
  if (req.pipeline !== undefined) {
    template = Object.hasOwn(opts.templates, req.pipeline) ? opts.templates[req.pipeline] : undefined
    if (!template) {
      throw new AppError('pipeline_template_not_found', `no pipeline template "${req.pipeline}"`, {
        hint: `GET /pipelines/templates lists them${Object.keys(opts.templates).length ? '' : ' (none are configured: pipelines.templates)'}`,
      })
    }
  }
  const source = { ...template?.source, ...req.source, client: req.source?.client ?? template?.source.client ?? opts.client }
  const sink = { ...template?.sink, ...req.sink, client: req.sink?.client ?? template?.sink.client ?? opts.client }
  const tableSource = source.table_name ?? source.view_name
  if (tableSource === undefined && source.query === undefined) throw invalid('source needs table_name (or view_name) or query')
  if (tableSource !== undefined && source.query !== undefined) throw invalid('source takes table_name (or view_name) or query, not both')
  if (source.query !== undefined && (source.columns !== undefined || source.conditions !== undefined)) {
    throw invalid('source.columns and source.conditions apply to a table; put them in the query itself')
  }
  if (source.cursor_column !== undefined) checkCursorColumn(source.cursor_column, source.columns)
  if (!sink.table_name) throw invalid('sink.table_name is required')
  const mode = sink.mode ?? 'insert'
  if (sink.key && mode !== 'upsert') throw invalid('sink.key is the conflict target of an upsert: set sink.mode to "upsert"')
  const transforms = [...(req.transforms ?? template?.transforms ?? [])]
  // the spec's column_aliases: a rename after every other step
  const aliases = req.transform?.column_aliases
  if (aliases && Object.keys(aliases).length) transforms.push({ rename: aliases })
  const steps = compileSteps(transforms)
  return {
    name: req.name ?? req.pipeline ?? null,
    template: req.pipeline ?? null,
    source,
    sink: { ...sink, table_name: sink.table_name, mode },
    transforms,
    batchSize: req.batch_size ?? template?.batch_size ?? opts.defaultBatchSize,
    steps,
  }
}
