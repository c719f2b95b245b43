import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatMs } from '../../src/observability/format-ms.js'

// Durations in Server-Timing and the request log are printed from integers; they must read as the rounded value.
test('formatMs rounds to the given places and pads the fraction', () => {
  const cases: Array<[number, 0 | 1 | 2 | 3, string]> = [
    [0, 2, '0.00'], [0.004, 2, '0.00'], [0.38, 2, '0.38'], [7.3, 2, '7.30'], [7.05, 2, '7.05'], [1234.5, 2, '1234.50'],
    [12.0456, 3, '12.046'], [0.0015, 3, '0.002'], [0.05, 3, '0.050'], [999.9996, 3, '1000.000'], [0.1, 1, '0.1'], [5.55, 0, '6'],
  ]
  for (const [ms, places, text] of cases) {
    assert.equal(formatMs(ms, places), text, `${ms} at ${places} places`)
    assert.equal(Number(text), Math.round(ms * 10 ** places) / 10 ** places)
  }
})

test('formatMs prints what is not a clock duration as JavaScript does', () => {
  for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY, 1e20]) assert.equal(formatMs(ms, 3), String(ms))
})
