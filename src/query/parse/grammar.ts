// The PostgREST mini-languages (select lists, filters, logic trees, order) shared by every parser.
// Syntax only: names are not checked here. Every error is a 400 AppError that quotes the offending part.
//
// Examples:
//   parseSelect('id,buyer:customers!inner(name),attrs->>color')
//   parseFilter('total', 'gte.10')            → { op: 'gte', value: '10' }
//   parseLogic('or', '(status.eq.paid,and(total.gt.5,not.note.is.null))')
//   parseOrder('placed_at.desc.nullslast,id')
import { AppError } from '../../errors/app-error.js'
import type { ErrorCode } from '../../errors/codes.js'
import {
  OPERATORS, type AggregateFn, type AggregateItem, type Condition, type EmbedItem, type FieldRef, type Filter, type FilterValue, type JsonStep,
  type LogicalFilter, type Operator, type OrderTerm, type SelectItem,
} from '../ast.js'
import { MAX_IN_LIST, MAX_NESTING, inListTooLong, nestingTooDeep } from '../input-limits.js'

const OPERATOR_SET = new Set<string>(OPERATORS)
// letters of any script, as PostgreSQL allows in unquoted names (PostgREST does the same)
// and inner spaces, as supabase-js sends a filter on "Full Name" unquoted (select lists drop spaces before this)
const IDENT = /^[\p{L}_](?:[\p{L}\p{N}_$ ]*[\p{L}\p{N}_$])?$/u
const CAST = /^[A-Za-z_][A-Za-z0-9_ ]*(\[\])?$/
// PostgREST aggregate select items (not an embed named `count` nor a relationship `total.sum`):
// `count()`, `total.sum()`, `amount::int.avg()::text` → [column text, function, result cast]
const AGGREGATE = /^(?:([^()]+)\.)?(count|sum|avg|min|max)\(\)(?:::([^()]*))?$/i

const fail = (code: ErrorCode, message: string, hint?: string): never => {
  throw new AppError(code, message, hint ? { hint } : {})
}

/**
 * splits on `sep` at depth 0, honouring (), {} and double quotes (with \" escapes). Every parser splits the
 * whole text here before it recurses into a part, so refusing depth past MAX_NESTING here bounds every
 * recursion of parse, plan and compile over select lists and logic trees.
 */
export function splitTop(text: string, sep = ','): string[] {
  const parts: string[] = []
  let depth = 0
  let quoted = false
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quoted) {
      if (ch === '\\') i++
      else if (ch === '"') quoted = false
      continue
    }
    if (ch === '"') quoted = true
    else if (ch === '(' || ch === '{' || ch === '[') {
      if (++depth > MAX_NESTING) throw nestingTooDeep(`"${text.length > 60 ? `${text.slice(0, 60)}…` : text}"`)
    } else if (ch === ')' || ch === '}' || ch === ']') {
      depth--
      if (depth < 0) fail('invalid_filter', `unbalanced parentheses in "${text}"`)
    } else if (ch === sep && depth === 0) {
      parts.push(text.slice(start, i))
      start = i + 1
    }
  }
  if (quoted) fail('invalid_filter', `unterminated double quote in "${text}"`)
  if (depth !== 0) fail('invalid_filter', `unbalanced parentheses in "${text}"`)
  parts.push(text.slice(start))
  return parts
}

/** removes whitespace outside double quotes (select lists may be written over several lines) */
export function stripSpaces(text: string): string {
  let out = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (ch === '"' && text[i - 1] !== '\\') quoted = !quoted
    if (!quoted && /\s/.test(ch)) continue
    out += ch
  }
  return out
}

const QUOTED = /^"((?:[^"\\]|\\.)*)"$/s

/**
 * Quoted names, and filter values inside `in.(…)`/`{…}` lists and or=/and= trees (where `,.:()` separate
 * items): a text wholly enclosed in double quotes is unquoted, `\` taking the next character literally.
 * Anything else is taken as written. (A top-level `col=eq.value` is always taken as written, quotes
 * included, as in PostgREST: supabase-js sends `.eq()` values unquoted.)
 *   "a,b" → a,b    "say \"hi\"" → say "hi"    a"b → a"b
 */
function unquote(text: string): string {
  const m = QUOTED.exec(text)
  return m ? m[1].replace(/\\(.)/gs, '$1') : text
}

function identifier(text: string, what: string, code: ErrorCode = 'invalid_select'): string {
  if (text.startsWith('"')) {
    const name = unquote(text)
    if (!name || name === text || name.includes('\u0000')) fail(code, `empty or invalid quoted ${what}`, 'a quoted name is written "name", with \\" for a quote inside it')
    return name
  }
  if (!IDENT.test(text)) fail(code, `"${text}" is not a valid ${what}`, 'names are letters, digits and _ (quote other names with double quotes)')
  return text
}

/** `col`, `col->a->>b`, `"odd col"->0` */
export function parseField(text: string, code: ErrorCode = 'invalid_filter'): FieldRef {
  const arrow = text.search(/->/)
  const head = arrow < 0 ? text : text.slice(0, arrow)
  const column = identifier(head, 'column name', code)
  const json: JsonStep[] = []
  let rest = arrow < 0 ? '' : text.slice(arrow)
  while (rest) {
    const m = /^->(>?)("(?:[^"\\]|\\.)*"|[^-]+?)(?=->|$)/.exec(rest)
    if (!m) fail(code, `invalid JSON path in "${text}"`)
    const key = unquote(m![2])
    if (!key) fail(code, `empty JSON path key in "${text}"`)
    json.push({ key, asText: m![1] === '>' })
    rest = rest.slice(m![0].length)
  }
  return { column, json }
}

/** parses a select list; embeds carry empty where/order until the caller attaches `embed.*` options */
export function parseSelect(text: string): SelectItem[] {
  const clean = stripSpaces(text)
  if (clean === '') return [{ kind: 'star' }]
  return splitTop(clean).map((part) => parseSelectItem(part, text))
}

function parseSelectItem(part: string, whole: string): SelectItem {
  if (part === '') fail('invalid_select', `empty item in select "${whole}"`)
  if (part === '*') return { kind: 'star' }
  if (part.startsWith('...')) fail('invalid_select', `spread embeds ("${part}") are not supported`)
  let alias: string | undefined
  let body = part
  const colon = findAliasColon(part)
  if (colon > 0) {
    alias = identifier(part.slice(0, colon), 'alias')
    body = part.slice(colon + 1)
  }
  const aggregate = AGGREGATE.exec(body)
  if (aggregate) return parseAggregate(aggregate, alias)
  const paren = body.indexOf('(')
  if (paren >= 0 && !body.startsWith('"')) {
    if (!body.endsWith(')')) fail('invalid_select', `"${part}": an embed must end with ")"`)
    const [name, ...modifiers] = body.slice(0, paren).split('!')
    const embed: EmbedItem = {
      kind: 'embed',
      name: identifier(name, 'relationship name'),
      alias,
      inner: false,
      select: [],
      where: [],
      order: [],
    }
    for (const mod of modifiers) {
      if (mod === 'inner') embed.inner = true
      else if (mod === 'left') embed.inner = false
      else embed.hint = identifier(mod, 'relationship hint')
    }
    const inside = body.slice(paren + 1, -1)
    if (inside === '') embed.empty = true
    embed.select = inside === '' ? [] : splitTop(inside).map((p) => parseSelectItem(p, whole))
    return embed
  }
  let cast: string | undefined
  const castAt = body.lastIndexOf('::')
  if (castAt > 0) {
    cast = body.slice(castAt + 2)
    body = body.slice(0, castAt)
    if (!CAST.test(cast)) fail('invalid_select', `"${cast}" is not a valid type to cast to`)
  }
  if (/\(\)$/.test(body)) fail('invalid_select', `"${part}" is not a column; only the aggregates count, sum, avg, min and max take "()"`)
  return { kind: 'column', field: parseField(body, 'invalid_select'), alias, cast }
}

function parseAggregate([, target, fn, cast]: RegExpExecArray, alias: string | undefined): AggregateItem {
  const item: AggregateItem = { kind: 'aggregate', fn: fn.toLowerCase() as AggregateFn, alias }
  if (cast !== undefined) item.cast = castName(cast)
  if (target !== undefined) {
    const castAt = target.lastIndexOf('::')
    if (castAt > 0) item.inputCast = castName(target.slice(castAt + 2))
    item.field = parseField(castAt > 0 ? target.slice(0, castAt) : target, 'invalid_select')
  } else if (item.fn !== 'count') fail('invalid_select', `"${fn}()" needs a column: write column.${fn}()`)
  return item
}

function castName(cast: string): string {
  if (!CAST.test(cast)) fail('invalid_select', `"${cast}" is not a valid type to cast to`)
  return cast
}

/** the alias separator is a single ':' before any '::' cast and outside quotes/parentheses */
function findAliasColon(part: string): number {
  let quoted = false
  for (let i = 0; i < part.length; i++) {
    const ch = part[i]
    if (ch === '"') quoted = !quoted
    if (quoted) continue
    if (ch === '(' || ch === '-') return -1
    if (ch === ':') return part[i + 1] === ':' ? -1 : i
  }
  return -1
}

/** `[not.]op[(mod)].operand` for the filter on `column` */
export function parseFilter(key: string, expression: string, embedPath?: string[], inTree = false): Condition {
  const fieldRef = parseField(key)
  let rest = expression
  let negated = false
  if (rest.startsWith('not.')) {
    negated = true
    rest = rest.slice(4)
  }
  const dot = rest.indexOf('.')
  if (dot < 0) fail('invalid_filter', `"${key}=${expression}": expected operator.value, e.g. ${key}=eq.1`)
  const opToken = rest.slice(0, dot)
  const operand = rest.slice(dot + 1)
  const m = /^([a-z]+)(?:\(([^)]*)\))?$/.exec(opToken)
  if (!m || !OPERATOR_SET.has(m[1])) {
    fail('invalid_filter', `unknown operator "${opToken}" in filter on "${key}"`, `operators: ${OPERATORS.join(', ')}`)
  }
  const op = m![1] as Operator
  const modifier = m![2]
  const cond: Condition = { kind: 'cond', field: fieldRef, op, negated, value: parseOperand(op, operand, key, modifier, inTree), embedPath }
  if (modifier !== undefined && !op.endsWith('fts')) {
    if (modifier !== 'any' && modifier !== 'all') fail('invalid_filter', `"${opToken}": the modifier must be (any) or (all)`)
    if (!['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch'].includes(op)) fail('invalid_filter', `"${op}" does not take (${modifier})`)
    cond.quantifier = modifier as 'any' | 'all'
    cond.value = { kind: 'list', values: parseList(operand, key, '{', '}') }
  }
  return cond
}

function parseOperand(op: Operator, operand: string, key: string, modifier: string | undefined, inTree: boolean): FilterValue {
  const value = inTree ? unquote(operand) : operand
  if (op === 'in') return { kind: 'list', values: parseList(operand, key, '(', ')') }
  if (op === 'is') {
    const v = operand.toLowerCase()
    if (v !== 'null' && v !== 'true' && v !== 'false' && v !== 'unknown') fail('invalid_filter', `"is" takes null, true, false or unknown, got "${operand}" on "${key}"`)
    return { kind: 'is', value: v as 'null' | 'true' | 'false' | 'unknown' }
  }
  if (op.endsWith('fts')) {
    if (modifier !== undefined && !IDENT.test(modifier)) fail('invalid_filter', `"${modifier}" is not a text search configuration name`)
    return { kind: 'fts', query: value, config: modifier }
  }
  return { kind: 'scalar', value }
}

/** `(a,b,"c,d")` → ['a','b','c,d'] */
export function parseList(operand: string, key: string, open = '(', close = ')'): string[] {
  if (!operand.startsWith(open) || !operand.endsWith(close)) fail('invalid_filter', `the list for "${key}" must be written ${open}a,b${close}, got "${operand}"`)
  const inner = operand.slice(1, -1)
  if (inner === '') return []
  const items = splitTop(inner)
  if (items.length > MAX_IN_LIST) throw inListTooLong(key, items.length)
  return items.map((v) => unquote(v))
}

/** `(a.eq.1,or(b.gt.2,c.is.null))` for and=/or= (and `not.or=`) */
export function parseLogic(kind: 'and' | 'or', text: string, negated = false, embedPath?: string[]): LogicalFilter {
  if (!text.startsWith('(') || !text.endsWith(')')) fail('invalid_filter', `${kind} expects a parenthesised list, e.g. ${kind}=(a.eq.1,b.eq.2), got "${text}"`)
  const inner = text.slice(1, -1)
  if (inner.trim() === '') fail('invalid_filter', `${kind}=() needs at least one condition`)
  return { kind, negated, embedPath, items: splitTop(inner).map((item) => parseLogicItem(item.trim())) }
}

function parseLogicItem(item: string): Filter {
  const logic = /^(not\.)?(and|or)(\(.*\))$/s.exec(item)
  if (logic) return parseLogic(logic[2] as 'and' | 'or', logic[3], Boolean(logic[1]))
  // field is everything before the first token that is an operator (optionally preceded by not.); dots
  // inside double quotes (a quoted column name or value) do not separate tokens
  const tokens = splitTop(item, '.')
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i].replace(/\(.*$/, '')
    if (OPERATOR_SET.has(t) || (t === 'not' && i + 1 < tokens.length && OPERATOR_SET.has(tokens[i + 1].replace(/\(.*$/, '')))) {
      const fieldPart = tokens.slice(0, i).join('.')
      if (i > 1 && !fieldPart.includes('->')) fail('invalid_filter', `"${item}": filters on embedded resources are not supported inside and/or`)
      return parseFilter(fieldPart, tokens.slice(i).join('.'), undefined, true)
    }
  }
  return fail('invalid_filter', `"${item}" is not a condition; expected column.operator.value`)
}

/** `a.desc.nullslast,b,customers(name).asc` */
export function parseOrder(text: string): OrderTerm[] {
  const clean = stripSpaces(text)
  if (clean === '') fail('invalid_order', 'order is empty')
  return splitTop(clean).map((part) => {
    let relation: string | undefined
    let body = part
    const rel = /^([A-Za-z_][A-Za-z0-9_]*)\(([^)]+)\)(.*)$/.exec(part)
    if (rel) {
      relation = rel[1]
      body = rel[2] + rel[3]
    }
    const tokens = body.split('.')
    let direction: 'asc' | 'desc' = 'asc'
    let nulls: 'first' | 'last' | undefined
    while (tokens.length > 1) {
      const last = tokens[tokens.length - 1]
      if (last === 'asc' || last === 'desc') direction = last
      else if (last === 'nullsfirst') nulls = 'first'
      else if (last === 'nullslast') nulls = 'last'
      else break
      tokens.pop()
    }
    const fieldText = tokens.join('.')
    if (fieldText === '') fail('invalid_order', `"${part}" names no column`)
    if (fieldText.includes('.') && !fieldText.includes('->')) fail('invalid_order', `"${part}": expected column[.asc|.desc][.nullsfirst|.nullslast]`)
    return { field: parseField(fieldText, 'invalid_order'), direction, nulls, relation }
  })
}
