// Gives MySQL/MariaDB rows the JSON types PostgreSQL's to_json would: parses JSON text (MariaDB JSON columns,
// embedded objects built by JSON_OBJECT), turns 0/1 booleans into true/false and timestamps into ISO-8601.
import type { ColumnInfo } from '../../sources/schema.js'
import type { PlannedAggregate, PlannedRead } from '../plan/types.js'

type Row = Record<string, unknown>

function shapeValue(column: ColumnInfo, value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null
  switch (column.category) {
    case 'json':
      if (typeof value !== 'string') return value
      try {
        return JSON.parse(value)
      } catch {
        return value
      }
    case 'boolean':
      if (typeof value === 'number') return value !== 0
      // BIT(1) arrives as a one-byte buffer
      return Buffer.isBuffer(value) ? value[0] === 1 : value
    case 'time':
      if (typeof value !== 'string' || !/^\d{4}-\d\d-\d\d[ T]\d/.test(value)) return value
      // JSON_OBJECT renders DATETIME with a space; TIMESTAMP values are UTC (sessions run in UTC)
      return /^timestamp/i.test(column.type) && !/[+-]\d\d:\d\d$/.test(value) ? `${value.replace(' ', 'T')}+00:00` : value.replace(' ', 'T')
    default:
      return value
  }
}

function stripNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripNulls)
  if (value && typeof value === 'object') {
    const out: Row = {}
    for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = stripNulls(v)
    return out
  }
  return value
}

/** min and max keep their column's typing; counts, sums and averages are numbers, as PostgreSQL's JSON has them */
function shapeAggregate(item: PlannedAggregate, value: unknown): unknown {
  if ((item.fn === 'min' || item.fn === 'max') && item.column) return shapeValue(item.column, value)
  return typeof value === 'string' || typeof value === 'bigint' ? Number(value) : value ?? null
}

export function shapeRow(plan: PlannedRead, row: Row): Row {
  for (const item of plan.select) {
    if (item.kind === 'star') {
      for (const c of item.table.columns) if (c.name in row) row[c.name] = shapeValue(c, row[c.name])
    } else if (item.kind === 'column') {
      row[item.output] = shapeValue(item.column, row[item.output])
    } else if (item.kind === 'aggregate') {
      row[item.output] = shapeAggregate(item, row[item.output])
    } else if (!item.empty) {
      let v = row[item.output]
      if (typeof v === 'string') v = JSON.parse(v)
      if (Array.isArray(v)) v = v.map((child) => shapeRow(item.child, child as Row))
      else if (v && typeof v === 'object') v = shapeRow(item.child, v as Row)
      row[item.output] = v ?? null
    }
  }
  return plan.stripNulls ? (stripNulls(row) as Row) : row
}

/** grouped rows: the bucket keeps its column's typing; count and sums are numbers */
export function shapeGroupRow(plan: PlannedRead, row: Row): Row {
  const g = plan.group!
  const bucket = row[g.column.name]
  row[g.column.name] = g.granularity && typeof bucket === 'string' && /^timestamp/i.test(g.column.type) ? `${bucket}+00:00` : shapeValue(g.column, bucket)
  for (const key of ['count', 'sum', 'cumulative_sum']) if (key in row && row[key] !== null) row[key] = Number(row[key])
  return row
}
