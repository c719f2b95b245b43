// How a deferred request (src/deferred/) runs: the stored call goes through the same parse and run as the
// synchronous route (calls.ts), and its answer — the success envelope, or the error envelope — is what the
// synchronous call would have sent. Framework-free: the job hands in a context of its own.
import type { DataDeps } from '../../data/data-deps.js'
import { AppError } from '../../errors/app-error.js'
import type { DeferredCall, DeferredExecutor, DeferredOutcome } from '../../deferred/deferred-requests.js'
import type { StreamedRead } from '../../query/run/runner.js'
import { CALL_OPERATIONS, parseCall, runCall, type CallKind } from './calls.js'
import { renderGatewayError } from './envelope.js'
import { envelopeText } from './respond.js'

const LOCAL = Object.freeze({ kind: 'source' as const })

/** the call a deferrable route operation makes, or undefined when the operation cannot be deferred */
export function callKindOf(operation: string | undefined): CallKind | undefined {
  return operation !== undefined && Object.hasOwn(CALL_OPERATIONS, operation) ? CALL_OPERATIONS[operation as keyof typeof CALL_OPERATIONS] : undefined
}

export function gatewayCallExecutor(deps: DataDeps, maxResultBytes: number): DeferredExecutor {
  return async (call: DeferredCall, context) => {
    let isAdmin = false
    try {
      const kind = callKindOf(call.operation)
      if (!kind) throw new AppError('deferred_not_supported', `operation ${call.operation} cannot be deferred`)
      const ctx = await context()
      isAdmin = ctx.principal.kind === 'admin'
      const parsed = parseCall({ kind, body: call.body, stripNulls: call.strip_nulls, publishEvent: call.publish_event, returnMinimal: call.return_minimal })
      // a fresh read (the cache serves synchronous callers), streamed when large so memory stays bounded
      const out = await runCall(deps, ctx, LOCAL, parsed, { bypassCache: true, allowStream: true })
      const dataJson = out.kind === 'page' ? out.dataJson : await drain(out.stream, maxResultBytes)
      const body = envelopeText(out.message, dataJson, out.extra)
      if (Buffer.byteLength(body) > maxResultBytes) throw tooLarge(maxResultBytes)
      return { status: 200, body, error: null }
    } catch (err) {
      return failed(err, call.operation, isAdmin)
    }
  }
}

/** the rows of a streamed read as one JSON array, refused once they pass `max` bytes (the cursor is closed either way) */
async function drain(stream: StreamedRead, max: number): Promise<string> {
  const parts: string[] = []
  let bytes = 2
  try {
    for await (const chunk of stream.chunks) {
      for (const row of chunk) {
        bytes += Buffer.byteLength(row) + 1
        if (bytes > max) throw tooLarge(max)
        parts.push(row)
      }
    }
  } finally {
    await stream.close()
  }
  return `[${parts.join(',')}]`
}

function failed(err: unknown, operation: string, isAdmin: boolean): DeferredOutcome {
  const appError = err instanceof AppError ? err : new AppError('internal_error', 'internal server error', { cause: err })
  return {
    status: appError.status,
    body: JSON.stringify(renderGatewayError(appError, operation, isAdmin)),
    error: { code: appError.code, message: appError.message },
  }
}

const tooLarge = (max: number) => new AppError('deferred_result_too_large', `the answer is larger than deferred.maxResultBytes (${max} bytes)`, {
  hint: 'ask for fewer rows or columns (limit, page_size, columns), or fetch it synchronously, which streams',
})
