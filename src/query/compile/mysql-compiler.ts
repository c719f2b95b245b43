// Compiles plans for MySQL/MariaDB: backticks, `?` placeholders, correlated JSON subqueries for embeds.
// Reads return rows (shaped into JSON by the runner); writes are separate statements the runner sequences,
// because MySQL has no UPDATE … RETURNING.
//
// Example: orders?select=id,customers(name)&status=eq.paid compiles to
//   SELECT `t0`.`id` AS `id`, (SELECT JSON_OBJECT('name', `t1`.`name`) FROM `shop`.`customers` AS `t1`
//     WHERE `t1`.`id` = `t0`.`customer_id` LIMIT 1) AS `customers` FROM `shop`.`orders` AS `t0` WHERE `t0`.`status` = ?
import { AppError } from '../../errors/app-error.js'
import type { ColumnInfo, TableInfo } from '../../sources/schema.js'
import type { Statement } from '../../sources/driver.js'
import type { JsonStep } from '../ast.js'
import type { PlannedAggregate, PlannedCondition, PlannedEmbed, PlannedFilter, PlannedInsert, PlannedRead, PlannedSelect } from '../plan/types.js'
import { COMPARISON, Compiler, likePattern } from './compiler.js'

/** a value as MySQL should receive it for a column (booleans as 1/0, JSON as text, timestamps in UTC) */
export function mysqlValue(column: Pick<ColumnInfo, 'category' | 'type' | 'name'>, value: unknown): unknown {
  if (value === null || value === undefined) return null
  if (column.category === 'json') return typeof value === 'string' && isJsonText(value) ? value : JSON.stringify(value)
  if (column.category === 'boolean') {
    if (value === true || value === 'true' || value === 't' || value === '1' || value === 1) return 1
    if (value === false || value === 'false' || value === 'f' || value === '0' || value === 0) return 0
    return value
  }
  // MySQL would silently compare 'abc' as 0; refuse it as PostgreSQL does
  if (column.category === 'number' && typeof value === 'string' && !/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)) {
    throw new AppError('invalid_value', `"${value}" is not a valid number for column "${column.name}"`, { sqlstate: '22P02' })
  }
  if (column.category === 'time' && typeof value === 'string' && /[T ]\d\d:\d\d/.test(value)) {
    const date = new Date(value)
    // ISO text with a zone → UTC wall time (sessions run in UTC); text without a zone stays as written
    if (!Number.isNaN(date.getTime()) && /(Z|[+-]\d\d:?\d\d)$/.test(value)) return date.toISOString().replace('T', ' ').replace('Z', '')
    return value.replace('T', ' ')
  }
  if (typeof value === 'object') return JSON.stringify(value)
  return value
}

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** PostgreSQL-style array literal `{a,b}` → JSON array text, so cs/cd read the same on both dialects */
function containmentValue(value: unknown): string {
  if (typeof value === 'string') {
    if (isJsonText(value)) return value
    if (value.startsWith('{') && value.endsWith('}')) {
      return JSON.stringify(value.slice(1, -1).split(',').filter(Boolean).map((v) => v.replace(/^"|"$/g, '')))
    }
    return JSON.stringify(value)
  }
  return JSON.stringify(value)
}

export class MysqlCompiler extends Compiler {
  protected placeholder(): string {
    return '?'
  }

  quote(name: string): string {
    // names with a backtick in them are rare: the others skip the replace (this runs for every identifier)
    return name.includes('`') ? `\`${name.replaceAll('`', '``')}\`` : `\`${name}\``
  }

  protected jsonPath(_base: string, _steps: JsonStep[]): string {
    throw new AppError('unsupported_feature', 'JSON paths are not supported on MySQL sources')
  }

  protected override noLimit(): string {
    return ' LIMIT 18446744073709551615'
  }

  override orderBy(order: PlannedRead['order'], alias: string): string {
    if (!order.length) return ''
    const terms = order.flatMap((o) => {
      const expr = this.field(alias, o.column, o.json)
      const sorted = `${expr} ${o.direction.toUpperCase()}`
      // a NOT NULL column needs no null ordering, and a plain ORDER BY can use its index
      if (!o.column.nullable) return [sorted]
      const nullsFirst = o.nulls === 'first' || (o.nulls === undefined && o.direction === 'desc')
      // PostgreSQL's default (nulls last ascending, first descending) is kept on MySQL for the same results
      return [`(${expr} IS NULL) ${nullsFirst ? 'DESC' : 'ASC'}`, sorted]
    })
    return ` ORDER BY ${terms.join(', ')}`
  }

  protected condition(c: PlannedCondition, lhs: string): string {
    const v = c.value
    const cast = (x: unknown) => mysqlValue(c.column, x)
    if (c.quantifier) {
      const values = this.countList(v.kind === 'list' ? v.values : [])
      if (!values.length) return c.quantifier === 'any' ? '(1=0)' : '(1=1)'
      const one = (x: unknown) => this.comparison(c, lhs, x)
      return `(${values.map(one).join(c.quantifier === 'any' ? ' OR ' : ' AND ')})`
    }
    switch (c.op) {
      case 'in': {
        const values = this.countList(v.kind === 'list' ? v.values : [v.kind === 'scalar' ? v.value : null])
        return values.length ? `${lhs} IN (${values.map((x) => this.param(cast(x))).join(', ')})` : '(1=0)'
      }
      case 'is': {
        const which = v.kind === 'is' ? v.value : String(v.kind === 'scalar' ? v.value : '').toLowerCase()
        return `${lhs} IS ${which === 'null' ? 'NULL' : which === 'true' ? 'TRUE' : which === 'false' ? 'FALSE' : 'UNKNOWN'}`
      }
      case 'isdistinct': return `NOT (${lhs} <=> ${this.param(cast(scalarOf(v)))})`
      case 'cs': return `JSON_CONTAINS(${lhs}, ${this.param(containmentValue(scalarOf(v)))})`
      case 'cd': return `JSON_CONTAINS(${this.param(containmentValue(scalarOf(v)))}, ${lhs})`
      case 'ov': return `JSON_OVERLAPS(${lhs}, ${this.param(containmentValue(scalarOf(v)))})`
      default: return this.comparison(c, lhs, scalarOf(v))
    }
  }

  private comparison(c: PlannedCondition, lhs: string, value: unknown): string {
    switch (c.op) {
      case 'like': return `${lhs} LIKE ${this.param(likePattern(value))}`
      case 'ilike': return `LOWER(${lhs}) LIKE LOWER(${this.param(likePattern(value))})`
      case 'match': return `${lhs} REGEXP BINARY ${this.param(String(value))}`
      case 'imatch': return `LOWER(${lhs}) REGEXP LOWER(${this.param(String(value))})`
      default: {
        const op = COMPARISON[c.op]
        if (!op) throw new AppError('unsupported_feature', `operator "${c.op}" is not supported on MySQL sources`)
        return `${lhs} ${op} ${this.param(mysqlValue(c.column, value))}`
      }
    }
  }

  /** SELECT of the page's rows; embeds come back as JSON text the runner parses */
  compileRead(plan: PlannedRead): Statement {
    if (plan.group) return this.compileGroup(plan)
    return this.statement(this.readSql(plan))
  }

  compileCount(plan: PlannedRead): Statement {
    const a = this.alias()
    const where = this.conditions(plan, a)
    if (isAggregated(plan)) {
      // aggregates count their groups; with nothing to group by there is exactly one
      const groupBy = this.groupBy(plan, a)
      if (!groupBy) return this.statement('SELECT 1 AS n')
      return this.statement(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${this.table(plan.table)} AS ${this.quote(a)}${where}${groupBy}) _g`)
    }
    return this.statement(`SELECT COUNT(*) AS n FROM ${this.table(plan.table)} AS ${this.quote(a)}${where}`)
  }

  compileEstimate(plan: PlannedRead): Statement {
    const a = this.alias()
    return this.statement(`EXPLAIN SELECT 1 FROM ${this.table(plan.table)} AS ${this.quote(a)}${this.conditions(plan, a)}`)
  }

  /** the page of `plan` restricted to `filters` (used to read back written rows by primary key) */
  compileReadWhere(plan: PlannedRead, filters: PlannedFilter[]): Statement {
    return this.statement(this.readSql({ ...plan, where: [...plan.where, ...filters] }))
  }

  private readSql(plan: PlannedRead): string {
    const a = this.alias()
    const columns = plan.select.filter(isOutput).map((item) => this.selectItem(item, a)).join(', ') || `${this.quote(a)}.*`
    return `SELECT ${columns} FROM ${this.table(plan.table)} AS ${this.quote(a)}${this.conditions(plan, a)}${this.groupBy(plan, a)}${this.orderBy(plan.order, a)}${this.limitOffset(plan.limit, plan.offset)}`
  }

  /** with aggregates in the select, its column items are the groups */
  private groupBy(plan: PlannedRead, a: string): string {
    if (!isAggregated(plan)) return ''
    const groups = plan.select.flatMap((s) => (s.kind === 'column' ? [this.column(a, s.column)] : []))
    return groups.length ? ` GROUP BY ${groups.join(', ')}` : ''
  }

  private aggregateExpr(item: PlannedAggregate, a: string): string {
    return `${item.fn.toUpperCase()}(${item.column ? this.column(a, item.column) : '*'})`
  }

  private conditions(plan: PlannedRead, a: string): string {
    const embeds = plan.select.filter((s): s is PlannedEmbed => s.kind === 'embed')
    const where = [
      ...this.where(plan.where, a),
      ...embeds.filter((e) => e.inner || e.nullFilter === 'not-null').map((e) => `EXISTS (${this.embedRows(e, a, true)})`),
      ...embeds.filter((e) => e.nullFilter === 'null').map((e) => `NOT EXISTS (${this.embedRows(e, a, true)})`),
    ]
    return where.length ? ` WHERE ${where.join(' AND ')}` : ''
  }

  private selectItem(item: PlannedSelect, a: string): string {
    if (item.kind === 'star') return `${this.quote(a)}.*`
    if (item.kind === 'column') return `${this.column(a, item.column)} AS ${this.quote(item.output)}`
    if (item.kind === 'aggregate') return `${this.aggregateExpr(item, a)} AS ${this.quote(item.output)}`
    return `(${this.embedRows(item, a, false)}) AS ${this.quote(item.output)}`
  }

  /** JSON_OBJECT of the child's columns; nested embeds come back as JSON text that the runner parses */
  private jsonObject(plan: PlannedRead, a: string): string {
    const pairs: string[] = []
    for (const item of plan.select.filter(isOutput)) {
      if (item.kind === 'star') for (const c of item.table.columns) pairs.push(`${this.param(c.name)}, ${this.column(a, c)}`)
      else if (item.kind === 'column') pairs.push(`${this.param(item.output)}, ${this.column(a, item.column)}`)
      else if (item.kind === 'aggregate') pairs.push(`${this.param(item.output)}, ${this.aggregateExpr(item, a)}`)
      else pairs.push(`${this.param(item.output)}, (${this.embedRows(item, a, false)})`)
    }
    return `JSON_OBJECT(${pairs.join(', ')})`
  }

  private embedRows(embed: PlannedEmbed, parent: string, existsOnly: boolean): string {
    const child = embed.child
    const c = this.alias()
    // `?` placeholders are numbered by position: every part is built in the order it appears in the text
    const from = () => {
      const where = [...this.relationshipConditions(embed.relationship, c, parent), ...this.where(child.where, c)]
      return ` FROM ${this.table(child.table)} AS ${this.quote(c)} WHERE ${where.join(' AND ')}`
    }
    // aggregates without groups answer one row even over no rows (as on PostgreSQL), so such an embed always exists
    if (existsOnly) return `SELECT ${isAggregated(child) && !isGrouped(child) ? 'COUNT(*)' : '1'}${from()}`
    if (isGrouped(child)) return this.groupedEmbedRows(embed, parent)
    const object = this.jsonObject(child, c)
    if (embed.relationship.cardinality === 'many-to-one') return `SELECT ${object}${from()} LIMIT 1`
    // aggregates without groups: one object, `[{"count": 0}]` over no rows
    if (isAggregated(child)) return `SELECT JSON_ARRAY(${object})${from()}`
    const order = child.order.length ? this.orderBy(child.order, c) : ''
    const limit = child.limit !== undefined || child.offset ? ` LIMIT ${child.offset ? `${this.param(child.offset)}, ` : ''}${this.param(child.limit ?? 1e15)}` : ''
    return `SELECT COALESCE(JSON_ARRAYAGG(${object}${order}${limit}), JSON_ARRAY())${from()}`
  }

  /**
   * An embed with group columns beside its aggregates (`orders(status,total.sum())`): one JSON object per group
   * of each parent's rows. MariaDB has no LATERAL and a derived table cannot see the parent row, so the groups
   * are formed over the child rows of every parent, keyed by the parent's join columns, and the parent picks
   * its own groups by that key. MariaDB's optimizer splits such a derived table per key (EXPLAIN: `LATERAL
   * DERIVED`, read through the child's index on the join column), so the groups of all parents are not formed
   * for each one. For customers?select=id,orders(status,total.sum()):
   *   (SELECT COALESCE(JSON_ARRAYAGG(JSON_OBJECT('status', `g`.`status`, 'sum', `g`.`_a1`)), JSON_ARRAY())
   *     FROM (SELECT `t2`.`customer_id` AS `_k0`, `t2`.`status` AS `status`, SUM(`t2`.`total`) AS `_a1`
   *       FROM `orders` AS `t2` GROUP BY `t2`.`customer_id`, `t2`.`status`) AS `g` WHERE `g`.`_k0` = `t0`.`id`)
   */
  private groupedEmbedRows(embed: PlannedEmbed, parent: string): string {
    const child = embed.child
    const r = embed.relationship
    const c = this.alias()
    const g = this.alias('g')
    const j = r.through ? this.alias('j') : ''
    // [expression inside the derived table, parent column it must equal]
    const keys: Array<[string, string]> = r.through
      ? r.through.parentPairs.map(([p, jc]) => [this.column(j, jc), p])
      : r.pairs.map(([p, cc]) => [this.column(c, cc), p])
    const inner: string[] = keys.map(([expr], i) => `${expr} AS \`_k${i}\``)
    const groups: string[] = keys.map(([expr]) => expr)
    const pairs: string[] = []
    const grouped = new Set<string>()
    // `?` placeholders are numbered by position: the object's keys come first, then ORDER/LIMIT, then the derived table
    child.select.forEach((item, i) => {
      if (item.kind === 'column') {
        if (!grouped.has(item.column.name)) {
          grouped.add(item.column.name)
          inner.push(`${this.column(c, item.column)} AS ${this.quote(item.column.name)}`)
          groups.push(this.column(c, item.column))
        }
        pairs.push(`${this.param(item.output)}, ${this.column(g, item.column)}`)
      } else if (item.kind === 'aggregate') {
        inner.push(`${this.aggregateExpr(item, c)} AS \`_a${i}\``)
        pairs.push(`${this.param(item.output)}, ${this.quote(g)}.\`_a${i}\``)
      }
    })
    const object = `JSON_OBJECT(${pairs.join(', ')})`
    const order = child.order.length ? this.orderBy(child.order, g) : ''
    const limit = child.limit !== undefined || child.offset ? ` LIMIT ${child.offset ? `${this.param(child.offset)}, ` : ''}${this.param(child.limit ?? 1e15)}` : ''
    const junction = r.through
      ? ` JOIN ${this.table(r.through.table)} AS ${this.quote(j)} ON ${r.through.targetPairs.map(([jc, cc]) => `${this.column(j, jc)} = ${this.column(c, cc)}`).join(' AND ')}`
      : ''
    const where = this.where(child.where, c)
    const derived = `SELECT ${inner.join(', ')} FROM ${this.table(child.table)} AS ${this.quote(c)}${junction}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} GROUP BY ${groups.join(', ')}`
    const match = keys.map(([, p], i) => `${this.quote(g)}.\`_k${i}\` = ${this.column(parent, p)}`).join(' AND ')
    const value = r.cardinality === 'many-to-one' ? object : `COALESCE(JSON_ARRAYAGG(${object}${order}${limit}), JSON_ARRAY())`
    return `SELECT ${value} FROM (${derived}) AS ${this.quote(g)} WHERE ${match}${r.cardinality === 'many-to-one' ? ' LIMIT 1' : ''}`
  }

  private compileGroup(plan: PlannedRead): Statement {
    const g = plan.group!
    const a = this.alias()
    const col = this.column(a, g.column)
    // the format is one of three constants chosen by an enum, never request text; inlined because the
    // bucket expression appears twice and `?` placeholders cannot be reused
    const format = { day: "'%Y-%m-%dT00:00:00'", hour: "'%Y-%m-%dT%H:00:00'", minute: "'%Y-%m-%dT%H:%i:00'" }
    const bucket = g.granularity ? `DATE_FORMAT(${col}, ${format[g.granularity]})` : col
    const agg = g.aggregate ? this.column(a, g.aggregate) : undefined
    const distinct = g.dedup ? 'DISTINCT ' : ''
    const outputs = [`${bucket} AS ${this.quote(g.column.name)}`, `COUNT(${agg && g.dedup ? `DISTINCT ${agg}` : '*'}) AS \`count\``]
    if (agg) outputs.push(`SUM(${distinct}${agg}) AS \`sum\``)
    if (agg && g.cumulative) outputs.push(`SUM(SUM(${distinct}${agg})) OVER (ORDER BY ${bucket} ROWS UNBOUNDED PRECEDING) AS \`cumulative_sum\``)
    const where = this.where(plan.where, a)
    const direction = plan.order[0]?.direction === 'desc' ? 'DESC' : 'ASC'
    return this.statement(`SELECT ${outputs.join(', ')} FROM ${this.table(plan.table)} AS ${this.quote(a)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} GROUP BY 1 ORDER BY 1 ${direction}${this.limitOffset(plan.limit, plan.offset)}`)
  }

  /** one multi-row INSERT; `returning` asks MariaDB for the primary keys of the written rows */
  compileInsert(plan: PlannedInsert, returningKeys: string[] | null): Statement {
    const table = this.table(plan.table)
    if (plan.columns.length === 0) {
      if (plan.rows.length > 1) throw new AppError('invalid_request', 'several rows with no columns cannot be inserted; name at least one column')
      return this.statement(`INSERT INTO ${table} () VALUES ()${returningKeys ? ` RETURNING ${returningKeys.map((k) => this.quote(k)).join(', ')}` : ''}`)
    }
    const names = plan.columns.map((c) => this.quote(c.name)).join(', ')
    const tuples = plan.rows.map((row) => `(${plan.columns.map((c) => (c.name in row ? this.param(mysqlValue(c, row[c.name])) : plan.missing === 'default' ? 'DEFAULT' : 'NULL')).join(', ')})`)
    let sql = `INSERT INTO ${table} (${names}) VALUES ${tuples.join(', ')}`
    if (plan.onConflict) {
      const conflict = plan.onConflict
      // MySQL has no conflict target: any unique key triggers ON DUPLICATE KEY (documented in docs/rest.md)
      const sets = conflict.action === 'ignore'
        ? conflict.columns.slice(0, 1).map((c) => `${this.quote(c.name)} = ${this.quote(c.name)}`)
        : conflict.set
          ? conflict.set.map(([c, v]) => `${this.quote(c.name)} = ${this.param(mysqlValue(c, v))}`)
          : plan.columns.filter((c) => !conflict.columns.includes(c)).map((c) => `${this.quote(c.name)} = VALUES(${this.quote(c.name)})`)
      sql += ` ON DUPLICATE KEY UPDATE ${(sets.length ? sets : [`${this.quote(conflict.columns[0].name)} = ${this.quote(conflict.columns[0].name)}`]).join(', ')}`
    }
    if (returningKeys) sql += ` RETURNING ${returningKeys.map((k) => this.quote(k)).join(', ')}`
    return this.statement(sql)
  }

  compileSelectKeys(table: TableInfo, where: PlannedFilter[], lock: boolean): Statement {
    const a = this.alias()
    const cond = this.where(where, a)
    const keys = table.primaryKey.map((k) => this.column(a, k)).join(', ')
    return this.statement(`SELECT ${keys} FROM ${this.table(table)} AS ${this.quote(a)} WHERE ${cond.join(' AND ')}${lock ? ' FOR UPDATE' : ''}`)
  }

  compileUpdate(table: TableInfo, set: Array<[ColumnInfo, unknown]>, where: PlannedFilter[]): Statement {
    const a = this.alias()
    const sets = set.map(([c, v]) => `${this.column(a, c)} = ${this.param(mysqlValue(c, v))}`)
    return this.statement(`UPDATE ${this.table(table)} AS ${this.quote(a)} SET ${sets.join(', ')} WHERE ${this.where(where, a).join(' AND ')}`)
  }

  compileDelete(table: TableInfo, where: PlannedFilter[]): Statement {
    const a = this.alias()
    return this.statement(`DELETE ${this.quote(a)} FROM ${this.table(table)} AS ${this.quote(a)} WHERE ${this.where(where, a).join(' AND ')}`)
  }

  compileCall(kind: 'function' | 'procedure', schema: string, name: string, args: unknown[]): Statement {
    const list = args.map((v) => this.param(v !== null && typeof v === 'object' ? JSON.stringify(v) : v)).join(', ')
    const target = `${this.quote(schema)}.${this.quote(name)}`
    return this.statement(kind === 'function' ? `SELECT ${target}(${list}) AS v` : `CALL ${target}(${list})`)
  }
}

/** empty embeds (`authors()`) filter rows but are not part of them */
const isOutput = (item: PlannedSelect) => item.kind !== 'embed' || !item.empty

const isAggregated = (plan: PlannedRead) => plan.select.some((s) => s.kind === 'aggregate')

/** aggregates beside group columns: one row per group, none over no rows */
const isGrouped = (plan: PlannedRead) => isAggregated(plan) && plan.select.some((s) => s.kind === 'column')

function scalarOf(v: PlannedCondition['value']): unknown {
  return v.kind === 'scalar' ? v.value : v.kind === 'list' ? v.values[0] : v.kind === 'is' ? v.value : v.query
}
