// The hosted providers, each through its official SDK: `openai` (any OpenAI-compatible server: OpenAI, Ollama,
// vLLM, llama.cpp) and `anthropic`. Their failures become one 502 that says which provider failed and why,
// without echoing the key.
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { AppError } from '../errors/app-error.js'
import type { Provider, ProviderAnswer, ProviderRequest } from './provider.js'

export interface SdkProviderSettings {
  apiKey: string
  baseUrl?: string
  model: string
  timeoutMs: number
}

/** the completion tokens a SQL answer may use */
const MAX_ANSWER_TOKENS = 1024

export class OpenAiProvider implements Provider {
  readonly name = 'openai' as const
  readonly model: string
  private readonly client: OpenAI

  constructor(settings: SdkProviderSettings) {
    this.model = settings.model
    // one retry: a provider that is down fails the request quickly rather than after minutes
    this.client = new OpenAI({ apiKey: settings.apiKey, baseURL: settings.baseUrl, timeout: settings.timeoutMs, maxRetries: 1 })
  }

  async generate(req: ProviderRequest): Promise<ProviderAnswer> {
    try {
      const res = await this.client.chat.completions.create({
        model: this.model,
        temperature: 0,
        max_tokens: MAX_ANSWER_TOKENS,
        messages: [{ role: 'system', content: req.system }, ...req.messages],
      }, { signal: req.signal })
      const text = res.choices?.[0]?.message?.content
      if (typeof text !== 'string') throw new Error('the answer holds no message content')
      const prompt = res.usage?.prompt_tokens ?? 0
      const completion = res.usage?.completion_tokens ?? 0
      return { text, model: res.model || this.model, tokens: { prompt, completion, total: res.usage?.total_tokens ?? prompt + completion } }
    } catch (err) {
      throw providerFailed(this.name, err)
    }
  }
}

export class AnthropicProvider implements Provider {
  readonly name = 'anthropic' as const
  readonly model: string
  private readonly client: Anthropic

  constructor(settings: SdkProviderSettings) {
    this.model = settings.model
    this.client = new Anthropic({ apiKey: settings.apiKey, baseURL: settings.baseUrl, timeout: settings.timeoutMs, maxRetries: 1 })
  }

  async generate(req: ProviderRequest): Promise<ProviderAnswer> {
    try {
      const res = await this.client.messages.create({
        model: this.model,
        max_tokens: MAX_ANSWER_TOKENS,
        system: req.system,
        messages: req.messages,
      }, { signal: req.signal })
      const text = res.content.filter((b) => b.type === 'text').map((b) => (b as { text: string }).text).join('\n')
      if (!text) throw new Error('the answer holds no text block')
      const prompt = res.usage?.input_tokens ?? 0
      const completion = res.usage?.output_tokens ?? 0
      return { text, model: res.model || this.model, tokens: { prompt, completion, total: prompt + completion } }
    } catch (err) {
      throw providerFailed(this.name, err)
    }
  }
}

/** a 502 naming the provider and what went wrong (status and message from the SDK's error) */
function providerFailed(provider: string, err: unknown): AppError {
  const e = err as { status?: number; message?: string; name?: string }
  const why = e?.status ? `it answered HTTP ${e.status}: ${firstLine(e.message)}` : firstLine(e?.message ?? String(err))
  return new AppError('assistant_provider_failed', `the ${provider} provider failed: ${why}`, {
    hint: 'check the provider\'s key, base URL and model settings, or try again',
    data: { provider },
  })
}

const firstLine = (text: string | undefined) => String(text ?? '').split('\n')[0].slice(0, 300)
