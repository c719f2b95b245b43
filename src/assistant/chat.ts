// Question → SQL → results: a schema-aware prompt for the connection's dialect, the provider's answer, its SQL
// validated (parse, names, class), and on a parse, schema or database error the error sent back to the model
// for up to assistant.correctionRounds corrections. Refusals (writes, DDL) are final: no correction.
import type { Config } from '../config/schema.js'
import { AppError } from '../errors/app-error.js'
import { quoteIdent } from '../management/identifiers.js'
import type { ObjectStore } from '../objects/object-store.js'
import type { ResultCap } from '../sql/run-sql.js'
import type { Source } from '../sources/source.js'
import { connectionOf, type ConnectionsDeps } from './connections.js'
import type { ConnectionUser } from './database-connections.js'
import { addTokens, NO_TOKENS, type ProviderMessage, type TokenUsage } from './provider.js'
import type { Providers } from './providers.js'
import { runValidated, validateSql, type QueryResults } from './run-query.js'
import { briefFor, describeTable, estimateTokens, systemPrompt, type SchemaBrief } from './schema-brief.js'
import { extractSql } from './validate-sql.js'

export interface AssistantDeps extends ConnectionsDeps {
  providers: Providers
  /** uploads go to the object store */
  objects: ObjectStore
  config: { assistant: Config['assistant']; gateway: { rawSql: ResultCap } }
}

export interface ChatInput {
  connection_id: string
  prompt: string
  provider?: string
  auto_execute?: boolean
  dialect?: string
  max_rows?: number
}

export interface ChatAnswer {
  sql: string
  provider: string
  model: string
  tokens: TokenUsage
  /** corrections the model needed (0 when its first answer was good) */
  corrections: number
  results: QueryResults | null
}

/** errors a model can fix by writing other SQL; refusals and provider failures are not among them */
const CORRECTABLE = new Set(['sql_error', 'unknown_table', 'unknown_column', 'invalid_request'])
const DIALECT_ALIASES: Record<string, 'postgres' | 'mysql'> = { postgres: 'postgres', postgresql: 'postgres', mysql: 'mysql', mariadb: 'mysql' }

const correctable = (err: unknown) => err instanceof AppError && (CORRECTABLE.has(err.code) || (err.status < 500 && err.extra.sqlstate !== undefined && err.code !== 'assistant_sql_refused'))

function assertDialect(source: Source, dialect: string | undefined): void {
  if (dialect === undefined) return
  const named = DIALECT_ALIASES[dialect.toLowerCase()]
  if (!named) throw new AppError('invalid_request', 'dialect must be "postgresql" or "mysql"')
  if (named !== source.dialect) throw new AppError('invalid_request', `dialect "${dialect}" does not match the connection, which is ${source.dialect === 'postgres' ? 'postgresql' : 'mysql'}`)
}

export function capOf(deps: AssistantDeps, requested?: number): ResultCap {
  const maxRows = Math.min(deps.config.assistant.maxRows, requested ?? deps.config.assistant.maxRows)
  return { maxRows, maxBytes: deps.config.gateway.rawSql.maxBytes }
}

/** with sample rows allowed, the tables get this share of the token budget and the rows what is left */
const TABLES_SHARE_WITH_SAMPLES = 0.75

/** a few rows per described table (most relevant first), only when assistant.sampleRows allows it, within the budget */
async function addSamples(source: Source, brief: SchemaBrief, rows: number, budgetTokens: number): Promise<void> {
  if (rows <= 0) return
  let used = brief.tables.reduce((n, t) => n + estimateTokens(describeTable(t)), 0)
  for (const t of brief.tables) {
    const q = (n: string) => quoteIdent(source.dialect, n)
    const res = await source.driver.query({ sql: `SELECT * FROM ${q(t.schema)}.${q(t.name)} LIMIT ${Math.trunc(rows)}`, params: [] }).catch(() => undefined)
    if (!res?.rows.length) continue
    const cost = estimateTokens(JSON.stringify(res.rows)) + 5
    if (used + cost > budgetTokens) break
    used += cost
    t.samples = res.rows
  }
}

export async function chat(deps: AssistantDeps, user: ConnectionUser, input: ChatInput, signal?: AbortSignal): Promise<ChatAnswer> {
  const { record, source } = await connectionOf(deps, user, input.connection_id)
  assertDialect(source, input.dialect)
  return askSource(deps, source, { prompt: input.prompt, provider: input.provider, allowWrites: record.allow_writes, execute: input.auto_execute === true, maxRows: input.max_rows }, signal)
}

export interface AskOptions {
  prompt: string
  provider?: string
  /** writes may run (never DDL) */
  allowWrites: boolean
  /** run the SQL once it is valid */
  execute: boolean
  maxRows?: number
}

/** a question about a source → validated SQL (corrected up to correctionRounds times) → results when asked */
export async function askSource(deps: AssistantDeps, source: Source, opts: AskOptions, signal?: AbortSignal): Promise<ChatAnswer> {
  const provider = deps.providers.get(opts.provider)
  const settings = deps.config.assistant
  const schema = await source.schema()
  const budget = settings.promptTokenBudget
  const brief = briefFor(schema, opts.prompt, settings.sampleRows > 0 ? Math.floor(budget * TABLES_SHARE_WITH_SAMPLES) : budget)
  await addSamples(source, brief, settings.sampleRows, budget)
  const system = systemPrompt(brief, source.dialect, opts.allowWrites)
  const messages: ProviderMessage[] = [{ role: 'user', content: opts.prompt }]
  let tokens = NO_TOKENS
  for (let round = 0; ; round++) {
    const answer = await provider.generate({ system, messages, question: opts.prompt, schema: brief, dialect: source.dialect, signal })
    tokens = addTokens(tokens, answer.tokens)
    let sql: string | undefined
    try {
      sql = extractSql(answer.text)
      const classified = await validateSql(source, schema, sql, opts.allowWrites)
      const results = opts.execute ? await runValidated(source, classified, capOf(deps, opts.maxRows), signal) : null
      return { sql, provider: provider.name, model: answer.model, tokens, corrections: round, results }
    } catch (err) {
      if (!correctable(err)) throw err
      const message = (err as AppError).message
      if (round >= settings.correctionRounds) {
        throw new AppError('assistant_sql_invalid', `the ${provider.name} provider did not produce valid SQL after ${round} correction(s): ${message}`, {
          hint: 'rephrase the question, naming the tables and columns it is about',
          data: { sql: sql ?? null, provider: provider.name, model: answer.model, tokens, corrections: round, error: { code: (err as AppError).code, message } },
        })
      }
      messages.push({ role: 'assistant', content: answer.text }, { role: 'user', content: `That SQL failed: ${message}\nReply with a corrected statement in a \`\`\`sql block.` })
    }
  }
}

/** hand-written SQL: the same validation and rights as generated SQL */
export async function execute(deps: AssistantDeps, user: ConnectionUser, input: { connection_id: string; sql: string; max_rows?: number }, signal?: AbortSignal): Promise<{ results: QueryResults }> {
  const { record, source } = await connectionOf(deps, user, input.connection_id)
  const sql = input.sql.trim().replace(/;\s*$/, '')
  if (!sql) throw new AppError('invalid_request', 'sql must hold one statement')
  if (sql.includes('\u0000')) throw new AppError('invalid_request', 'sql must not contain NUL characters')
  const classified = await validateSql(source, await source.schema(), sql, record.allow_writes)
  return { results: await runValidated(source, classified, capOf(deps, input.max_rows), signal) }
}
