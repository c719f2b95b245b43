// What every provider route shares: the token (request, else configuration), a connection URI found through the
// provider's API unless one was given, then the same adoption as any database (schema, registration).
import type { Config } from '../../config/schema.js'
import { AppError } from '../../errors/app-error.js'
import { adoptDatabase, type ProvisionDeps } from '../provision-client.js'
import type { ProviderClient } from './provider-api.js'

/** what the provider routes need, passed in from boot.ts */
export type ProviderDeps = ProvisionDeps & { config: Config }

export interface ProviderInputBase {
  client_name: string
  description?: string | null
  connection_uri?: string | null
  api_key?: string | null
  provision_schema?: boolean
  register_runtime?: boolean
  register_catalog?: boolean
}

export interface Found {
  uri: string
  /** the provider's identifiers of what holds the database (project, branch, service, …) */
  resources: Record<string, string | null>
}

export function providerClient(deps: ProviderDeps, provider: string, token: string | null | undefined, configured: string | undefined, setting: string): ProviderClient {
  const chosen = token ?? configured
  if (!chosen) {
    throw new AppError('provider_credentials_missing', `no ${provider} token: send api_key, or configure ${setting}`, { hint: 'or send connection_uri to register a database you already have' })
  }
  return { provider, token: chosen, allowPrivate: deps.config.webhooks.allowPrivate, timeoutMs: deps.config.providers.timeoutMs }
}

/** finds the database (unless connection_uri was given), then applies the schema and registers it as asked */
export async function provisionFromProvider(deps: ProviderDeps, provider: string, input: ProviderInputBase, find: () => Promise<Found>, requestId: string | null) {
  const found: Found = input.connection_uri ? { uri: input.connection_uri, resources: {} } : await find()
  const adopted = await adoptDatabase(deps, {
    clientName: input.client_name, uri: found.uri, description: input.description ?? `${provider} database`,
    provisionSchema: input.provision_schema ?? true,
    register: (input.register_catalog ?? true) || (input.register_runtime ?? true),
  }, requestId)
  return {
    provider: provider.toLowerCase(),
    client_name: input.client_name,
    // shown in this answer only (a registered client's URI is masked everywhere else)
    connection_uri: found.uri,
    registered: adopted.registered,
    provisioned: adopted.provisioned,
    resources: found.resources,
  }
}
