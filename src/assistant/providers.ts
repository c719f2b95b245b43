// The providers this process really has: openai and anthropic when their keys are set, builtin always.
import { AppError } from '../errors/app-error.js'
import type { Config } from '../config/schema.js'
import { BuiltinProvider } from './builtin-provider.js'
import type { Provider, ProviderName } from './provider.js'
import { AnthropicProvider, OpenAiProvider } from './sdk-providers.js'

export class Providers {
  private readonly byName = new Map<ProviderName, Provider>()

  constructor(settings: Config['assistant']) {
    const timeoutMs = settings.providerTimeoutMs
    if (settings.openaiApiKey) {
      this.byName.set('openai', new OpenAiProvider({ apiKey: settings.openaiApiKey, baseUrl: settings.openaiBaseUrl, model: settings.openaiModel, timeoutMs }))
    }
    if (settings.anthropicApiKey) {
      this.byName.set('anthropic', new AnthropicProvider({ apiKey: settings.anthropicApiKey, baseUrl: settings.anthropicBaseUrl, model: settings.anthropicModel, timeoutMs }))
    }
    this.byName.set('builtin', new BuiltinProvider())
  }

  names(): ProviderName[] {
    return [...this.byName.keys()]
  }

  /** the named provider, or a 400 saying which ones are configured; without a name the first configured one */
  get(name: string | undefined): Provider {
    const provider = this.byName.get((name ?? this.names()[0]) as ProviderName)
    if (!provider) {
      throw new AppError('assistant_provider_not_configured', `provider "${name}" is not configured on this server; configured: ${this.names().join(', ')}`, {
        hint: 'set OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible server) or ANTHROPIC_API_KEY, or use "builtin"',
        data: { providers: this.names() },
      })
    }
    return provider
  }
}
