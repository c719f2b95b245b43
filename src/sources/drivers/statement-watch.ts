// Atrium's own deadline on one raw-SQL call: a timer (and the request's abort signal) that cancels the statement
// on the database, whatever timeout the caller's SQL set for its session. It does not decide what cancelling means.
import { AppError } from '../../errors/app-error.js'

export interface StatementWatch {
  /** true once the deadline passed or the request was abandoned, and the cancel was sent */
  readonly fired: boolean
  /** why it fired: the statement deadline or the request being abandoned */
  readonly reason: 'timeout' | 'aborted' | undefined
  stop(): void
}

/**
 * Starts watching: after `timeoutMs` (0 = no timer) or when `signal` aborts, `cancel` runs once. The timer is
 * unref'd so a pending watch never keeps the process alive; stop() must be called when the call settles.
 */
export function watchStatement(timeoutMs: number, signal: AbortSignal | undefined, cancel: () => void): StatementWatch {
  let reason: StatementWatch['reason']
  let timer: NodeJS.Timeout | undefined
  const fire = (why: 'timeout' | 'aborted') => {
    if (reason) return
    reason = why
    stop()
    cancel()
  }
  const onAbort = () => fire('aborted')
  const stop = () => {
    if (timer) clearTimeout(timer)
    timer = undefined
    signal?.removeEventListener('abort', onAbort)
  }
  if (signal?.aborted) {
    fire('aborted')
  } else {
    if (timeoutMs > 0) {
      timer = setTimeout(() => fire('timeout'), timeoutMs)
      timer.unref()
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  }
  return {
    get fired() { return reason !== undefined },
    get reason() { return reason },
    stop,
  }
}

/** the error a call answers once its watch fired, whatever the database reported for the cancelled statement */
export function statementCancelled(timeoutMs: number, reason: StatementWatch['reason']): AppError {
  return new AppError('statement_timeout', reason === 'aborted'
    ? 'the request passed its deadline and its SQL was cancelled'
    : `the SQL ran longer than the ${timeoutMs} ms statement timeout and was cancelled`, { hint: 'make the query cheaper, or split it into smaller ones' })
}
