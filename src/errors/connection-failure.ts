// Recognises "could not reach the database" failures shared by every driver (socket errno codes and pool timeouts).

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed',
  EPIPE: 'connection closed',
  PROTOCOL_CONNECTION_LOST: 'connection lost',
  ER_CON_COUNT_ERROR: 'too many connections',
}

// node-postgres reports these without an errno code; the strings are fixed in the driver.
const PG_DRIVER_MESSAGES: Array<[RegExp, string]> = [
  [/timeout exceeded when trying to connect/i, 'connection timed out'],
  [/Connection terminated/i, 'connection closed'],
  [/not queryable/i, 'connection lost'],
  [/Client was closed/i, 'connection closed'],
]

export function connectionFailureReason(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] }
  if (!e || typeof e !== 'object') return undefined
  if (typeof e.code === 'string' && NETWORK_CODES[e.code]) return NETWORK_CODES[e.code]
  // AggregateError from dual-stack connects (ECONNREFUSED on ::1 and 127.0.0.1)
  if (Array.isArray(e.errors)) for (const inner of e.errors) {
    const reason = connectionFailureReason(inner)
    if (reason) return reason
  }
  const message = typeof e.message === 'string' ? e.message : ''
  for (const [pattern, reason] of PG_DRIVER_MESSAGES) if (pattern.test(message)) return reason
  return undefined
}
