// Applies a pipeline's compiled steps to rows, in order: rename, cast, map, derive, filter, drop. A row a step
// cannot handle (a failed cast, a missing column, text in arithmetic) is rejected with its reason; the others go on.
import type { CastType, Step } from './definition.js'
import { evaluate, passes, RowRejected, type EvalContext, type Row } from './expression-eval.js'

export type RowOutcome = { kind: 'kept'; row: Row } | { kind: 'filtered' } | { kind: 'rejected'; reason: string }

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** 'YYYY-MM-DD HH:MM:SS.mmm' in UTC: the one timestamp text both PostgreSQL and MariaDB accept */
export function sqlTimestamp(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`
}

const TRUE_WORDS = new Set(['true', 't', 'yes', 'y', '1', 'on'])
const FALSE_WORDS = new Set(['false', 'f', 'no', 'n', '0', 'off'])

function castValue(value: unknown, type: CastType, column: string): unknown {
  if (value === null || value === undefined) return null
  const fail = (): never => { throw new RowRejected(`cannot cast column "${column}" value ${JSON.stringify(value)} to ${type}`) }
  switch (type) {
    case 'text': return typeof value === 'object' ? JSON.stringify(value) : String(value)
    case 'integer': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : NaN
      return Number.isSafeInteger(n) ? n : fail()
    }
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN
      return Number.isFinite(n) ? n : fail()
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value
      const word = String(value).trim().toLowerCase()
      return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : fail()
    }
    case 'date': case 'timestamp': {
      // a date alone stays a date (no time zone shift); anything else goes through Date
      if (type === 'date' && typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return value
      const d = typeof value === 'string' || typeof value === 'number' ? new Date(value) : fail()
      if (Number.isNaN(d.getTime())) fail()
      return type === 'date' ? sqlTimestamp(d).slice(0, 10) : sqlTimestamp(d)
    }
    case 'json': {
      if (typeof value !== 'string') return JSON.stringify(value)
      try {
        return JSON.stringify(JSON.parse(value))
      } catch {
        return fail()
      }
    }
  }
}

function applyStep(step: Step, row: Row, ctx: EvalContext): Row | null {
  switch (step.kind) {
    case 'rename': {
      const out: Row = {}
      const renames = new Map(step.columns)
      for (const [from] of step.columns) if (!Object.hasOwn(row, from)) throw new RowRejected(`rename: the row has no column "${from}"`)
      for (const [k, v] of Object.entries(row)) out[renames.get(k) ?? k] = v
      return out
    }
    case 'cast': {
      const out = { ...row }
      for (const [column, type] of step.columns) {
        if (!Object.hasOwn(row, column)) throw new RowRejected(`cast: the row has no column "${column}"`)
        out[column] = castValue(row[column], type, column)
      }
      return out
    }
    case 'map': case 'derive': {
      const out = { ...row }
      // every expression of one step sees the row as it came in, so their order does not matter
      for (const [column, expr] of step.columns) {
        if (step.kind === 'map' && !Object.hasOwn(row, column)) throw new RowRejected(`map: the row has no column "${column}" (derive adds new columns)`)
        out[column] = evaluate(expr, row, ctx)
      }
      return out
    }
    case 'filter': return passes(step.expr, row, ctx) ? row : null
    case 'drop': {
      const out = { ...row }
      for (const column of step.columns) delete out[column]
      return out
    }
  }
}

export function transformRow(steps: Step[], input: Row, ctx: EvalContext): RowOutcome {
  let row: Row | null = input
  try {
    for (const step of steps) {
      row = applyStep(step, row, ctx)
      if (row === null) return { kind: 'filtered' }
    }
  } catch (err) {
    if (err instanceof RowRejected) return { kind: 'rejected', reason: err.message }
    throw err
  }
  return { kind: 'kept', row }
}
