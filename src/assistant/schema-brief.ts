// The schema-aware part of a prompt: the tables that matter to a question, described within a token budget.
// Only names and types go to the model; row data only when assistant.sampleRows allows it (the caller adds it).
import type { DbSchema, TableInfo } from '../sources/schema.js'

export interface BriefTable {
  schema: string
  name: string
  columns: Array<{ name: string; type: string }>
  /** "column -> table.column" for each foreign key */
  references: string[]
  /** a few rows, only when sample rows are allowed */
  samples?: unknown[]
}

export interface SchemaBrief {
  defaultSchema: string
  tables: BriefTable[]
}

/** the usual estimate for English and SQL text: about four characters per token */
export const estimateTokens = (text: string): number => Math.ceil(text.length / 4)

const words = (text: string): string[] => text.toLowerCase().split(/[^a-z0-9_]+/).filter(Boolean)
/** "customers" and "customer" are the same word to a question */
const stem = (w: string): string => w.replace(/(ies)$/, 'y').replace(/(es|s)$/, '')

/** how much a table has to do with the question: its name counts most, then its columns */
function relevance(table: TableInfo, question: Set<string>): number {
  const nameParts = table.name.toLowerCase().split('_').map(stem)
  let score = question.has(stem(table.name.toLowerCase())) ? 10 : 0
  for (const part of nameParts) if (question.has(part)) score += 4
  for (const c of table.columns) if (question.has(stem(c.name.toLowerCase()))) score += 1
  return score
}

export function describeTable(t: BriefTable): string {
  const cols = t.columns.map((c) => `${c.name} ${c.type}`).join(', ')
  const refs = t.references.length ? `; references ${t.references.join(', ')}` : ''
  const samples = t.samples?.length ? `\n  sample rows: ${JSON.stringify(t.samples)}` : ''
  return `- ${t.schema}.${t.name}(${cols})${refs}${samples}`
}

/**
 * The tables of the exposed schemas, the most relevant to the question first, as many as fit the budget; the
 * tables a relevant table references come along when they fit, so joins can be written.
 */
export function briefFor(schema: DbSchema, question: string, budgetTokens: number): SchemaBrief {
  const asked = new Set(words(question).map(stem))
  const all = [...schema.tables.values()].filter((t) => schema.schemas.includes(t.schema))
  const ranked = all
    .map((t, i) => ({ t, score: relevance(t, asked), i }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .map((r) => r.t)
  const tables: BriefTable[] = []
  let used = 0
  for (const t of ranked) {
    const brief: BriefTable = {
      schema: t.schema,
      name: t.name,
      columns: t.columns.map((c) => ({ name: c.name, type: c.type })),
      references: t.foreignKeys.map((fk) => `${fk.columns.join(',')} -> ${fk.refTable}.${fk.refColumns.join(',')}`),
    }
    const cost = estimateTokens(describeTable(brief))
    if (used + cost > budgetTokens) continue
    used += cost
    tables.push(brief)
  }
  return { defaultSchema: schema.defaultSchema, tables }
}

const DIALECT_NAMES = { postgres: 'PostgreSQL', mysql: 'MySQL/MariaDB' } as const

/** the system prompt: the rules, then the tables */
export function systemPrompt(brief: SchemaBrief, dialect: 'postgres' | 'mysql', allowWrites: boolean): string {
  return [
    `You write one ${DIALECT_NAMES[dialect]} SQL statement that answers the user's question.`,
    allowWrites ? 'Prefer a SELECT; write data only when the question asks for it. Never change the schema.' : 'Write only a SELECT: the connection is read-only.',
    'Use only the tables and columns listed below. Answer with the SQL in a ```sql code block and nothing else.',
    `Unqualified names are in schema "${brief.defaultSchema}".`,
    'Tables:',
    ...brief.tables.map(describeTable),
  ].join('\n')
}
