// One error type for everything Atrium answers on purpose; renderers per family turn it into wire bodies.
import { codes, type CodeSpec, type ErrorCode } from './codes.js'

export interface ErrorExtra {
  /** a longer explanation, safe to show */
  detail?: string
  /** what the caller can do about it */
  hint?: string
  /** structured context for the gateway envelope's `data` */
  data?: Record<string, unknown>
  /** SQLSTATE when the database raised it; /rest/v1 sends it as `code` */
  sqlstate?: string
  /** seconds, for 429 and 503 */
  retryAfter?: number
  /**
   * the message with what only administrators may see (database role and host names); callers holding
   * anything but the static admin key get `message`, which leaves them out
   */
  adminMessage?: string
  cause?: unknown
}

export class AppError extends Error {
  override name = 'AppError'
  constructor(readonly code: ErrorCode, message: string, readonly extra: ErrorExtra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause })
  }

  get spec(): CodeSpec {
    return codes[this.code]
  }

  get status(): number {
    return codes[this.code].status
  }
}

/** the message a caller may read: the full one for the static admin key, the redacted one for everyone else */
export function messageFor(err: AppError, isAdmin: boolean): string {
  return isAdmin && err.extra.adminMessage ? err.extra.adminMessage : err.message
}
