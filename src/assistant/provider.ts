// What every language-model provider of the Assistant answers to: one call that turns a conversation about a
// schema into text holding SQL, with the tokens the provider reports. Framework-free.
import type { SchemaBrief } from './schema-brief.js'

export type ProviderName = 'openai' | 'anthropic' | 'builtin'

export interface ProviderMessage {
  role: 'user' | 'assistant'
  content: string
}

export interface ProviderRequest {
  /** the instructions and the schema description */
  system: string
  /** the question, then (on a correction round) the model's answer and the error it caused */
  messages: ProviderMessage[]
  /** the user's question as asked (the builtin provider reads it with its grammar) */
  question: string
  /** the tables the prompt describes (the builtin provider answers from them alone) */
  schema: SchemaBrief
  dialect: 'postgres' | 'mysql'
  signal?: AbortSignal
}

export interface TokenUsage {
  prompt: number
  completion: number
  total: number
}

export interface ProviderAnswer {
  text: string
  model: string
  tokens: TokenUsage
}

export interface Provider {
  readonly name: ProviderName
  readonly model: string
  generate(req: ProviderRequest): Promise<ProviderAnswer>
}

export const addTokens = (a: TokenUsage, b: TokenUsage): TokenUsage => ({
  prompt: a.prompt + b.prompt,
  completion: a.completion + b.completion,
  total: a.total + b.total,
})

export const NO_TOKENS: TokenUsage = Object.freeze({ prompt: 0, completion: 0, total: 0 })
