// Page reads that differ only in the values they compare columns with (`id=eq.1`, `id=eq.2`) compile to the
// same SQL with other parameters: they have one shape. Each shape is compiled once; a later read of it takes
// that SQL text and a copy of its parameters with its own values put in. The hot path then skips compiling,
// and the SQL text, one string reused, is cheap to look up among the prepared statements.
//
// A shape is learned by compiling the plan with a unique marker in place of each value and finding where the
// markers land among the parameters; a plan whose SQL would depend on its values is never given a shape
// (only comparisons, `is`, limit and offset take part, and the learned SQL must equal the plan's own).
import type { Statement } from '../../sources/driver.js'
import type { PlannedFilter, PlannedRead } from '../plan/types.js'

/** operators whose value only ever becomes one parameter */
const COMPARISONS = new Set(['eq', 'neq', 'gt', 'gte', 'lt', 'lte'])
// Bounds the memory: request shapes are few in practice; a flood of distinct ones starts the map afresh.
const MAX_SHAPES = 1_000
// Separates the parts of a key. Table and column names come from the schema cache and PostgreSQL names cannot
// hold it; an output name (a select alias, the request's own text) that does is not given a shape, or it could
// make a key that another shape has.
const SEP = '\u0000'

interface Shape {
  sql: string
  params: readonly unknown[]
  /** the parameter each value of the shape goes to, in the order the values were collected */
  slots: number[]
}

export class ReadShapes {
  /** shape key → its statement, or null for a plan seen not to fit a shape */
  private readonly shapes = new Map<string, Shape | null>()

  constructor(private readonly compile: (plan: PlannedRead, exactCount: boolean) => Statement) {}

  /** the statement of `plan` (with the exact total when `exactCount`): from its shape when it has one, compiled otherwise */
  statement(plan: PlannedRead, exactCount: boolean): Statement {
    const values: unknown[] = []
    const key = shapeKey(plan, values, exactCount)
    if (key === undefined) return this.compile(plan, exactCount)
    let shape = this.shapes.get(key)
    if (shape === undefined) {
      shape = this.learn(plan, values.length, exactCount)
      if (this.shapes.size >= MAX_SHAPES) this.shapes.clear()
      this.shapes.set(key, shape)
    }
    if (shape === null) return this.compile(plan, exactCount)
    const params = shape.params.slice()
    for (let i = 0; i < values.length; i++) params[shape.slots[i]] = values[i]
    return { sql: shape.sql, params }
  }

  private learn(plan: PlannedRead, count: number, exactCount: boolean): Shape | null {
    const markers = Array.from({ length: count }, (_, i) => Symbol(`value ${i}`))
    const marked = this.compile(withValues(plan, markers), exactCount)
    if (marked.sql !== this.compile(plan, exactCount).sql) return null
    const slots = markers.map((m) => marked.params.indexOf(m))
    const placed = marked.params.filter((p) => typeof p === 'symbol').length
    if (slots.some((s) => s < 0) || placed !== count) return null
    return { sql: marked.sql, params: marked.params, slots }
  }
}

/**
 * The key of the plan's shape, with its values pushed onto `values` (conditions in order, then limit and
 * offset); undefined when the plan has parts that shapes do not cover (embeds, JSON paths, grouping, other
 * operators).
 */
function shapeKey(plan: PlannedRead, values: unknown[], exactCount: boolean): string | undefined {
  if (plan.group) return undefined
  let key = `${plan.table.schema}${SEP}${plan.table.name}${SEP}${exactCount ? 'n' : ''}${plan.stripNulls ? 's' : ''}`
  for (const item of plan.select) {
    if (item.kind === 'star') key += `${SEP}*`
    else if (item.kind === 'column' && item.json.length === 0 && !item.output.includes(SEP)) key += `${SEP}c${item.column.name}${SEP}${item.output}${SEP}${item.cast ?? ''}`
    else return undefined
  }
  key += `${SEP}w`
  for (const f of plan.where) {
    const part = filterKey(f, values)
    if (part === undefined) return undefined
    key += part
  }
  key += `${SEP}o`
  for (const o of plan.order) {
    if (o.embed || o.json.length) return undefined
    key += `${SEP}${o.column.name}${SEP}${o.direction}${o.nulls ?? ''}`
  }
  if (plan.limit !== undefined) {
    key += `${SEP}l`
    values.push(plan.limit)
  }
  if (plan.offset) {
    key += `${SEP}f`
    values.push(plan.offset)
  }
  return key
}

function filterKey(f: PlannedFilter, values: unknown[]): string | undefined {
  if (f.kind !== 'cond') {
    let key = `${SEP}${f.negated ? '!' : ''}${f.kind}(`
    for (const item of f.items) {
      const part = filterKey(item, values)
      if (part === undefined) return undefined
      key += part
    }
    return `${key}${SEP})`
  }
  if (f.json.length || f.quantifier) return undefined
  const head = `${SEP}${f.negated ? '!' : ''}${f.column.name}${SEP}${f.op}`
  if (f.op === 'is' && f.value.kind === 'is') return `${head}${SEP}${f.value.value}`
  if (!COMPARISONS.has(f.op) || f.value.kind !== 'scalar') return undefined
  const v = f.value.value
  if (v !== null && typeof v === 'object') return undefined
  values.push(v)
  return head
}

/** a copy of the plan with its values, in shapeKey's order, replaced by `replacements` */
function withValues(plan: PlannedRead, replacements: readonly unknown[]): PlannedRead {
  let next = 0
  const take = () => replacements[next++]
  const mapFilter = (f: PlannedFilter): PlannedFilter => {
    if (f.kind !== 'cond') return { ...f, items: f.items.map(mapFilter) }
    if (!COMPARISONS.has(f.op)) return f
    return { ...f, value: { kind: 'scalar', value: take() } }
  }
  const where = plan.where.map(mapFilter)
  const limit = plan.limit !== undefined ? (take() as number) : undefined
  const offset = plan.offset ? (take() as number) : plan.offset
  return { ...plan, where, limit, offset }
}
