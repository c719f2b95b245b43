// PostgREST query strings → the shared AST: select, filters, logic trees, order and ranges, including the
// `embed.` forms that apply inside embedded resources. Syntax only; names are checked by the planner.
import { AppError } from '../../errors/app-error.js'
import type { EmbedItem, Filter, OrderTerm, SelectItem } from '../ast.js'
import { parseFilter, parseLogic, parseOrder, parseSelect, splitTop } from './grammar.js'
import { MAX_CONDITIONS, countConditions, tooManyConditions } from '../input-limits.js'

/** keys that are never filters */
const RESERVED = new Set(['select', 'order', 'limit', 'offset', 'columns', 'on_conflict'])

/**
 * top-level parameters that belong to other layers and are skipped whole: `api_key` presents a key (read by
 * the credentials layer). A column of that name is still filtered when quoted: `"api_key"=eq.x`.
 */
const NOT_QUERY = new Set(['api_key'])

export interface PostgrestQuery {
  select: SelectItem[]
  where: Filter[]
  order: OrderTerm[]
  limit?: number
  offset?: number
  /** `columns=` for inserts */
  columns?: string[]
  /** `on_conflict=` for upserts */
  onConflict?: string[]
}

export type QueryPairs = Array<[string, string]>

/** the query string as ordered pairs; repeated keys (`a=gt.1&a=lt.5`) are kept */
export function queryPairs(url: string): QueryPairs {
  const q = url.indexOf('?')
  if (q < 0) return []
  const query = url.slice(q + 1)
  // Nothing to decode (no %-escapes, no + for a space), as in most requests: splitting by hand gives the
  // same pairs as URLSearchParams at a fraction of its cost on this per-request path.
  if (query.includes('%') || query.includes('+')) return [...new URLSearchParams(query).entries()]
  const pairs: QueryPairs = []
  for (const part of query.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    pairs.push(eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)])
  }
  return pairs
}

function integer(text: string, name: string): number {
  if (!/^\d+$/.test(text)) throw new AppError('invalid_request', `${name} must be a non-negative integer, got "${text}"`)
  const n = Number(text)
  if (!Number.isSafeInteger(n)) throw new AppError('invalid_request', `${name} is too large`)
  return n
}

/** `a,b` or `"a","b"` (clients quote column names) → ['a', 'b'] */
function nameList(value: string): string[] {
  return splitTop(value).map((s) => s.trim().replace(/^"(.*)"$/s, '$1').replaceAll('""', '"')).filter(Boolean)
}

const NO_PATH: readonly string[] = []
const NOTHING_SKIPPED: ReadonlySet<string> = new Set()

/** splits `a.b.col->x` into the embed path ['a','b'] and the field text `col->x` */
function splitPath(key: string): { path: readonly string[]; last: string } {
  if (!key.includes('.')) return { path: NO_PATH, last: key }
  const arrow = key.indexOf('->')
  const head = arrow < 0 ? key : key.slice(0, arrow)
  const parts = head.split('.')
  let last = parts.pop()! + (arrow < 0 ? '' : key.slice(arrow))
  // `not.or` / `embed.not.and`: the negation belongs to the logic key, not to the embed path
  if ((last === 'or' || last === 'and') && parts.at(-1) === 'not') last = `${parts.pop()}.${last}`
  return { path: parts, last }
}

function findEmbed(items: SelectItem[], path: readonly string[], key: string): EmbedItem {
  let level = items
  let found: EmbedItem | undefined
  for (const name of path) {
    found = level.find((s): s is EmbedItem => s.kind === 'embed' && (s.alias === name || s.name === name))
    if (!found) throw new AppError('invalid_filter', `"${key}" refers to "${name}", which is not an embedded resource in select`, { hint: `add ${name}(...) to select` })
    level = found.select
  }
  return found!
}

/**
 * @param pairs the query string pairs
 * @param skip keys handled elsewhere (e.g. function arguments for GET /rpc)
 */
export function parsePostgrestQuery(pairs: QueryPairs, skip: ReadonlySet<string> = NOTHING_SKIPPED): PostgrestQuery {
  const selectText = pairs.find(([k]) => k === 'select')?.[1]
  const select = selectText === undefined ? [{ kind: 'star' as const }] : parseSelect(selectText)
  const out: PostgrestQuery = { select, where: [], order: [] }
  const embedOptions: Array<() => void> = []
  for (const [key, value] of pairs) {
    if (skip.has(key) || key === 'select' || NOT_QUERY.has(key)) continue
    const { path, last } = splitPath(key)
    const target = () => (path.length ? findEmbed(select, path, key) : undefined)
    switch (last) {
      case 'order':
        embedOptions.push(() => {
          const terms = parseOrder(value)
          const embed = target()
          if (embed) embed.order = terms
          else out.order = terms
        })
        continue
      case 'limit':
      case 'offset':
        embedOptions.push(() => {
          const n = integer(value, key)
          const embed = target()
          if (embed) embed[last] = n
          else out[last] = n
        })
        continue
      case 'columns':
        if (!path.length) out.columns = nameList(value)
        continue
      case 'on_conflict':
        if (!path.length) out.onConflict = nameList(value)
        continue
    }
    let filter: Filter
    const logic = /^(not\.)?(or|and)$/.exec(last)
    if (logic) filter = parseLogic(logic[2] as 'or' | 'and', value, Boolean(logic[1]))
    else if (RESERVED.has(last)) continue
    else filter = parseFilter(last, value)
    embedOptions.push(() => {
      const embed = target()
      if (embed) embed.where.push(filter)
      else out.where.push(filter)
    })
  }
  for (const apply of embedOptions) apply()
  if (select.some((s) => s.kind === 'embed')) out.where = takeEmbedNullFilters(select, out.where)
  // filters are few on every ordinary request: the walk only runs when logic trees or embeds could hide many
  if (out.where.length > MAX_CONDITIONS) throw tooManyConditions(out.where.length)
  if (out.where.some((f) => f.kind !== 'cond') || out.select.some((s) => s.kind === 'embed')) {
    const count = countConditions(out.where) + embedConditions(out.select)
    if (count > MAX_CONDITIONS) throw tooManyConditions(count)
  }
  return out
}

/**
 * `authors=is.null` / `authors=not.is.null` where `authors` is an embed of the same select list: not a column
 * filter but a condition on the embed (PostgREST's null filtering on embedded resources), moved onto it.
 * Applies at every level: `books.authors=is.null` inside a `books(…)` embed.
 */
function takeEmbedNullFilters(select: SelectItem[], where: Filter[]): Filter[] {
  const embeds = select.filter((s): s is EmbedItem => s.kind === 'embed')
  for (const embed of embeds) embed.where = takeEmbedNullFilters(embed.select, embed.where)
  return where.filter((f) => {
    if (f.kind !== 'cond' || f.op !== 'is' || f.field.json.length || f.value.kind !== 'is' || f.value.value !== 'null') return true
    const embed = embeds.find((e) => (e.alias ?? e.name) === f.field.column)
    if (!embed) return true
    embed.nullFilter = f.negated ? 'not-null' : 'null'
    return false
  })
}

function embedConditions(items: SelectItem[]): number {
  let n = 0
  for (const item of items) if (item.kind === 'embed') n += countConditions(item.where) + embedConditions(item.select)
  return n
}
