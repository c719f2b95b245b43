// Render (REST API v1): a Postgres instance (created when asked, under the given or first workspace) and its
// external connection string from connection-info.
import { AppError } from '../../errors/app-error.js'
import { callProvider, expectField, joinUrl, providerUrl } from './provider-api.js'
import { providerClient, provisionFromProvider, type Found, type ProviderDeps, type ProviderInputBase } from './provider-provisioning.js'

export interface RenderInput extends ProviderInputBase {
  service_id?: string | null
  owner_id?: string | null
  api_base_url?: string | null
  create_service_if_missing?: boolean
  service_name?: string | null
  service_create_payload?: Record<string, unknown> | null
  plan?: string | null
  region?: string | null
  postgres_version?: string | null
  disk_size_gb?: number | null
}

const RENDER = 'Render'

export function provisionRender(deps: ProviderDeps, input: RenderInput, requestId: string | null) {
  return provisionFromProvider(deps, RENDER, input, () => findRenderDatabase(deps, input), requestId)
}

async function findRenderDatabase(deps: ProviderDeps, input: RenderInput): Promise<Found> {
  const settings = deps.config.providers.render
  const client = providerClient(deps, RENDER, input.api_key, settings.apiKey, 'providers.render.apiKey (RENDER_API_KEY)')
  const base = await providerUrl(input.api_base_url ?? settings.apiBaseUrl, 'api_base_url', client.allowPrivate)
  let postgresId = input.service_id ?? null
  let ownerId = input.owner_id ?? null
  if (!postgresId) {
    if (!input.create_service_if_missing) throw new AppError('invalid_request', 'give service_id (a Render Postgres id, dpg-…), or create_service_if_missing: true to create one', { hint: 'or connection_uri to register a database you already have' })
    if (!ownerId) {
      const owners = await callProvider<Array<{ owner?: { id?: string } }>>(client, 'GET', joinUrl(base, '/owners', { limit: '1' }))
      ownerId = expectField(RENDER, Array.isArray(owners) ? owners[0]?.owner?.id : undefined, 'workspace (owner) to create the database in')
    }
    const body: Record<string, unknown> = {
      name: input.service_name ?? input.client_name, ownerId, plan: input.plan ?? 'free', version: input.postgres_version ?? '16',
      ...(input.region ? { region: input.region } : {}),
      ...(input.disk_size_gb ? { diskSizeGB: input.disk_size_gb } : {}),
      ...input.service_create_payload,
    }
    const created = await callProvider<{ id?: string }>(client, 'POST', joinUrl(base, '/postgres'), body)
    postgresId = expectField(RENDER, created?.id, 'id of the new Postgres instance')
  }
  const info = await callProvider<{ externalConnectionString?: string }>(client, 'GET', joinUrl(base, `/postgres/${encodeURIComponent(postgresId)}/connection-info`))
  return { uri: expectField(RENDER, info?.externalConnectionString, 'externalConnectionString'), resources: { service_id: postgresId, owner_id: ownerId } }
}
