// The offline provider: answers a small, documented grammar of questions from the schema alone, deterministically,
// with no model and no network. docs/assistant.md lists the grammar:
//   count <table> [by <column>]            how many <table> [per|by <column>] [where …]
//   list|show <table> [where …]            top <n> <table> by <column> [where …]
//   where|with <column> is|= <value> [and <column> is <value> …]
import { AppError } from '../errors/app-error.js'
import { quoteIdent } from '../management/identifiers.js'
import type { BriefTable } from './schema-brief.js'
import { NO_TOKENS, type Provider, type ProviderAnswer, type ProviderRequest } from './provider.js'

/** rows a list question returns when it names no number */
const LIST_LIMIT = 100

const stem = (w: string): string => w.toLowerCase().replace(/(ies)$/, 'y').replace(/(es|s)$/, '')

interface Parsed {
  kind: 'count' | 'list' | 'top'
  table: string
  groupBy?: string
  orderBy?: string
  limit?: number
  filters: Array<{ column: string; value: string }>
}

const FILTER = /\s+(?:where|with)\s+(.+)$/
const CONDITION = /^(\w+)\s+(?:is|=|equals)\s+(?:'([^']*)'|"([^"]*)"|(\S+))$/

/** the question read with the grammar, names still as the user wrote them; undefined when it does not fit */
export function parseQuestion(question: string): Parsed | undefined {
  let q = question.trim().replace(/[?.!]+$/, '').replace(/\s+/g, ' ')
  const filters: Parsed['filters'] = []
  const where = FILTER.exec(q)
  if (where) {
    for (const part of where[1].split(/\s+and\s+/i)) {
      const m = CONDITION.exec(part.trim())
      if (!m) return undefined
      filters.push({ column: m[1], value: m[2] ?? m[3] ?? m[4] })
    }
    q = q.slice(0, where.index)
  }
  let m = /^top (\d{1,6}) (\w+) by (\w+)$/i.exec(q)
  if (m) return { kind: 'top', limit: Number(m[1]), table: m[2], orderBy: m[3], filters }
  m = /^(?:count(?: the| all)?|how many) (\w+)(?: (?:by|per) (\w+))?$/i.exec(q)
  if (m) return { kind: 'count', table: m[1], groupBy: m[2], filters }
  m = /^(?:list|show)(?: all| the)? (\w+)$/i.exec(q)
  if (m) return { kind: 'list', table: m[1], filters }
  return undefined
}

function findTable(tables: BriefTable[], word: string): BriefTable {
  const wanted = stem(word)
  const table = tables.find((t) => t.name.toLowerCase() === word.toLowerCase()) ?? tables.find((t) => stem(t.name) === wanted)
  if (!table) throw notUnderstood(`no table is called "${word}"`)
  return table
}

function findColumn(table: BriefTable, word: string): { name: string; type: string } {
  const column = table.columns.find((c) => c.name.toLowerCase() === word.toLowerCase()) ?? table.columns.find((c) => stem(c.name) === stem(word))
  if (!column) throw notUnderstood(`table "${table.name}" has no column "${word}"`)
  return column
}

const NUMERIC = /^(small|big|tiny|medium)?int|^integer|^numeric|^decimal|^real|^double|^float/i

/** a value as an SQL literal: numbers bare for numeric columns, everything else a quoted string */
function literal(value: string, type: string, dialect: 'postgres' | 'mysql'): string {
  if (NUMERIC.test(type) && /^-?\d+(\.\d+)?$/.test(value)) return value
  const escaped = dialect === 'mysql' ? value.replaceAll('\\', '\\\\').replaceAll("'", "''") : value.replaceAll("'", "''")
  return `'${escaped}'`
}

/** the SQL for a parsed question against the described tables */
export function sqlFor(parsed: Parsed, tables: BriefTable[], dialect: 'postgres' | 'mysql'): string {
  const q = (name: string) => quoteIdent(dialect, name)
  const table = findTable(tables, parsed.table)
  const from = `${q(table.schema)}.${q(table.name)}`
  const where = parsed.filters.length
    ? ` WHERE ${parsed.filters.map((f) => { const c = findColumn(table, f.column); return `${q(c.name)} = ${literal(f.value, c.type, dialect)}` }).join(' AND ')}`
    : ''
  if (parsed.kind === 'count' && parsed.groupBy) {
    const g = q(findColumn(table, parsed.groupBy).name)
    return `SELECT ${g}, COUNT(*) AS ${q('count')} FROM ${from}${where} GROUP BY ${g} ORDER BY ${q('count')} DESC, ${g}`
  }
  if (parsed.kind === 'count') return `SELECT COUNT(*) AS ${q('count')} FROM ${from}${where}`
  if (parsed.kind === 'top') {
    const o = q(findColumn(table, parsed.orderBy!).name)
    return `SELECT * FROM ${from}${where} ORDER BY ${o} DESC LIMIT ${parsed.limit}`
  }
  return `SELECT * FROM ${from}${where} LIMIT ${LIST_LIMIT}`
}

const notUnderstood = (why: string) => new AppError('assistant_question_not_understood', `the builtin provider cannot answer this question: ${why}`, {
  hint: 'ask one of: "count <table> [by <column>]", "list <table>", "top <n> <table> by <column>", each optionally followed by "where <column> is <value> [and …]"; or use a model provider',
})

export class BuiltinProvider implements Provider {
  readonly name = 'builtin' as const
  readonly model = 'builtin-grammar-1'

  async generate(req: ProviderRequest): Promise<ProviderAnswer> {
    const parsed = parseQuestion(req.question)
    if (!parsed) throw notUnderstood('it does not fit the grammar')
    return { text: `\`\`\`sql\n${sqlFor(parsed, req.schema.tables, req.dialect)}\n\`\`\``, model: this.model, tokens: { ...NO_TOKENS } }
  }
}
