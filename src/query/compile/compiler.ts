// The base SQL compiler: parameters, quoting, filters and order, shared by the PostgreSQL and MySQL compilers.
// Dialects override only placeholders, quoting and the conditions that really differ. Values always become
// parameters; identifiers only ever come from the schema cache and are quoted here.
import type { JsonStep } from '../ast.js'
import type { ColumnInfo, TableInfo } from '../../sources/schema.js'
import type { Statement } from '../../sources/driver.js'
import type { PlannedCondition, PlannedFilter, PlannedOrder, Relationship } from '../plan/types.js'
import { MAX_IN_LIST, MAX_PARAMETERS, inListsTooLong, tooManyParameters } from '../input-limits.js'

export abstract class Compiler {
  readonly params: unknown[] = []
  private aliasCount = 0
  private listValues = 0

  protected abstract placeholder(index: number): string
  abstract quote(name: string): string
  /** SQL for one condition on `lhs` (the column or JSON path expression) */
  protected abstract condition(c: PlannedCondition, lhs: string): string
  protected abstract jsonPath(base: string, steps: JsonStep[]): string

  param(value: unknown): string {
    this.params.push(value)
    return this.placeholder(this.params.length)
  }

  /**
   * counts the values of an in list (or an any/all list) against the request's total: PostgreSQL 15 walks several
   * `= ANY` arrays on one indexed column in a loop it does not interrupt, so a request of many long lists can
   * keep a backend busy past every timeout and cancel
   */
  protected countList(values: readonly unknown[]): readonly unknown[] {
    this.listValues += values.length
    if (this.listValues > MAX_IN_LIST) throw inListsTooLong(this.listValues)
    return values
  }

  alias(prefix = 't'): string {
    return `${prefix}${this.aliasCount++}`
  }

  statement(sql: string): Statement {
    // the drivers would send the count in 16 bits: the server would read garbage and drop the connection
    if (this.params.length > MAX_PARAMETERS) throw tooManyParameters(this.params.length)
    return { sql, params: this.params }
  }

  table(t: TableInfo): string {
    return `${this.quote(t.schema)}.${this.quote(t.name)}`
  }

  /**
   * what ties an embedded row (alias `child`) to its parent row: equal key columns, or for many-to-many a
   * junction row joining both (EXISTS, so a pair listed twice in the junction still embeds the row once)
   */
  relationshipConditions(r: Relationship, child: string, parent: string): string[] {
    if (!r.through) return r.pairs.map(([p, c]) => `${this.column(child, c)} = ${this.column(parent, p)}`)
    const j = this.alias('j')
    const on = [
      ...r.through.parentPairs.map(([p, jc]) => `${this.column(j, jc)} = ${this.column(parent, p)}`),
      ...r.through.targetPairs.map(([jc, c]) => `${this.column(j, jc)} = ${this.column(child, c)}`),
    ]
    return [`EXISTS (SELECT 1 FROM ${this.table(r.through.table)} AS ${this.quote(j)} WHERE ${on.join(' AND ')})`]
  }

  column(alias: string, column: ColumnInfo | string): string {
    return `${this.quote(alias)}.${this.quote(typeof column === 'string' ? column : column.name)}`
  }

  field(alias: string, column: ColumnInfo, json: JsonStep[]): string {
    const base = this.column(alias, column)
    return json.length ? this.jsonPath(base, json) : base
  }

  /** the filters joined with AND; empty list → no clause */
  where(filters: PlannedFilter[], alias: string): string[] {
    return filters.map((f) => this.filter(f, alias))
  }

  filter(f: PlannedFilter, alias: string): string {
    if (f.kind === 'cond') {
      const sql = this.condition(f, this.field(alias, f.column, f.json))
      return f.negated ? `NOT (${sql})` : sql
    }
    const parts = f.items.map((item) => this.filter(item, alias))
    const joined = parts.length ? `(${parts.join(f.kind === 'and' ? ' AND ' : ' OR ')})` : f.kind === 'and' ? '(1=1)' : '(1=0)'
    return f.negated ? `NOT ${joined}` : joined
  }

  orderBy(order: PlannedOrder[], alias: string, embedExpr?: (o: PlannedOrder) => string): string {
    if (!order.length) return ''
    const terms = order.map((o) => {
      const expr = o.embed && embedExpr ? embedExpr(o) : this.field(alias, o.column, o.json)
      return `${expr} ${o.direction.toUpperCase()}${this.nullsOrder(o, expr)}`
    })
    return ` ORDER BY ${terms.join(', ')}`
  }

  protected nullsOrder(o: PlannedOrder, _expr: string): string {
    return o.nulls ? ` NULLS ${o.nulls.toUpperCase()}` : ''
  }

  limitOffset(limit: number | undefined, offset: number | undefined): string {
    let sql = ''
    if (limit !== undefined) sql += ` LIMIT ${this.param(limit)}`
    if (offset) sql += `${limit === undefined ? this.noLimit() : ''} OFFSET ${this.param(offset)}`
    return sql
  }

  protected noLimit(): string {
    return ''
  }
}

/** PostgREST lets `*` stand for `%` in like patterns (URLs make % awkward) */
export const likePattern = (value: unknown) => String(value).replaceAll('*', '%')

export const COMPARISON: Record<string, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' }
