// Compiles plans to one PostgreSQL statement each. PostgreSQL builds the JSON body itself (json_agg, as
// PostgREST does), so rows are never materialised as JS objects: the result is one text column + counts.
//
// Example: GET /rest/v1/orders?select=id,customers(name)&status=eq.paid&limit=2 compiles to
//   SELECT coalesce(json_agg(_r), '[]')::text, count(*)::int FROM (
//     SELECT "t0"."id" AS "id", "e1"."v" AS "customers" FROM "public"."orders" AS "t0"
//     LEFT JOIN LATERAL (SELECT row_to_json(_e2) AS v FROM (SELECT "t3"."name" AS "name" FROM "public"."customers" AS "t3"
//       WHERE "t3"."id" = "t0"."customer_id") AS _e2) AS "e1" ON TRUE
//     WHERE "t0"."status" = $1 LIMIT $2) _r                       -- params ['paid', 2]
import type { JsonStep } from '../ast.js'
import type { ColumnInfo, TableInfo } from '../../sources/schema.js'
import type { Statement } from '../../sources/driver.js'
import type { PlannedAggregate, PlannedCondition, PlannedDelete, PlannedEmbed, PlannedInsert, PlannedOrder, PlannedRead, PlannedRpc, PlannedUpdate } from '../plan/types.js'
import { AppError } from '../../errors/app-error.js'
import { COMPARISON, Compiler, likePattern } from './compiler.js'

const RANGE_OPS: Record<string, string> = { cs: '@>', cd: '<@', ov: '&&', sl: '<<', sr: '>>', nxl: '&>', nxr: '&<', adj: '-|-' }
const FTS_FUNCTIONS: Record<string, string> = { fts: 'to_tsquery', plfts: 'plainto_tsquery', phfts: 'phraseto_tsquery', wfts: 'websearch_to_tsquery' }
const TEXTUAL = new Set(['string'])
const PATTERN_OPS: Record<string, string> = { like: 'LIKE', ilike: 'ILIKE', match: '~', imatch: '~*' }

interface InnerRead {
  /** SELECT … FROM … WHERE … [GROUP BY …] ORDER … LIMIT … */
  select: string
  /** FROM … WHERE … (for counts over the same rows) */
  fromWhere: string
  /** ` GROUP BY …` when the select has aggregates and columns to group by, else '' */
  groupBy: string
  /** aggregates with nothing to group by: always exactly one row */
  oneRow: boolean
}

/** rows a count counts: the groups when the select aggregates */
function countOf(inner: InnerRead): string {
  if (inner.oneRow) return 'SELECT 1::bigint'
  return inner.groupBy ? `SELECT count(*) FROM (SELECT 1 ${inner.fromWhere}${inner.groupBy}) _g` : `SELECT count(*) ${inner.fromWhere}`
}

/** a value as PostgreSQL should receive it for a column: JSON columns get JSON text */
export function pgValue(column: Pick<ColumnInfo, 'category'>, value: unknown): unknown {
  if (value === null || value === undefined) return null
  if (column.category === 'json') return JSON.stringify(value)
  if (typeof value === 'object' && !Array.isArray(value)) return JSON.stringify(value)
  return value
}

export class PostgresCompiler extends Compiler {
  protected placeholder(index: number): string {
    return `$${index}`
  }

  quote(name: string): string {
    // names with a quote in them are rare: the others skip the replace (this runs for every identifier)
    return name.includes('"') ? `"${name.replaceAll('"', '""')}"` : `"${name}"`
  }

  protected jsonPath(base: string, steps: JsonStep[]): string {
    return steps.reduce((expr, s) => {
      const key = /^-?\d+$/.test(s.key) ? `${this.param(Number(s.key))}::int` : `${this.param(s.key)}::text`
      return `${expr}${s.asText ? '->>' : '->'}${key}`
    }, base)
  }

  protected condition(c: PlannedCondition, lhs: string): string {
    const v = c.value
    const textLhs = TEXTUAL.has(c.column.category) || c.json.at(-1)?.asText ? lhs : `${lhs}::text`
    if (c.quantifier) {
      const values = v.kind === 'list' ? v.values : []
      const op = COMPARISON[c.op] ?? PATTERN_OPS[c.op]
      const list = c.op === 'like' || c.op === 'ilike' ? values.map(likePattern) : values
      const target = COMPARISON[c.op] ? lhs : textLhs
      return `${target} ${op} ${c.quantifier.toUpperCase()}(${this.param(this.countList(list))})`
    }
    switch (c.op) {
      case 'eq': case 'neq': case 'gt': case 'gte': case 'lt': case 'lte':
        return `${lhs} ${COMPARISON[c.op]} ${this.param(scalar(c, v))}`
      case 'like': return `${textLhs} LIKE ${this.param(likePattern(scalar(c, v)))}`
      case 'ilike': return `${textLhs} ILIKE ${this.param(likePattern(scalar(c, v)))}`
      case 'match': return `${textLhs} ~ ${this.param(String(scalar(c, v)))}`
      case 'imatch': return `${textLhs} ~* ${this.param(String(scalar(c, v)))}`
      case 'in': {
        const values = this.countList(v.kind === 'list' ? v.values : [scalar(c, v)])
        return `${lhs} = ANY(${this.param(values.map((x) => (x !== null && typeof x === 'object' ? JSON.stringify(x) : x)))})`
      }
      case 'is': {
        const which = v.kind === 'is' ? v.value : String(scalar(c, v)).toLowerCase()
        return `${lhs} IS ${which === 'null' ? 'NULL' : which === 'true' ? 'TRUE' : which === 'false' ? 'FALSE' : 'UNKNOWN'}`
      }
      case 'isdistinct': return `${lhs} IS DISTINCT FROM ${this.param(scalar(c, v))}`
      case 'fts': case 'plfts': case 'phfts': case 'wfts': {
        const query = v.kind === 'fts' ? v : { query: String(scalar(c, v)), config: undefined }
        const config = query.config ? `${this.param(query.config)}::regconfig, ` : ''
        return `${lhs} @@ ${FTS_FUNCTIONS[c.op]}(${config}${this.param(query.query)})`
      }
      default: {
        // containment and range operators: JSON columns compare as jsonb, arrays/ranges take literals or arrays
        const value = scalarOrList(v)
        const isJson = c.column.category === 'json' && c.json.length === 0
        const operand = isJson ? `${this.param(typeof value === 'string' ? value : JSON.stringify(value))}::jsonb` : this.param(value)
        return `${isJson ? `${lhs}::jsonb` : lhs} ${RANGE_OPS[c.op]} ${operand}`
      }
    }
  }

  /** one row: the page as JSON text (`body`), its row count (`rows`) and, when asked, the exact total (`total`) */
  compileRead(plan: PlannedRead, opts: { from?: string; exactCount?: boolean } = {}): Statement {
    if (plan.group) return this.compileGroup(plan)
    const inner = this.readInner(plan, opts.from ?? this.table(plan.table))
    const total = opts.exactCount ? `, (${countOf(inner)}) AS total` : ''
    return this.statement(`SELECT ${this.aggregate(plan)} AS body, count(*)::int AS rows${total} FROM (${inner.select}) _r`)
  }

  /** one JSON text per row, for cursors over large results */
  compileRowStream(plan: PlannedRead): Statement {
    const inner = this.readInner(plan, this.table(plan.table))
    const row = plan.stripNulls ? 'json_strip_nulls(row_to_json(_r))' : 'row_to_json(_r)'
    return this.statement(`SELECT ${row}::text FROM (${inner.select}) _r`)
  }

  compileCount(plan: PlannedRead): Statement {
    const inner = this.readInner({ ...plan, order: [], limit: undefined, offset: undefined }, this.table(plan.table))
    return this.statement(countOf(inner))
  }

  /** the planner's row estimate (Prefer: count=planned); `from` replaces the table (a function call) */
  compileEstimate(plan: PlannedRead, from = this.table(plan.table)): Statement {
    const inner = this.readInner({ ...plan, order: [], limit: undefined, offset: undefined }, from)
    return this.statement(`EXPLAIN (FORMAT JSON) SELECT 1 ${inner.fromWhere}${inner.groupBy}`)
  }

  private aggregate(plan: PlannedRead): string {
    return plan.stripNulls ? `coalesce(json_agg(json_strip_nulls(row_to_json(_r))), '[]')::text` : `coalesce(json_agg(_r), '[]')::text`
  }

  private readInner(plan: PlannedRead, from: string, joinOn?: (alias: string) => string[]): InnerRead {
    const a = this.alias()
    const columns: string[] = []
    const groups: string[] = []
    const joins: string[] = []
    const innerConditions: string[] = []
    const embedAlias = new Map<PlannedEmbed, string>()
    for (const item of plan.select) {
      if (item.kind === 'star') columns.push(`${this.quote(a)}.*`)
      else if (item.kind === 'column') {
        const expr = this.field(a, item.column, item.json)
        const value = item.cast ? `CAST(${expr} AS ${item.cast})` : expr
        groups.push(value)
        columns.push(`${value} AS ${this.quote(item.output)}`)
      } else if (item.kind === 'aggregate') {
        columns.push(`${this.aggregateExpr(item, a)} AS ${this.quote(item.output)}`)
      } else if (item.empty && !item.inner && !item.nullFilter) {
        continue // `authors()` that filters nothing: no join at all
      } else {
        const e = this.alias('e')
        embedAlias.set(item, e)
        joins.push(this.embedJoin(item, a, e))
        if (!item.empty) columns.push(`${this.quote(e)}.v AS ${this.quote(item.output)}`)
        const found = item.relationship.cardinality === 'many-to-one' ? `${this.quote(e)}.v IS NOT NULL` : `json_array_length(${this.quote(e)}.v) > 0`
        if (item.inner || item.nullFilter === 'not-null') innerConditions.push(found)
        if (item.nullFilter === 'null') innerConditions.push(`NOT (${found})`)
      }
    }
    if (!columns.length) columns.push(`${this.quote(a)}.*`)
    const conditions = [...(joinOn?.(a) ?? []), ...this.where(plan.where, a), ...innerConditions]
    const fromWhere = `FROM ${from} AS ${this.quote(a)}${joins.join('')}${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''}`
    const grouped = plan.select.some((s) => s.kind === 'aggregate')
    const groupBy = grouped && groups.length ? ` GROUP BY ${groups.join(', ')}` : ''
    const order = this.orderBy(plan.order, a, (o) => this.embedOrderExpr(o, embedAlias))
    return { select: `SELECT ${columns.join(', ')} ${fromWhere}${groupBy}${order}${this.limitOffset(plan.limit, plan.offset)}`, fromWhere, groupBy, oneRow: grouped && !groups.length }
  }

  /** `sum("t0"."total")`, `count(*)`, with the casts PostgREST allows before and after */
  private aggregateExpr(item: PlannedAggregate, a: string): string {
    let input = item.column ? this.field(a, item.column, item.json) : '*'
    if (item.inputCast) input = `CAST(${input} AS ${item.inputCast})`
    const expr = `${item.fn}(${input})`
    return item.cast ? `CAST(${expr} AS ${item.cast})` : expr
  }

  private embedJoin(embed: PlannedEmbed, parent: string, e: string): string {
    const inner = this.readInner(embed.child, this.table(embed.child.table), (child) => this.relationshipConditions(embed.relationship, child, parent))
    const row = this.alias('_e')
    const value = embed.relationship.cardinality === 'many-to-one' ? `row_to_json(${row})` : `coalesce(json_agg(${row}), '[]'::json)`
    return ` LEFT JOIN LATERAL (SELECT ${value} AS v FROM (${inner.select}) AS ${row}) AS ${this.quote(e)} ON TRUE`
  }

  private embedOrderExpr(o: PlannedOrder, embedAlias: Map<PlannedEmbed, string>): string {
    const e = embedAlias.get(o.embed!)!
    return this.jsonPath(`(${this.quote(e)}.v::jsonb)`, [{ key: o.column.name, asText: false }, ...o.json])
  }

  /** Athena group_by: one row per bucket with count, sum and running total (see docs/gateway.md) */
  private compileGroup(plan: PlannedRead): Statement {
    const g = plan.group!
    const a = this.alias()
    const col = this.column(a, g.column)
    const bucket = g.granularity ? `date_trunc(${this.param(g.granularity)}, ${col})` : col
    const agg = g.aggregate ? this.column(a, g.aggregate) : undefined
    const distinct = g.dedup ? 'DISTINCT ' : ''
    const outputs = [`${bucket} AS ${this.quote(g.column.name)}`, `count(${agg && g.dedup ? `DISTINCT ${agg}` : '*'}) AS count`]
    if (agg) outputs.push(`sum(${distinct}${agg}) AS sum`)
    if (agg && g.cumulative) outputs.push(`sum(sum(${distinct}${agg})) OVER (ORDER BY ${bucket} ROWS UNBOUNDED PRECEDING) AS cumulative_sum`)
    const conditions = this.where(plan.where, a)
    const direction = plan.order[0]?.direction === 'desc' ? 'DESC' : 'ASC'
    const body = `SELECT ${outputs.join(', ')} FROM ${this.table(plan.table)} AS ${this.quote(a)}${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''} GROUP BY 1 ORDER BY 1 ${direction}${this.limitOffset(plan.limit, plan.offset)}`
    return this.statement(`SELECT ${this.aggregate(plan)} AS body, count(*)::int AS rows FROM (${body}) _r`)
  }

  /**
   * mutations return [JSON array text of RETURNING rows shaped by `returning`, affected rows]; one that returns
   * nothing is the bare statement, whose command tag counts the rows (a RETURNING 1 CTE to count them cost
   * PostgreSQL about 6% more CPU on a 1,000-row insert)
   */
  private wrapMutation(mutation: string, m: string, returning: PlannedRead | null): Statement {
    const written = this.quote('atrium_written')
    if (!returning) return this.statement(mutation)
    const inner = this.readInner(returning, written)
    return this.statement(`WITH ${written} AS (${mutation} RETURNING ${this.quote(m)}.*) SELECT ${this.aggregate(returning)}, count(*)::int FROM (${inner.select}) _r`)
  }

  compileInsert(plan: PlannedInsert): Statement {
    const m = this.alias('m')
    const target = `${this.table(plan.table)} AS ${this.quote(m)}`
    let sql: string
    if (plan.columns.length === 0) {
      if (plan.rows.length > 1) throw new AppError('invalid_request', 'several rows with no columns cannot be inserted; name at least one column')
      sql = `INSERT INTO ${target} DEFAULT VALUES`
    } else {
      const names = plan.columns.map((c) => this.quote(c.name)).join(', ')
      sql = `INSERT INTO ${target} (${names}) ${plan.missing === 'default' ? this.rowsWithDefaults(plan) : this.rowsFromJson(plan)}`
    }
    if (plan.onConflict) {
      const target = plan.onConflict.columns.map((c) => this.quote(c.name)).join(', ')
      if (plan.onConflict.action === 'ignore') sql += ` ON CONFLICT (${target}) DO NOTHING`
      else {
        const sets = plan.onConflict.set
          ? plan.onConflict.set.map(([c, v]) => `${this.quote(c.name)} = ${this.param(pgValue(c, v))}`)
          : plan.columns.filter((c) => !plan.onConflict!.columns.includes(c)).map((c) => `${this.quote(c.name)} = EXCLUDED.${this.quote(c.name)}`)
        sql += sets.length ? ` ON CONFLICT (${target}) DO UPDATE SET ${sets.join(', ')}` : ` ON CONFLICT (${target}) DO NOTHING`
      }
    }
    return this.wrapMutation(sql, m, plan.returning)
  }

  /** all rows in one statement: the JSON body is one parameter that PostgreSQL turns into typed rows */
  private rowsFromJson(plan: PlannedInsert): string {
    const names = plan.columns.map((c) => this.quote(c.name)).join(', ')
    return `SELECT ${names} FROM json_populate_recordset(NULL::${this.table(plan.table)}, ${this.rowsParam(plan, 'json')})`
  }

  /**
   * The rows as one JSON parameter of type `type`: the client's own text when the request had one (the planner
   * checked the rows parsed from that same text), else `rows` serialised. Sending the text as received saves
   * Atrium a JSON.stringify of the whole body per insert, and keeps numbers exactly as written.
   *   rowsJson { text: '{"table_name":"t","insert_body":[…]}', member: 'insert_body' } → ($1::json -> $2::text)
   */
  private rowsParam(plan: PlannedInsert, type: 'json' | 'jsonb'): string {
    const sent = plan.rowsJson
    if (!sent) return `${this.param(JSON.stringify(plan.rows))}::${type}`
    const text = `${this.param(sent.text)}::${type}`
    return sent.member === undefined ? text : `(${text} -> ${this.param(sent.member)}::text)`
  }

  /** Prefer: missing=default — keys absent from a row take the column default instead of NULL */
  private rowsWithDefaults(plan: PlannedInsert): string {
    // a column every row names needs no per-row test; when that is every column, the rows are dense and take
    // the one-pass statement (a per-row jsonb_populate_record is markedly slower: bench/README.md)
    const sparse = new Set(plan.columns.filter((c) => plan.rows.some((r) => !Object.hasOwn(r, c.name))))
    if (!sparse.size) return this.rowsFromJson(plan)
    const values = plan.columns.map((c) => {
      if (!sparse.has(c)) return `_p.${this.quote(c.name)}`
      // the default expression comes from the database's own catalog, never from the request
      const fallback = c.default ?? 'NULL'
      return `CASE WHEN _j.r ? ${this.param(c.name)} THEN _p.${this.quote(c.name)} ELSE ${fallback} END`
    })
    return `SELECT ${values.join(', ')} FROM jsonb_array_elements(${this.rowsParam(plan, 'jsonb')}) WITH ORDINALITY AS _j(r, n), LATERAL jsonb_populate_record(NULL::${this.table(plan.table)}, _j.r) AS _p ORDER BY _j.n`
  }

  compileUpdate(plan: PlannedUpdate): Statement {
    const m = this.alias('m')
    const sets = plan.set.map(([c, v]) => `${this.quote(c.name)} = ${this.param(pgValue(c, v))}`)
    const where = this.where(plan.where, m)
    return this.wrapMutation(`UPDATE ${this.table(plan.table)} AS ${this.quote(m)} SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`, m, plan.returning)
  }

  compileDelete(plan: PlannedDelete): Statement {
    const m = this.alias('m')
    const where = this.where(plan.where, m)
    return this.wrapMutation(`DELETE FROM ${this.table(plan.table)} AS ${this.quote(m)} WHERE ${where.join(' AND ')}`, m, plan.returning)
  }

  private rpcCall(plan: PlannedRpc): string {
    const args = plan.args.map(([arg, v]) => `${this.quote(arg.name)} := ${this.param(pgArg(arg.type, v))}::${arg.type}`)
    return `${this.quote(plan.fn.schema)}.${this.quote(plan.fn.name)}(${args.join(', ')})`
  }

  /**
   * [JSON text of the result, rows, total when counted] — rows of a table function go through the read shape.
   * A counted call runs once, in a WITH query that the page and the count both read: calling the function
   * again for the count would repeat a volatile function's writes, and could count other rows than it
   * returned. (A WITH query referenced twice is computed once on every PostgreSQL version.)
   */
  compileRpc(plan: PlannedRpc, exactCount = false): Statement {
    const fn = plan.fn
    const call = this.rpcCall(plan)
    const source = this.quote('atrium_rpc_rows')
    const once = (sql: string) => `WITH ${source} AS (SELECT * FROM ${call}) ${sql}`
    if (plan.read) {
      if (!exactCount) return this.compileRead(plan.read, { from: call })
      return this.statement(once(this.compileRead(plan.read, { from: source, exactCount: true }).sql))
    }
    if (fn.returnsSet) {
      // `_v` names the value column inside and out, so the JSON stays an array of values; rest.maxRows caps it
      const limit = plan.maxRows !== undefined ? ` LIMIT ${this.param(plan.maxRows)}` : ''
      const from = exactCount ? `${source} AS _s(_v)` : `${call} AS _v`
      const total = exactCount ? `, (SELECT count(*) FROM ${source})` : ''
      const sql = `SELECT coalesce(json_agg(_v), '[]')::text, count(*)::int${total} FROM (SELECT _v FROM ${from}${limit}) AS _l(_v)`
      return this.statement(exactCount ? once(sql) : sql)
    }
    return this.statement(`SELECT to_json(${call})::text, 1`)
  }

  /** the planner's estimate of a set-returning function's rows after the read's filters; the function does not run */
  compileRpcEstimate(plan: PlannedRpc): Statement {
    const call = this.rpcCall(plan)
    if (plan.read) return this.compileEstimate(plan.read, call)
    return this.statement(`EXPLAIN (FORMAT JSON) SELECT 1 FROM ${call} AS _v`)
  }
}

function scalar(c: PlannedCondition, v: PlannedCondition['value']): unknown {
  if (v.kind === 'scalar') return v.value !== null && typeof v.value === 'object' ? JSON.stringify(v.value) : v.value
  if (v.kind === 'list') return v.values[0]
  if (v.kind === 'is') return v.value
  throw new AppError('invalid_filter', `operator "${c.op}" takes a single value`)
}

function scalarOrList(v: PlannedCondition['value']): unknown {
  return v.kind === 'list' ? v.values : v.kind === 'scalar' ? v.value : v.kind === 'is' ? v.value : v.query
}

function pgArg(type: string, value: unknown): unknown {
  if (value === null || value === undefined) return null
  if (type === 'json' || type === 'jsonb') return JSON.stringify(value)
  if (typeof value === 'object' && !Array.isArray(value)) return JSON.stringify(value)
  return value
}

export type { TableInfo }
