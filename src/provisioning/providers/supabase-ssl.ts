// Supabase Management API: turns a project's SSL enforcement on or off (PUT /v1/projects/{ref}/ssl-enforcement)
// and answers with the configuration Supabase reports back.
import { AppError } from '../../errors/app-error.js'
import { callProvider, joinUrl, providerUrl } from './provider-api.js'
import { providerClient, type ProviderDeps } from './provider-provisioning.js'

export interface SslEnforcementInput {
  enabled: boolean
  access_token?: string
  project_ref?: string
}

export interface SslEnforcement {
  currentConfig: { database: boolean }
  appliedSuccessfully: boolean
}

const SUPABASE = 'Supabase'
const PROJECT_REF = /^[a-z0-9]{1,64}$/

export async function setSslEnforcement(deps: ProviderDeps, input: SslEnforcementInput): Promise<SslEnforcement & { project_ref: string }> {
  const settings = deps.config.providers.supabase
  const client = providerClient(deps, SUPABASE, input.access_token, settings.accessToken, 'providers.supabase.accessToken (SUPABASE_ACCESS_TOKEN)')
  const ref = input.project_ref ?? settings.projectRef
  if (!ref) throw new AppError('provider_credentials_missing', 'no Supabase project: send project_ref, or configure providers.supabase.projectRef (PROJECT_REF)')
  if (!PROJECT_REF.test(ref)) throw new AppError('invalid_request', 'project_ref must be a Supabase project ref (lower-case letters and digits)')
  const base = await providerUrl(settings.apiBaseUrl, 'providers.supabase.apiBaseUrl', client.allowPrivate)
  const answer = await callProvider<Partial<SslEnforcement>>(client, 'PUT', joinUrl(base, `/v1/projects/${ref}/ssl-enforcement`), { requestedConfig: { database: input.enabled } })
  if (typeof answer?.currentConfig?.database !== 'boolean') throw new AppError('provider_error', "Supabase's answer has no currentConfig.database", { data: { provider: SUPABASE } })
  return { project_ref: ref, currentConfig: { database: answer.currentConfig.database }, appliedSuccessfully: answer.appliedSuccessfully === true }
}
