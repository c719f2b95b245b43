// The opaque cursor of the catalog's newest-first lists keyed by (created_at, uuid id): job records, deferred
// requests and webhook deliveries. A page ends with its last row; the next page starts after it.
import { AppError } from '../errors/app-error.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function encodePageCursor(last: { created_at: string; id: string }): string {
  return Buffer.from(JSON.stringify([last.created_at, last.id])).toString('base64url')
}

/** 400 invalid_cursor for anything this list did not hand out */
export function decodePageCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]
    if (typeof createdAt === 'string' && typeof id === 'string' && UUID.test(id) && !Number.isNaN(Date.parse(createdAt))) return { createdAt, id }
  } catch {
    /* falls through to the error below */
  }
  throw new AppError('invalid_cursor', 'the cursor is not one this list returned', { hint: 'pass next_cursor from the previous page unchanged' })
}

/**
 * The WHERE clause of a filtered list, written with `?` placeholders: each `?` becomes the next `$n` and its value
 * a parameter, so a filter value never stands in the SQL text.
 *   c.add('owner_id = ?', id); c.afterCursor(cursor, 'd.') → c.where 'WHERE owner_id = $1 AND (d.created_at, d.id) < ($2…)'
 */
export class ListConditions {
  readonly params: unknown[] = []
  private readonly parts: string[] = []

  add(sql: string, ...values: unknown[]): void {
    this.parts.push(sql.replace(/\?/g, () => `$${this.params.push(values.shift())}`))
  }

  /** the rows after a page's next_cursor (400 invalid_cursor for anything else); `prefix` is the table's alias with its dot */
  afterCursor(cursor: string | undefined, prefix = ''): void {
    if (!cursor) return
    const after = decodePageCursor(cursor)
    this.add(`(${prefix}created_at, ${prefix}id) < (?::timestamptz, ?::uuid)`, after.createdAt, after.id)
  }

  /** `WHERE a AND b`, or nothing */
  get where(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : ''
  }
}
