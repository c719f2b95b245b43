// The entry to the query pipeline for surfaces: plan an AST against a source's schema cache, get its runner.
import type { DbSchema } from '../sources/schema.js'
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

function contextOf(source: Source, schema: DbSchema): PlanContext {
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

// Planning is synchronous once the source's schema is cached (every request after the first): the hot path
// then pays no promise for it. Callers may await the result either way; the hot read (readRows) awaits it
// only when it is a promise.
export function plan(source: Source, ast: ReadQuery): Planned<PlannedRead>
export function plan(source: Source, ast: InsertQuery): Planned<PlannedInsert>
export function plan(source: Source, ast: UpdateQuery): Planned<PlannedUpdate>
export function plan(source: Source, ast: DeleteQuery): Planned<PlannedDelete>
export function plan(source: Source, ast: RpcQuery): Planned<PlannedRpc>
export function plan(source: Source, ast: ReadQuery | InsertQuery | UpdateQuery | DeleteQuery | RpcQuery) {
  const cached = source.cachedSchema
  if (cached) return planWith(contextOf(source, cached), ast)
  return source.schema().then((schema) => planWith(contextOf(source, schema), ast))
}

type Planned<T> = T | Promise<T>

function planWith(ctx: PlanContext, ast: ReadQuery | InsertQuery | UpdateQuery | DeleteQuery | RpcQuery) {
  switch (ast.kind) {
    case 'read': return planRead(ctx, ast)
    case 'insert': return planInsert(ctx, ast)
    case 'update': return planUpdate(ctx, ast)
    case 'delete': return planDelete(ctx, ast)
    case 'rpc': return planRpc(ctx, ast)
  }
}
