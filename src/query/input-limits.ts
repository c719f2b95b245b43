// The documented limits on what one request may ask for, and the NUL-byte checks: both refuse bad input with
// a 400 before any SQL is built or sent. Only checks; it never repairs input.
import { AppError } from '../errors/app-error.js'

// Deeper trees are never written by hand; recursive parsing, planning and compiling stay far from the stack's end.
export const MAX_NESTING = 64
// Conditions (leaves of every filter and logic tree, embeds included) per request: past this a query is an attack
// on the database, not a filter (see MAX_IN_LIST for what many long in lists do to PostgreSQL 15).
export const MAX_CONDITIONS = 100
// Values in in lists (and any/all lists) per request, all lists together. Measured on PostgreSQL 15: 100 lists of
// 700 values on one primary key ran in 0.2 s, 150 such lists kept a backend in btree array-key processing for
// many minutes, deaf to cancel and terminate alike.
export const MAX_IN_LIST = 10_000
// PostgreSQL's and MySQL's wire protocols count parameters in 16 bits; more cannot even be sent.
export const MAX_PARAMETERS = 65_535

const fmt = (n: number) => n.toLocaleString('en-US')

export function nestingTooDeep(what: string): AppError {
  return new AppError('limit_exceeded', `${what} is nested more than ${MAX_NESTING} levels deep`, { hint: 'flatten the expression; see docs/security.md for the limits' })
}

export function tooManyConditions(count: number): AppError {
  return new AppError('limit_exceeded', `the request has ${fmt(count)} conditions; at most ${fmt(MAX_CONDITIONS)} are allowed`, { hint: 'use an in list for many values of one column, or split the request' })
}

export function inListTooLong(column: string, count: number): AppError {
  return new AppError('limit_exceeded', `the in list on "${column}" has ${fmt(count)} items; at most ${fmt(MAX_IN_LIST)} are allowed`, { hint: 'split the request, or filter on a range' })
}

export function inListsTooLong(count: number): AppError {
  return new AppError('limit_exceeded', `the request's in lists hold ${fmt(count)} values together; at most ${fmt(MAX_IN_LIST)} are allowed`, { hint: 'split the request, or filter on a range' })
}

export function tooManyParameters(count: number): AppError {
  return new AppError('limit_exceeded', `the statement would need ${fmt(count)} bound parameters; the database accepts at most ${fmt(MAX_PARAMETERS)}`, { hint: 'send fewer rows or values per request' })
}

export function nulByte(where: string): AppError {
  return new AppError('nul_byte', `${where} contains a NUL byte (\\u0000), which no identifier or text value can hold`, { hint: 'remove the NUL character; binary data must be sent encoded (hex or base64)' })
}

/** counts the conditions (leaves) of filter trees; trees are at most MAX_NESTING deep, so recursion is safe */
export function countConditions(filters: ReadonlyArray<{ kind: string; items?: unknown }>): number {
  let n = 0
  for (const f of filters) n += f.kind === 'cond' ? 1 : countConditions((f as { items: Array<{ kind: string }> }).items)
  return n
}

/**
 * true when JSON text holds the escape `\u0000` (the only way JSON can carry a NUL; a raw control character is
 * invalid JSON). `\\u0000` is a backslash and the text "u0000", not a NUL: the backslashes before it are counted.
 */
export function jsonHasNul(text: string): boolean {
  for (let at = text.indexOf('u0000'); at >= 0; at = text.indexOf('u0000', at + 5)) {
    let slashes = 0
    for (let i = at - 1; i >= 0 && text.charCodeAt(i) === 92; i--) slashes++
    if (slashes % 2 === 1) return true
  }
  return false
}

/** where in a parsed JSON value the first string (or key) with a NUL is, as `body.a[0].b`; iterative, for any depth */
export function nulPath(value: unknown, root = 'body'): string {
  const stack: Array<[unknown, string]> = [[value, root]]
  while (stack.length) {
    const [v, path] = stack.pop()!
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return path
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`])
    } else if (v && typeof v === 'object') {
      for (const [k, inner] of Object.entries(v).reverse()) {
        if (k.includes('\u0000')) return `${path} (a key)`
        stack.push([inner, `${path}.${k}`])
      }
    }
  }
  return root
}

/**
 * A RangeError from V8 running out of stack, as a 400: parsers refuse deep expressions up front, but a JSON
 * value nested thousands deep is only walked by native code (JSON.stringify of a parameter), which V8 stops
 * before the stack ends. Scanning every body for depth would cost the hot path more than this rare refusal.
 */
export function stackOverflowAsLimit(err: unknown): AppError | undefined {
  if (!(err instanceof RangeError) || !/call stack/i.test(err.message)) return undefined
  return new AppError('limit_exceeded', 'the request is nested too deeply to be processed', { hint: `keep JSON values and expressions under ${MAX_NESTING} levels of nesting` })
}
