// Subscription filters: PostgREST syntax evaluated against event rows, as a grid of filter → rows matched.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AppError } from '../../src/errors/app-error.js'
import { parseRowFilter } from '../../src/realtime/row-filter.js'

const columns = new Set(['id', 'status', 'total', 'note', 'paid', 'big', 'placed_at'])
const rows = [
  { id: 1, status: 'paid', total: 10.5, note: null, paid: true, big: '9007199254740993', placed_at: '2024-01-01T00:00:00+00:00' },
  { id: 2, status: 'pending', total: 99, note: 'Call Ada', paid: false, big: '12', placed_at: '2024-02-01T00:00:00+00:00' },
  { id: 3, status: 'void', total: 0, note: 'ada lovelace', paid: false, big: '100', placed_at: '2024-03-01T00:00:00+00:00' },
]

const grid: Array<[string | undefined, number[]]> = [
  [undefined, [1, 2, 3]],
  ['', [1, 2, 3]],
  ['id=eq.2', [2]],
  ['id=neq.2', [1, 3]],
  ['total=gt.10', [1, 2]],
  ['total=gte.99', [2]],
  ['total=lt.10.5', [3]],
  ['total=lte.10.5', [1, 3]],
  ['status=in.(paid,void)', [1, 3]],
  ['note=is.null', [1]],
  ['note=not.is.null', [2, 3]],
  ['paid=is.true', [1]],
  ['paid=eq.false', [2, 3]],
  ['note=like.*Ada*', [2]],
  ['note=ilike.*ada*', [2, 3]],
  ['note=eq.x', []],
  ['big=gt.50', [1, 3]],
  ['placed_at=gte.2024-02-01', [2, 3]],
  ['status=neq.void&total=gt.0', [1, 2]],
  ['or=(status.eq.void,total.gt.50)', [2, 3]],
  ['not.or=(status.eq.void,total.gt.50)', [1]],
  ['id=not.in.(1,2)', [3]],
]

test('subscription filters match rows as PostgREST filters would', () => {
  for (const [filter, ids] of grid) {
    const matches = parseRowFilter(filter, columns)
    assert.deepEqual(rows.filter((r) => matches(r)).map((r) => r.id), ids, String(filter))
  }
})

test('filters that cannot be evaluated on a row are refused with the reason', () => {
  const refused: Array<[string, string]> = [
    ['nope=eq.1', 'unknown_column'],
    ['note=fts.ada', 'invalid_filter'],
    ['note->a=eq.1', 'invalid_filter'],
    ['id=eq(any).{1,2}', 'invalid_filter'],
    ['id=eq.1&order=id', 'invalid_filter'],
    ['id=eq.1&limit=3', 'invalid_filter'],
    ['select=id', 'invalid_filter'],
    ['id=zz.1', 'invalid_filter'],
  ]
  for (const [filter, code] of refused) {
    assert.throws(() => parseRowFilter(filter, columns), (err: unknown) => err instanceof AppError && err.code === code, filter)
  }
})
