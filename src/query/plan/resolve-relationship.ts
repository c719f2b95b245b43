// Finds the foreign key an embed means: by target table, FK column or constraint name, narrowed by a !hint.
//   orders → customers(name)          many-to-one through orders.customer_id
//   customers → orders(id)            one-to-many through the same key
//   messages → from:sender_id(name)   many-to-one picked by the FK column
//   messages → customers!receiver_id(name)  two keys to customers; the hint picks one
//   books → authors(name)             many-to-many through a junction table (book_authors)
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

/**
 * many-to-many: a table (not `from`, not the target) with one key to `from` and one to a table named `name`,
 * both within its primary key, as PostgREST finds junctions.
 *   books → authors(name) through book_authors (book_id → books, author_id → authors)
 */
function manyToMany(ctx: PlanContext, from: TableInfo, name: string, hint: string | undefined): Relationship[] {
  const found: Relationship[] = []
  const inKey = (j: TableInfo, fk: ForeignKey) => fk.columns.every((c) => j.primaryKey.includes(c))
  for (const toParent of from.referencedBy) {
    const junction = ctx.schema.findTable(toParent.table, toParent.schema)
    if (!junction || junction === from || !inKey(junction, toParent)) continue
    if (hint && hint !== junction.name && hint !== toParent.name) continue
    for (const toTarget of junction.foreignKeys) {
      if (toTarget === toParent || toTarget.refTable !== name || !inKey(junction, toTarget)) continue
      const target = ctx.schema.findTable(toTarget.refTable, toTarget.refSchema)
      if (!target || target === junction) continue
      found.push({
        cardinality: 'many-to-many', fk: toTarget, target, pairs: [],
        through: {
          table: junction,
          parentPairs: toParent.refColumns.map((c, i) => [c, toParent.columns[i]]),
          targetPairs: toTarget.columns.map((c, i) => [c, toTarget.refColumns[i]]),
        },
      })
    }
  }
  return found
}

const describe = (r: Relationship) =>
  r.through ? `${r.target.name}!${r.through.table.name} (many-to-many)`
    : `${r.target.name}!${r.fk.name} (${r.cardinality}, ${r.cardinality === 'many-to-one' ? r.fk.columns.join(',') : `${r.target.name}.${r.fk.columns.join(',')}`})`

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
  // through a junction only when no key joins the two directly (or a hint names the junction)
  if (candidates.length === 0) candidates = manyToMany(ctx, from, name, hint)
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
    hint: `pick one with a hint, e.g. ${name}!${candidates[0].through?.table.name ?? candidates[0].fk.name}(...)`,
    detail: candidates.map(describe).join('; '),
  })
}
