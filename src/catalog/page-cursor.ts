// The opaque cursor of the catalog's newest-first lists keyed by (created_at, uuid id): job records and webhook
// deliveries. A page ends with its last row; the next page starts after it.
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
