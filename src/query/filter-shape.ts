// The shape of a read's filters for the request log: the columns of its top-level AND conditions (a JSON array), equality
// first (the order an index serves them best), each once. OR groups and embed filters are left out: no single
// index on the table answers them.
import type { Filter } from './ast.js'

const EQUALITY = new Set(['eq', 'is', 'in'])
/** at most this many columns: an index wider than this is never advised */
const MAX_COLUMNS = 4

export function filterShape(where: readonly Filter[]): string | undefined {
  const equality: string[] = []
  const other: string[] = []
  const visit = (filters: readonly Filter[]) => {
    for (const f of filters) {
      if (f.embedPath?.length || f.negated) continue
      if (f.kind === 'and') visit(f.items)
      else if (f.kind === 'cond' && f.field.json.length === 0) (EQUALITY.has(f.op) ? equality : other).push(f.field.column)
    }
  }
  visit(where)
  const columns = [...new Set([...equality, ...other])].slice(0, MAX_COLUMNS)
  // JSON, since a column name may hold any character
  return columns.length ? JSON.stringify(columns) : undefined
}
