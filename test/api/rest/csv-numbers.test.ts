import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseKeepingNumberText } from '../../../src/api/rest/csv-numbers.js'

test('CSV cells keep the number text the database printed; numbers inside JSON values stay numbers', () => {
  assert.deepEqual(parseKeepingNumberText('[{"total":30.00,"n":-1.5e3,"attrs":{"w":40,"l":[1.10]},"s":"2.50 \\"x\\" 7"}]', 2),
    [{ total: '30.00', n: '-1.5e3', attrs: { w: 40, l: [1.1] }, s: '2.50 "x" 7' }])
  assert.deepEqual(parseKeepingNumberText('{"a":1.00,"b":null,"c":true}', 1), { a: '1.00', b: null, c: true })
  assert.deepEqual(parseKeepingNumberText('[1.50,2]', 1), ['1.50', '2'])
  assert.equal(parseKeepingNumberText('170.70', 0), '170.70')
  assert.deepEqual(parseKeepingNumberText('[]', 2), [])
})
