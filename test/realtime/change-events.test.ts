// Captured changes → outbox change events: consecutive changes of one writer to one table with one operation are
// one event, in capture order; DELETE carries the rows as they were, UPDATE and DELETE their old rows.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { changeEvents } from '../../src/realtime/capture/capture-drainer.js'
import type { CapturedChange } from '../../src/realtime/capture/captured-change.js'

const change = (id: number, writer: string, table: string, op: CapturedChange['op'], oldRow: object | null, newRow: object | null): CapturedChange =>
  ({ id, writer, table, op, oldRow: oldRow as never, newRow: newRow as never })

test('consecutive changes of one writer, table and operation are one event', () => {
  const events = changeEvents('shop', [
    change(1, 'tx1', 'orders', 'INSERT', null, { id: 1 }),
    change(2, 'tx1', 'orders', 'INSERT', null, { id: 2 }),
    change(3, 'tx2', 'orders', 'INSERT', null, { id: 3 }),
    change(4, 'tx2', 'orders', 'UPDATE', { id: 3, s: 'a' }, { id: 3, s: 'b' }),
    change(5, 'tx2', 'orders', 'UPDATE', { id: 1, s: 'a' }, { id: 1, s: 'c' }),
    change(6, 'tx2', 'items', 'UPDATE', { id: 9 }, { id: 9, x: 1 }),
    change(7, 'tx2', 'orders', 'DELETE', { id: 2, s: 'z' }, null),
  ])
  assert.deepEqual(events.map((e) => [e.payload.type, e.payload.table, e.payload.rows, e.payload.old_rows]), [
    ['change.inserted', 'orders', [{ id: 1 }, { id: 2 }], null],
    ['change.inserted', 'orders', [{ id: 3 }], null],
    ['change.updated', 'orders', [{ id: 3, s: 'b' }, { id: 1, s: 'c' }], [{ id: 3, s: 'a' }, { id: 1, s: 'a' }]],
    ['change.updated', 'items', [{ id: 9, x: 1 }], [{ id: 9 }]],
    ['change.deleted', 'orders', [{ id: 2, s: 'z' }], [{ id: 2, s: 'z' }]],
  ])
  for (const e of events) {
    assert.equal(e.payload.origin, 'database')
    assert.equal(e.payload.source, 'shop')
    assert.equal(e.source, 'shop')
  }
})

test('no changes, no events', () => {
  assert.deepEqual(changeEvents('shop', []), [])
})
