// Finds the foreign key an embed means: by target table, FK column or constraint name, narrowed by a !hint.
//   orders → customers(name)          many-to-one through orders.customer_id
//   customers → orders(id)            one-to-many through the same key
//   messages → from:sender_id(name)   many-to-one picked by the FK column
//   messages → customers!receiver_id(name)  two keys to customers; the hint picks one
import { AppError } from '../../errors/app-error.js'
import type { ForeignKey, TableInfo } from '../../sources/schema.js'
import type { EmbedItem } from '../ast.js'
import type { PlanContext } from './types.js'
import { didYouMean } from './suggest.js'
import type { Relationship } from './types.js'

function manyToOne(ctx: PlanContext, fk: ForeignKey): Relationship | undefined {
  const target = ctx.schema.findTable(fk.refTable, fk.refSchema)
  return target && { cardinality: 'many-to-one', fk, target, pairs: fk.columns.map((c, i) => [c, fk.refColumns[i]]) }
}

function oneToMany(ctx: PlanContext, fk: ForeignKey): Relationship | undefined {
  const target = ctx.schema.findTable(fk.table, fk.schema)
  return target && { cardinality: 'one-to-many', fk, target, pairs: fk.refColumns.map((c, i) => [c, fk.columns[i]]) }
}

const describe = (r: Relationship) =>
  `${r.target.name}!${r.fk.name} (${r.cardinality}, ${r.cardinality === 'many-to-one' ? r.fk.columns.join(',') : `${r.target.name}.${r.fk.columns.join(',')}`})`

export function resolveRelationship(ctx: PlanContext, from: TableInfo, embed: EmbedItem): Relationship {
  const { name, hint } = embed
  const single = (fk: ForeignKey, col: string) => fk.columns.length === 1 && fk.columns[0] === col
  let candidates: Relationship[] = []
  for (const fk of from.foreignKeys) {
    if (fk.refTable === name || fk.name === name || single(fk, name)) {
      const r = manyToOne(ctx, fk)
      if (r) candidates.push(r)
    }
  }
  for (const fk of from.referencedBy) {
    if (fk.table === name || fk.name === name) {
      const r = oneToMany(ctx, fk)
      if (r) candidates.push(r)
    }
  }
  if (hint) candidates = candidates.filter((r) => r.fk.name === hint || single(r.fk, hint) || r.target.name === hint)
  if (candidates.length === 1) return candidates[0]
  if (candidates.length === 0) {
    const names = [
      ...from.foreignKeys.flatMap((fk) => [fk.refTable, ...(fk.columns.length === 1 ? fk.columns : [])]),
      ...from.referencedBy.map((fk) => fk.table),
    ]
    throw new AppError('unknown_relationship', `could not find a relationship between "${from.name}" and "${name}"${hint ? ` using the hint "${hint}"` : ''}`, {
      hint: didYouMean(name, names) ?? (names.length ? `"${from.name}" can embed: ${[...new Set(names)].join(', ')}` : `"${from.name}" has no foreign keys to or from exposed tables`),
    })
  }
  throw new AppError('ambiguous_relationship', `more than one relationship between "${from.name}" and "${name}"`, {
    hint: `pick one with a hint, e.g. ${name}!${candidates[0].fk.name}(...)`,
    detail: candidates.map(describe).join('; '),
  })
}
