// Neon (API v2, REST): an existing project's connection URI, or a new project's. Neon's semantics where the
// spec is silent: the default branch, the branch's first database and that database's owner role.
import { AppError } from '../../errors/app-error.js'
import { callProvider, expectField, joinUrl, providerUrl } from './provider-api.js'
import { providerClient, provisionFromProvider, type Found, type ProviderDeps, type ProviderInputBase } from './provider-provisioning.js'

export interface NeonInput extends ProviderInputBase {
  project_id?: string | null
  branch_id?: string | null
  database_name?: string | null
  role_name?: string | null
  endpoint_id?: string | null
  api_base_url?: string | null
  create_project_if_missing?: boolean
  project_name?: string | null
  project_create_payload?: Record<string, unknown> | null
}

const NEON = 'Neon'
const seg = encodeURIComponent

interface NeonProjectCreated {
  project?: { id?: string }
  branch?: { id?: string }
  connection_uris?: Array<{ connection_uri?: string; connection_parameters?: { database?: string; role?: string } }>
  endpoints?: Array<{ id?: string }>
}

export function provisionNeon(deps: ProviderDeps, input: NeonInput, requestId: string | null) {
  return provisionFromProvider(deps, NEON, input, () => findNeonDatabase(deps, input), requestId)
}

async function findNeonDatabase(deps: ProviderDeps, input: NeonInput): Promise<Found> {
  const settings = deps.config.providers.neon
  const client = providerClient(deps, NEON, input.api_key, settings.apiKey, 'providers.neon.apiKey (NEON_API_KEY)')
  const base = await providerUrl(input.api_base_url ?? settings.apiBaseUrl, 'api_base_url', client.allowPrivate)
  let projectId = input.project_id ?? null
  let branchId = input.branch_id ?? null
  if (!projectId) {
    if (!input.create_project_if_missing) throw new AppError('invalid_request', 'give project_id, or create_project_if_missing: true to create a Neon project', { hint: 'or connection_uri to register a database you already have' })
    // project_create_payload is Neon's request body ({project: {...}}) or just the project's fields
    const payload = input.project_create_payload ?? {}
    const project = { ...((payload.project as Record<string, unknown> | undefined) ?? payload) }
    project.name ??= input.project_name ?? input.client_name
    const created = await callProvider<NeonProjectCreated>(client, 'POST', joinUrl(base, '/projects'), { ...payload, project })
    projectId = expectField(NEON, created?.project?.id, 'project.id')
    branchId ??= created.branch?.id ?? null
    const first = created.connection_uris?.[0]
    // a new project's answer carries its URI; ask again only for another database or role than its defaults
    if (first?.connection_uri && !input.database_name && !input.role_name && !input.endpoint_id) {
      return { uri: first.connection_uri, resources: { project_id: projectId, branch_id: branchId, database_name: first.connection_parameters?.database ?? null, role_name: first.connection_parameters?.role ?? null, endpoint_id: created.endpoints?.[0]?.id ?? null } }
    }
  }
  const project = `/projects/${seg(projectId)}`
  if (!branchId) {
    const { branches } = await callProvider<{ branches?: Array<{ id: string; default?: boolean; primary?: boolean }> }>(client, 'GET', joinUrl(base, `${project}/branches`))
    const branch = branches?.find((b) => b.default) ?? branches?.find((b) => b.primary) ?? branches?.[0]
    branchId = expectField(NEON, branch?.id, `branch in project ${projectId}`)
  }
  let databaseName = input.database_name ?? null
  let roleName = input.role_name ?? null
  if (!databaseName || !roleName) {
    const { databases } = await callProvider<{ databases?: Array<{ name: string; owner_name?: string }> }>(client, 'GET', joinUrl(base, `${project}/branches/${seg(branchId)}/databases`))
    const database = databaseName ? databases?.find((d) => d.name === databaseName) : databases?.[0]
    databaseName ??= expectField(NEON, database?.name, `database on branch ${branchId}`)
    roleName ??= expectField(NEON, database?.owner_name, `owner role of database ${databaseName}`)
  }
  const { uri } = await callProvider<{ uri?: string }>(client, 'GET', joinUrl(base, `${project}/connection_uri`, {
    branch_id: branchId, database_name: databaseName, role_name: roleName, endpoint_id: input.endpoint_id ?? undefined,
  }))
  return { uri: expectField(NEON, uri, 'uri'), resources: { project_id: projectId, branch_id: branchId, database_name: databaseName, role_name: roleName, endpoint_id: input.endpoint_id ?? null } }
}
