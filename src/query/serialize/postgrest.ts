// Writes an AST back as a PostgREST query string (the inverse of parse/postgrest.ts), for forwarding
// structured requests to a PostgREST upstream such as Supabase.
//   { select: [id, customers(name)], where: [status eq paid], order: [id desc], limit: 5 }
//   → select=id,customers(name)&status=eq.paid&order=id.desc&limit=5
import { AppError } from '../../errors/app-error.js'
import type { Condition, FieldRef, Filter, OrderTerm, SelectItem } from '../ast.js'

const needsQuotes = /[,()"\\:.\s]/

function quoteValue(value: unknown): string {
  const text = value === null ? 'null' : typeof value === 'object' ? JSON.stringify(value) : String(value)
  return needsQuotes.test(text) ? `"${text.replace(/["\\]/g, '\\$&')}"` : text
}

function fieldText(f: FieldRef): string {
  return f.column + f.json.map((s) => `${s.asText ? '->>' : '->'}${s.key}`).join('')
}

export function serializeSelect(items: SelectItem[]): string {
  return items.map((item) => {
    if (item.kind === 'star') return '*'
    if (item.kind === 'column') return `${item.alias ? `${item.alias}:` : ''}${fieldText(item.field)}${item.cast ? `::${item.cast}` : ''}`
    if (item.kind === 'aggregate') {
      const target = item.field ? `${fieldText(item.field)}${item.inputCast ? `::${item.inputCast}` : ''}.` : ''
      return `${item.alias ? `${item.alias}:` : ''}${target}${item.fn}()${item.cast ? `::${item.cast}` : ''}`
    }
    const mods = `${item.hint ? `!${item.hint}` : ''}${item.inner ? '!inner' : ''}`
    return `${item.alias ? `${item.alias}:` : ''}${item.name}${mods}(${serializeSelect(item.select)})`
  }).join(',')
}

/** the operand of `op.operand`, as the filter appears on the right of `=` */
function operand(c: Condition, inLogic: boolean): string {
  const v = c.value
  const q = inLogic ? quoteValue : (x: unknown) => (x === null ? 'null' : typeof x === 'object' ? JSON.stringify(x) : String(x))
  if (c.quantifier && v.kind === 'list') return `${c.op}(${c.quantifier}).{${v.values.map(quoteValue).join(',')}}`
  switch (v.kind) {
    case 'list':
      return `in.(${v.values.map(quoteValue).join(',')})`
    case 'is':
      return `is.${v.value}`
    case 'fts':
      return `${c.op}${v.config ? `(${v.config})` : ''}.${q(v.query)}`
    case 'scalar':
      if ((c.op === 'cs' || c.op === 'cd' || c.op === 'ov') && Array.isArray(v.value)) {
        // a JSON array is sent as a PostgreSQL array literal, which PostgREST reads for array columns
        return `${c.op}.{${v.value.map(quoteValue).join(',')}}`
      }
      return `${c.op}.${q(v.value)}`
  }
}

function logicItem(f: Filter): string {
  if (f.kind === 'cond') return `${fieldText(f.field)}.${f.negated ? 'not.' : ''}${operand(f, true)}`
  return `${f.negated ? 'not.' : ''}${f.kind}(${f.items.map(logicItem).join(',')})`
}

/** each filter as one query pair */
export function serializeFilters(filters: Filter[]): Array<[string, string]> {
  return filters.map((f) => {
    if (f.embedPath?.length) throw new AppError('unsupported_feature', 'filters on embedded resources cannot be forwarded')
    if (f.kind === 'cond') return [fieldText(f.field), `${f.negated ? 'not.' : ''}${operand(f, false)}`]
    return [`${f.negated ? 'not.' : ''}${f.kind}`, `(${f.items.map(logicItem).join(',')})`]
  })
}

export function serializeOrder(order: OrderTerm[]): string {
  return order.map((o) => `${o.relation ? `${o.relation}(${fieldText(o.field)})` : fieldText(o.field)}.${o.direction}${o.nulls ? `.nulls${o.nulls}` : ''}`).join(',')
}

export interface PostgrestRequestParts {
  select?: SelectItem[]
  where?: Filter[]
  order?: OrderTerm[]
  limit?: number
  offset?: number
  onConflict?: string[]
  columns?: string[]
}

export function serializeQuery(parts: PostgrestRequestParts): string {
  const pairs: Array<[string, string]> = []
  if (parts.select) pairs.push(['select', serializeSelect(parts.select)])
  pairs.push(...serializeFilters(parts.where ?? []))
  // null filters on top-level embeds (`authors=is.null`) travel as the filters they were parsed from
  for (const item of parts.select ?? []) {
    if (item.kind === 'embed' && item.nullFilter) pairs.push([item.alias ?? item.name, item.nullFilter === 'null' ? 'is.null' : 'not.is.null'])
  }
  if (parts.order?.length) pairs.push(['order', serializeOrder(parts.order)])
  if (parts.limit !== undefined) pairs.push(['limit', String(parts.limit)])
  if (parts.offset) pairs.push(['offset', String(parts.offset)])
  if (parts.onConflict?.length) pairs.push(['on_conflict', parts.onConflict.join(',')])
  if (parts.columns?.length) pairs.push(['columns', parts.columns.join(',')])
  return new URLSearchParams(pairs).toString()
}
