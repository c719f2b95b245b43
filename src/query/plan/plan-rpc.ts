// Plans a function call: picks the overload whose argument names match, and the read applied to its rows.
import { AppError } from '../../errors/app-error.js'
import { categorize, type DbSchema, type FunctionInfo, type TableInfo } from '../../sources/schema.js'
import type { RpcQuery } from '../ast.js'
import { displayName } from '../dialect.js'
import { planReadOn } from './plan-read.js'
import type { PlanContext } from './types.js'
import { didYouMean } from './suggest.js'
import type { PlannedRpc } from './types.js'

/** the argument names of every overload of `name` (what splitRpcArguments needs to split a query string) */
export function argumentNamesOf(schema: DbSchema, name: string): ReadonlySet<string> {
  return new Set(schema.findFunctions(name).flatMap((f) => f.args.map((a) => a.name)))
}

const signature = (f: FunctionInfo) => `${f.name}(${f.args.map((a) => `${a.name || '?'} ${a.type}${a.hasDefault ? ' = default' : ''}`).join(', ')})`

function pickOverload(ctx: PlanContext, ast: RpcQuery): FunctionInfo {
  const candidates = ctx.schema.findFunctions(ast.fn.name, ast.fn.schema)
  if (!candidates.length) {
    const all = [...ctx.schema.functions.values()].flat().map((f) => f.name)
    throw new AppError('unknown_function', `function "${ast.fn.name}" does not exist on client "${ctx.source}"`, {
      hint: didYouMean(ast.fn.name, all) ?? 'functions are looked up in the exposed schemas',
    })
  }
  const given = Object.keys(ast.args)
  const fits = candidates.filter((f) => given.every((g) => f.args.some((a) => a.name === g)) && f.args.every((a) => a.hasDefault || given.includes(a.name)))
  if (fits.length === 0) {
    throw new AppError('unknown_function', `no "${ast.fn.name}" takes the arguments (${given.join(', ') || 'none'})`, {
      hint: `available: ${candidates.map(signature).join('; ')}`,
    })
  }
  // several fit: prefer the one whose arguments are exactly those given
  return fits.find((f) => f.args.length === given.length) ?? fits[0]
}

function resultRelation(ctx: PlanContext, fn: FunctionInfo): TableInfo | null {
  if (!fn.returnsRows) return null
  if (fn.returnsRelation) return ctx.schema.findTable(fn.returnsRelation.name, fn.returnsRelation.schema) ?? null
  if (!fn.outputColumns.length) return null
  const columns = fn.outputColumns.map((c, i) => ({
    name: c.name, type: c.type, baseType: c.type, category: categorize(c.type), nullable: true, default: null, position: i + 1, generated: false,
  }))
  return {
    schema: fn.schema, name: fn.name, kind: 'view', insertable: false, columns,
    columnMap: new Map(columns.map((c) => [c.name, c])), primaryKey: [], uniques: [], foreignKeys: [], referencedBy: [],
  }
}

export function planRpc(ctx: PlanContext, ast: RpcQuery): PlannedRpc {
  const fn = pickOverload(ctx, ast)
  if (fn.args.some((a) => !a.name)) throw new AppError('unsupported_feature', `"${fn.name}" has unnamed arguments and cannot be called with named arguments`)
  const args = fn.args.filter((a) => a.name in ast.args).map((a) => [a, ast.args[a.name]] as [typeof a, unknown])
  const relation = resultRelation(ctx, fn)
  const shaped = ast.where.length > 0 || ast.order.length > 0 || ast.limit !== undefined || ast.offset !== undefined
  if (!relation && shaped) throw new AppError('invalid_request', `"${fn.name}" does not return rows, so filters, order and limits do not apply`)
  if (relation && !ctx.caps.functionReads && (shaped || ast.select.some((s) => s.kind !== 'star'))) {
    throw new AppError('unsupported_feature', `shaping procedure results is not supported on ${displayName(ctx.caps)} sources`)
  }
  const read = relation && ctx.caps.functionReads
    ? planReadOn(ctx, relation, { select: ast.select, where: ast.where, order: ast.order, limit: capped(ast.limit, ast.maxRows), offset: ast.offset, count: ast.count, stripNulls: ast.stripNulls })
    : null
  // the cap concerns sets of rows only: a scalar result is one value whatever the setting
  const maxRows = !read && fn.returnsSet ? ast.maxRows : undefined
  return { kind: 'rpc', fn, args, read, maxRows, readOnly: ast.readOnly || fn.volatility !== 'volatile' }
}

function capped(limit: number | undefined, cap: number | undefined): number | undefined {
  return cap === undefined ? limit : Math.min(limit ?? cap, cap)
}
