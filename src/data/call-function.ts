// Database function calls (RPC) for every surface: rights, frozen clients for writing calls, plan and run.
import { requireOperation } from '../auth/operation-rights.js'
import type { RequestContext } from '../request-context.js'
import type { DataDeps } from './data-deps.js'
import type { Source } from '../sources/source.js'
import type { RpcQuery } from '../query/ast.js'
import { plan, runnerFor } from '../query/pipeline.js'
import { argumentNamesOf } from '../query/plan/plan-rpc.js'
import type { RpcResult } from '../query/run/runner.js'
import { assertWritable } from './write-rows.js'

export async function callFunction(deps: Pick<DataDeps, 'resultCache'>, { source, principal }: RequestContext, ast: RpcQuery): Promise<RpcResult> {
  requireOperation(principal, 'functions.call')
  const planned = await plan(source, ast)
  if (!planned.readOnly) {
    assertWritable(source)
    // a volatile function may write anything; cached reads of this source are no longer trustworthy
    deps.resultCache.invalidateSource(source.name)
  }
  return runnerFor(source).rpc(planned, ast.count)
}

/** the argument names of every overload of a function, so a GET call can tell arguments from row filters */
export async function functionArgumentNames(source: Source, name: string): Promise<ReadonlySet<string>> {
  return argumentNamesOf(await source.schema(), name)
}
