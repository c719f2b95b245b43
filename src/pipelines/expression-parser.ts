// The pipelines' expression language, syntax only: a hand-written tokenizer and Pratt parser turning text such
// as `upper(trim(name)) || ' (' || city || ')'` into a small tree. Nothing here evaluates JavaScript: the tree
// is walked by expression-eval.ts, which knows only the operators and functions listed there.
//
//   literals     12  3.5  'it''s'  true  false  null
//   columns      name  "Mixed Case"
//   operators    or  and  not  = != <> < <= > >=  is [not] null  ||  + -  * / %  unary -
//   functions    lower upper trim length substr round coalesce concat now
//
// Every error names the position (0-based character offset) where the text stops making sense.

export type Expr =
  | { kind: 'literal'; value: string | number | boolean | null; pos: number }
  | { kind: 'column'; name: string; pos: number }
  | { kind: 'unary'; op: '-' | 'not'; arg: Expr; pos: number }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; pos: number }
  | { kind: 'isnull'; arg: Expr; negated: boolean; pos: number }
  | { kind: 'call'; name: FunctionName; args: Expr[]; pos: number }

export type BinaryOp = 'or' | 'and' | '=' | '!=' | '<' | '<=' | '>' | '>=' | '||' | '+' | '-' | '*' | '/' | '%'

/** each function and how many arguments it takes: [min, max] */
export const FUNCTIONS = {
  lower: [1, 1], upper: [1, 1], trim: [1, 1], length: [1, 1], substr: [2, 3], round: [1, 2],
  coalesce: [1, 32], concat: [1, 32], now: [0, 0],
} as const satisfies Record<string, readonly [number, number]>
export type FunctionName = keyof typeof FUNCTIONS

/** a syntax error at `position` (0-based offset in the expression text) */
export class ExpressionError extends Error {
  override name = 'ExpressionError'
  constructor(message: string, readonly position: number) {
    super(message)
  }
}

// limits that keep a hostile expression from costing much: text length, and nesting (recursion depth)
export const MAX_EXPRESSION_CHARS = 2_000
const MAX_DEPTH = 64

type Token =
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'ident'; value: string; quoted: boolean; pos: number }
  | { kind: 'op'; value: string; pos: number }
  | { kind: 'end'; pos: number }

const OPERATORS = ['<=', '>=', '!=', '<>', '==', '||', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',']

function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (/\s/.test(c)) { i++; continue }
    const start = i
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|^[0-9]+\.?/.exec(text.slice(i))!
      i += m[0].length
      tokens.push({ kind: 'number', value: Number(m[0]), pos: start })
      continue
    }
    if (c === "'" || c === '"') {
      // SQL quoting: a doubled quote stands for itself; '…' is a string, "…" a column name
      let value = ''
      i++
      for (;;) {
        if (i >= text.length) throw new ExpressionError(c === "'" ? 'unterminated string' : 'unterminated quoted column name', start)
        if (text[i] === c) {
          if (text[i + 1] === c) { value += c; i += 2; continue }
          i++
          break
        }
        value += text[i++]
      }
      tokens.push(c === "'" ? { kind: 'string', value, pos: start } : { kind: 'ident', value, quoted: true, pos: start })
      continue
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!
      i += m[0].length
      tokens.push({ kind: 'ident', value: m[0], quoted: false, pos: start })
      continue
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i))
    if (!op) throw new ExpressionError(`unexpected character "${c}"`, start)
    i += op.length
    tokens.push({ kind: 'op', value: op === '==' ? '=' : op === '<>' ? '!=' : op, pos: start })
  }
  tokens.push({ kind: 'end', pos: text.length })
  return tokens
}

// binding power of each infix operator: higher binds tighter
const INFIX: Record<string, number> = {
  or: 1, and: 2, '=': 4, '!=': 4, '<': 4, '<=': 4, '>': 4, '>=': 4, is: 4, '||': 5, '+': 6, '-': 6, '*': 7, '/': 7, '%': 7,
}
const NOT_POWER = 3
const NEGATE_POWER = 8

const keyword = (t: Token, word: string) => t.kind === 'ident' && !t.quoted && t.value.toLowerCase() === word

/** parses one expression, or throws ExpressionError with the position of the problem */
export function parseExpression(text: string): Expr {
  if (typeof text !== 'string' || text.trim() === '') throw new ExpressionError('the expression is empty', 0)
  if (text.length > MAX_EXPRESSION_CHARS) throw new ExpressionError(`the expression is longer than ${MAX_EXPRESSION_CHARS} characters`, MAX_EXPRESSION_CHARS)
  const tokens = tokenize(text)
  let at = 0
  const peek = () => tokens[at]!
  const next = () => tokens[at++]!
  const describe = (t: Token) => (t.kind === 'end' ? 'the end of the expression' : t.kind === 'string' ? `'${t.value}'` : `"${String(t.value)}"`)
  const expectOp = (value: string) => {
    const t = next()
    if (t.kind !== 'op' || t.value !== value) throw new ExpressionError(`expected "${value}" but found ${describe(t)}`, t.pos)
  }
  const infixOf = (t: Token): string | undefined => {
    if (t.kind === 'op' && t.value in INFIX) return t.value
    if (t.kind === 'ident' && !t.quoted && ['and', 'or', 'is'].includes(t.value.toLowerCase())) return t.value.toLowerCase()
    return undefined
  }

  function parse(minPower: number, depth: number): Expr {
    if (depth > MAX_DEPTH) throw new ExpressionError(`the expression nests deeper than ${MAX_DEPTH} levels`, peek().pos)
    let left = prefix(depth)
    for (;;) {
      const t = peek()
      const op = infixOf(t)
      if (!op || INFIX[op]! <= minPower) break
      next()
      if (op === 'is') {
        const negated = keyword(peek(), 'not')
        if (negated) next()
        const n = next()
        if (!keyword(n, 'null')) throw new ExpressionError(`expected "null" after "is${negated ? ' not' : ''}" but found ${describe(n)}`, n.pos)
        left = { kind: 'isnull', arg: left, negated, pos: t.pos }
        continue
      }
      const right = parse(INFIX[op]!, depth + 1)
      left = { kind: 'binary', op: op as BinaryOp, left, right, pos: t.pos }
    }
    return left
  }

  function prefix(depth: number): Expr {
    const t = next()
    switch (t.kind) {
      case 'number': return { kind: 'literal', value: t.value, pos: t.pos }
      case 'string': return { kind: 'literal', value: t.value, pos: t.pos }
      case 'op':
        if (t.value === '(') {
          const inner = parse(0, depth + 1)
          expectOp(')')
          return inner
        }
        if (t.value === '-') return { kind: 'unary', op: '-', arg: parse(NEGATE_POWER, depth + 1), pos: t.pos }
        throw new ExpressionError(`unexpected ${describe(t)}`, t.pos)
      case 'end': throw new ExpressionError('the expression ends too early', t.pos)
      case 'ident': {
        if (!t.quoted) {
          const word = t.value.toLowerCase()
          if (word === 'true' || word === 'false') return { kind: 'literal', value: word === 'true', pos: t.pos }
          if (word === 'null') return { kind: 'literal', value: null, pos: t.pos }
          if (word === 'not') return { kind: 'unary', op: 'not', arg: parse(NOT_POWER, depth + 1), pos: t.pos }
          if (['and', 'or', 'is'].includes(word)) throw new ExpressionError(`unexpected "${t.value}"`, t.pos)
          if (peek().kind === 'op' && (peek() as { value: string }).value === '(') return call(t.value, t.pos, depth)
        }
        return { kind: 'column', name: t.value, pos: t.pos }
      }
    }
  }

  function call(name: string, pos: number, depth: number): Expr {
    const fn = name.toLowerCase()
    if (!(fn in FUNCTIONS)) throw new ExpressionError(`unknown function "${name}" (functions: ${Object.keys(FUNCTIONS).join(', ')})`, pos)
    next() // (
    const args: Expr[] = []
    if (!(peek().kind === 'op' && (peek() as { value: string }).value === ')')) {
      for (;;) {
        args.push(parse(0, depth + 1))
        const t = peek()
        if (t.kind === 'op' && t.value === ',') { next(); continue }
        break
      }
    }
    expectOp(')')
    const [min, max] = FUNCTIONS[fn as FunctionName]
    if (args.length < min || args.length > max) {
      const wanted = min === max ? `${min}` : `${min} to ${max}`
      throw new ExpressionError(`${fn}() takes ${wanted} argument${max === 1 ? '' : 's'}, got ${args.length}`, pos)
    }
    return { kind: 'call', name: fn as FunctionName, args, pos }
  }

  const tree = parse(0, 0)
  const rest = peek()
  if (rest.kind !== 'end') throw new ExpressionError(`unexpected ${describe(rest)} after a complete expression`, rest.pos)
  return tree
}
