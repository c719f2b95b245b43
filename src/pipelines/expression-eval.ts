// Evaluates a parsed pipeline expression against one row. Closed world: the operators and the functions of
// expression-parser.ts and nothing else; no property access, no JavaScript. A value the expression cannot use
// (text where a number is needed, a missing column) rejects the row with a reason rather than failing the run.
// Nulls follow SQL: arithmetic, comparison and || with a null give null; a filter keeps only rows that are true.
import type { Expr } from './expression-parser.js'

export type Row = Record<string, unknown>

/** why one row cannot go on; the run counts it as rejected with this message */
export class RowRejected extends Error {
  override name = 'RowRejected'
}

export interface EvalContext {
  /** now(): one instant per run, so every row of a run gets the same value */
  now: string
}

/** numbers as numbers; numeric text (PostgreSQL numeric columns arrive as text) as numbers too */
function asNumber(value: unknown, pos: number, what: string): number | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'number') return value
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value)
  if (typeof value === 'boolean') return value ? 1 : 0
  throw new RowRejected(`${what} at position ${pos} needs a number, got ${JSON.stringify(value)}`)
}

function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

const isTrue = (value: unknown) => value === true

function compare(op: string, a: unknown, b: unknown): boolean | null {
  if (a === null || a === undefined || b === null || b === undefined) return null
  const numeric = (v: unknown) => typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))
  // two numbers (or numeric text) compare as numbers; anything else as text
  let x: number | string, y: number | string
  if (numeric(a) && numeric(b) && (typeof a === 'number' || typeof b === 'number')) [x, y] = [Number(a), Number(b)]
  else if (typeof a === 'boolean' || typeof b === 'boolean') [x, y] = [String(a), String(b)]
  else [x, y] = [asText(a)!, asText(b)!]
  switch (op) {
    case '=': return x === y
    case '!=': return x !== y
    case '<': return x < y
    case '<=': return x <= y
    case '>': return x > y
    default: return x >= y
  }
}

function arithmetic(op: string, pos: number, a: unknown, b: unknown): number | null {
  const x = asNumber(a, pos, `"${op}"`)
  const y = asNumber(b, pos, `"${op}"`)
  if (x === null || y === null) return null
  let out: number
  switch (op) {
    case '+': out = x + y; break
    case '-': out = x - y; break
    case '*': out = x * y; break
    case '/':
      if (y === 0) throw new RowRejected(`division by zero at position ${pos}`)
      out = x / y
      break
    default:
      if (y === 0) throw new RowRejected(`division by zero at position ${pos}`)
      out = x % y
  }
  if (!Number.isFinite(out)) throw new RowRejected(`the result at position ${pos} is out of range`)
  return out
}

export function evaluate(expr: Expr, row: Row, ctx: EvalContext): unknown {
  switch (expr.kind) {
    case 'literal': return expr.value
    case 'column':
      if (!Object.hasOwn(row, expr.name)) throw new RowRejected(`the row has no column "${expr.name}" (position ${expr.pos})`)
      return row[expr.name] ?? null
    case 'unary': {
      const v = evaluate(expr.arg, row, ctx)
      if (expr.op === 'not') return v === null || v === undefined ? null : !isTrue(v)
      const n = asNumber(v, expr.pos, 'unary "-"')
      return n === null ? null : -n
    }
    case 'isnull': {
      const v = evaluate(expr.arg, row, ctx)
      return (v === null || v === undefined) !== expr.negated
    }
    case 'binary': {
      const { op } = expr
      if (op === 'and') return isTrue(evaluate(expr.left, row, ctx)) && isTrue(evaluate(expr.right, row, ctx))
      if (op === 'or') return isTrue(evaluate(expr.left, row, ctx)) || isTrue(evaluate(expr.right, row, ctx))
      const a = evaluate(expr.left, row, ctx)
      const b = evaluate(expr.right, row, ctx)
      if (op === '||') {
        const x = asText(a), y = asText(b)
        return x === null || y === null ? null : x + y
      }
      if (op === '+' || op === '-' || op === '*' || op === '/' || op === '%') return arithmetic(op, expr.pos, a, b)
      return compare(op, a, b)
    }
    case 'call': return call(expr, row, ctx)
  }
}

function call(expr: Extract<Expr, { kind: 'call' }>, row: Row, ctx: EvalContext): unknown {
  const args = expr.args.map((a) => evaluate(a, row, ctx))
  const text = () => asText(args[0])
  switch (expr.name) {
    case 'lower': return text()?.toLowerCase() ?? null
    case 'upper': return text()?.toUpperCase() ?? null
    case 'trim': return text()?.trim() ?? null
    case 'length': {
      const s = text()
      return s === null ? null : [...s].length
    }
    case 'substr': {
      // SQL's substr: 1-based start, optional length, counted in characters
      const s = text()
      const start = asNumber(args[1], expr.pos, 'substr() start')
      const len = args.length > 2 ? asNumber(args[2], expr.pos, 'substr() length') : undefined
      if (s === null || start === null || len === null) return null
      const chars = [...s]
      const from = Math.max(Math.trunc(start) - 1, 0)
      const end = len === undefined ? chars.length : Math.max(Math.trunc(start) - 1 + Math.trunc(len), from)
      return chars.slice(from, end).join('')
    }
    case 'round': {
      const n = asNumber(args[0], expr.pos, 'round()')
      const digits = args.length > 1 ? asNumber(args[1], expr.pos, 'round() digits') : 0
      if (n === null || digits === null) return null
      const d = Math.min(Math.max(Math.trunc(digits), 0), 15)
      const f = 10 ** d
      return Math.round(n * f) / f
    }
    case 'coalesce': return args.find((a) => a !== null && a !== undefined) ?? null
    case 'concat': return args.map((a) => asText(a) ?? '').join('')
    case 'now': return ctx.now
  }
}

/** a filter keeps the row only when its expression is true (null and false drop it) */
export function passes(expr: Expr, row: Row, ctx: EvalContext): boolean {
  return isTrue(evaluate(expr, row, ctx))
}
