// The entry to the query pipeline for surfaces: plan an AST against a source's schema cache, compile the plan for
// the source's dialect, run what was compiled. Each stage can be called on its own (compilerFor, executorFor);
// runnerFor does compile + run in one call for callers that do not look at the statements.
import type { DbSchema } from '../sources/schema.js'
import type { Source } from '../sources/source.js'
import type { DeleteQuery, InsertQuery, ReadQuery, RpcQuery, UpdateQuery } from './ast.js'
import type { QueryCompiler } from './compile/compiled.js'
import { planDelete, planInsert, planUpdate } from './plan/plan-mutation.js'
import { planRead } from './plan/plan-read.js'
import type { PlanContext } from './plan/types.js'
import { planRpc } from './plan/plan-rpc.js'
import type { PlannedDelete, PlannedInsert, PlannedRead, PlannedRpc, PlannedUpdate } from './plan/types.js'
import type { PlanRunner, Runner } from './run/runner.js'

interface Stages {
  compiler: QueryCompiler
  runner: Runner
  planRunner: PlanRunner
}

const stages = new WeakMap<Source, Stages>()

function contextOf(source: Source, schema: DbSchema): PlanContext {
  return { schema, caps: source.dialectEntry.capabilities(source.driver.serverVersion), source: source.name }
}

/** the planner's view of a source (its schema cache, loaded on first use, and its dialect's capabilities) */
export async function planContextFor(source: Source): Promise<PlanContext> {
  return contextOf(source, await source.schema())
}

/** the compiler and runner of a source's dialect, made once per source (a compiler may cache compiled shapes) */
function stagesOf(source: Source): Stages {
  let found = stages.get(source)
  if (!found) {
    const entry = source.dialectEntry
    const serverVersion = source.driver.serverVersion
    const compiler = entry.createCompiler(entry.capabilities(serverVersion))
    const runner = entry.createRunner(source.driver)
    found = { compiler, runner, planRunner: planRunner(compiler, runner) }
    // capabilities that depend on the server flavour (MySQL or MariaDB) are known once a connection exists
    if (!entry.dependsOnServer || serverVersion) stages.set(source, found)
  }
  return found
}

/** the compile stage for a source: plans in, statements out, no I/O */
export function compilerFor(source: Source): QueryCompiler {
  return stagesOf(source).compiler
}

/** the execute stage for a source: runs what compilerFor(source) compiled */
export function executorFor(source: Source): Runner {
  return stagesOf(source).runner
}

/** compile + run in one call */
export function runnerFor(source: Source): PlanRunner {
  return stagesOf(source).planRunner
}

function planRunner(compiler: QueryCompiler, runner: Runner): PlanRunner {
  // not async: the hot read pays no promise of its own (a compile error throws to the awaiting caller)
  return {
    read: (plan, count) => runner.read(compiler.read(plan, count)),
    readLarge: (plan, chunkSize) => runner.stream(compiler.stream(plan), chunkSize),
    count: (plan, mode) => runner.count(compiler.count(plan, mode)),
    insert: (plan, opts) => runner.write(compiler.insert(plan), opts),
    update: (plan, opts) => runner.write(compiler.update(plan), opts),
    delete: (plan, opts) => runner.write(compiler.delete(plan), opts),
    rpc: (plan, count) => runner.rpc(compiler.rpc(plan, count)),
  }
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
