import assert from 'node:assert/strict'
import { test } from 'node:test'
import { evaluate, passes, RowRejected } from '../../src/pipelines/expression-eval.js'
import { ExpressionError, MAX_EXPRESSION_CHARS, parseExpression } from '../../src/pipelines/expression-parser.js'
import { transformRow } from '../../src/pipelines/transform-rows.js'
import { compileSteps } from '../../src/pipelines/definition.js'

const ctx = { now: '2026-12-07 12:00:00.000' }
const run = (text: string, row: Record<string, unknown> = {}) => evaluate(parseExpression(text), row, ctx)

test('operators, precedence and functions', () => {
  const cases: Array<[string, Record<string, unknown>, unknown]> = [
    ['1 + 2 * 3', {}, 7],
    ['(1 + 2) * 3', {}, 9],
    ['-2 * -3', {}, 6],
    ['10 % 4 - 1', {}, 1],
    ["'a' || 'b' || 'c'", {}, 'abc'],
    ["name || '!'", { name: null }, null],
    ['price * qty', { price: '12.50', qty: 2 }, 25],
    ['a = 1 or b = 2 and c = 3', { a: 1, b: 0, c: 3 }, true],
    ['not a > 1', { a: 0 }, true],
    ['x is null and y is not null', { x: null, y: 0 }, true],
    ['x <> 1', { x: 2 }, true],
    ['x == 2', { x: 2 }, true],
    ['"Mixed Case" + 1', { 'Mixed Case': 1 }, 2],
    ["upper(trim('  ada ')) || lower('X')", {}, 'ADAx'],
    ["length('héllo')", {}, 5],
    ["substr('abcdef', 2, 3)", {}, 'bcd'],
    ["substr('abcdef', 4)", {}, 'def'],
    ['round(2.345, 2)', {}, 2.35],
    ['round(2.5)', {}, 3],
    ["coalesce(a, b, 'none')", { a: null, b: null }, 'none'],
    ["concat('a', null, 1)", {}, 'a1'],
    ['now()', {}, ctx.now],
    ["'it''s'", {}, "it's"],
    ['1 < null', {}, null],
    ["'10' > 9", {}, true],
    ["'b' > 'a'", {}, true],
  ]
  for (const [text, row, expected] of cases) assert.deepEqual(run(text, row), expected, text)
  assert.equal(passes(parseExpression('x > 1'), { x: null }, ctx), false, 'a null filter drops the row')
})

test('syntax errors name the position', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['1 +', 3, /ends too early/],
    ['(1 + 2', 6, /expected "\)"/],
    ['a b', 2, /unexpected "b" after a complete expression/],
    ["'open", 0, /unterminated string/],
    ['a ? b', 2, /unexpected character "\?"/],
    ['foo(1)', 0, /unknown function "foo"/],
    ['lower(1, 2)', 0, /lower\(\) takes 1 argument, got 2/],
    ['x is 1', 5, /expected "null"/],
    ['constructor.prototype', 11, /unexpected character "\."/],
    ['', 0, /empty/],
  ]
  for (const [text, position, message] of cases) {
    assert.throws(() => parseExpression(text), (err: unknown) => err instanceof ExpressionError && err.position === position && message.test(err.message), text)
  }
  assert.throws(() => parseExpression('('.repeat(100) + '1' + ')'.repeat(100)), /nests deeper/)
  assert.throws(() => parseExpression('1+'.repeat(MAX_EXPRESSION_CHARS)), /longer than/)
})

test('values an expression cannot use reject the row with a reason', () => {
  assert.throws(() => run("name * 2", { name: 'ada' }), (e: unknown) => e instanceof RowRejected && /needs a number, got "ada"/.test((e as Error).message))
  assert.throws(() => run('1 / x', { x: 0 }), /division by zero/)
  assert.throws(() => run('missing + 1', {}), /no column "missing"/)
  assert.throws(() => run('toString', {}), /no column "toString"/, 'only the row\'s own columns are visible')
})

test('steps: casts, map sees the incoming row, a failed cast is a rejection', () => {
  const steps = compileSteps([
    { cast: { n: 'integer', ok: 'boolean', at: 'timestamp', d: 'date' } },
    { map: { n: 'n + 1', m: 'n' } },
    { rename: { m: 'old_n' } },
    { drop: ['ok'] },
  ])
  const kept = transformRow(steps, { n: '41', m: 0, ok: 'yes', at: '2026-01-02T03:04:05Z', d: '2026-01-02' }, ctx)
  assert.deepEqual(kept, { kind: 'kept', row: { n: 42, old_n: 41, at: '2026-01-02 03:04:05.000', d: '2026-01-02' } })
  const bad = transformRow(steps, { n: '4.5', m: 0, ok: 'yes', at: '2026-01-02', d: '2026-01-02' }, ctx)
  assert.deepEqual(bad, { kind: 'rejected', reason: 'cannot cast column "n" value "4.5" to integer' })
  assert.deepEqual(transformRow(compileSteps([{ filter: 'n > 1' }]), { n: 1 }, ctx), { kind: 'filtered' })
})
