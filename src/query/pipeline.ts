// The entry to the query pipeline for surfaces: plan an AST against a source's schema cache, get its runner.
import type { Source } from '../sources/source.js'
import type { DeleteQuery, InsertQuery, ReadQuery, RpcQuery, UpdateQuery } from './ast.js'
import { capabilitiesFor } from './dialect.js'
import { planDelete, planInsert, planUpdate } from './plan/plan-mutation.js'
import { planRead, type PlanContext } from './plan/plan-read.js'
import { planRpc } from './plan/plan-rpc.js'
import type { PlannedDelete, PlannedInsert, PlannedRead, PlannedRpc, PlannedUpdate } from './plan/types.js'
import { MysqlRunner } from './run/mysql-runner.js'
import { PostgresRunner } from './run/postgres-runner.js'
import type { Runner } from './run/runner.js'

const runners = new WeakMap<Source, Runner>()

export async function planContext(source: Source): Promise<PlanContext> {
  const schema = await source.schema()
  return { schema, caps: capabilitiesFor(source.dialect, source.driver.serverVersion), source: source.name }
}

export function runnerFor(source: Source): Runner {
  let runner = runners.get(source)
  if (!runner) {
    runner = source.dialect === 'postgres'
      ? new PostgresRunner(source.driver)
      : new MysqlRunner(source.driver, capabilitiesFor(source.dialect, source.driver.serverVersion))
    // MySQL capabilities depend on the server flavour, known once a connection exists
    if (source.dialect === 'postgres' || source.driver.serverVersion) runners.set(source, runner)
  }
  return runner
}

export async function plan(source: Source, ast: ReadQuery): Promise<PlannedRead>
export async function plan(source: Source, ast: InsertQuery): Promise<PlannedInsert>
export async function plan(source: Source, ast: UpdateQuery): Promise<PlannedUpdate>
export async function plan(source: Source, ast: DeleteQuery): Promise<PlannedDelete>
export async function plan(source: Source, ast: RpcQuery): Promise<PlannedRpc>
export async function plan(source: Source, ast: ReadQuery | InsertQuery | UpdateQuery | DeleteQuery | RpcQuery) {
  const ctx = await planContext(source)
  switch (ast.kind) {
    case 'read': return planRead(ctx, ast)
    case 'insert': return planInsert(ctx, ast)
    case 'update': return planUpdate(ctx, ast)
    case 'delete': return planDelete(ctx, ast)
    case 'rpc': return planRpc(ctx, ast)
  }
}
