// Railway (public GraphQL API): a project (created when asked), its environment, a Postgres service or plugin
// (created when asked), and the connection URL from that service's variables. Every query is a fixed text;
// caller values travel only as GraphQL variables.
import { AppError } from '../../errors/app-error.js'
import { callProvider, expectField, providerUrl, type ProviderClient } from './provider-api.js'
import { providerClient, provisionFromProvider, type Found, type ProviderDeps, type ProviderInputBase } from './provider-provisioning.js'

export interface RailwayInput extends ProviderInputBase {
  project_id?: string | null
  environment_id?: string | null
  service_id?: string | null
  plugin_id?: string | null
  graphql_url?: string | null
  create_project_if_missing?: boolean
  project_name?: string | null
  project_create_input?: Record<string, unknown> | null
  create_service_if_missing?: boolean
  service_name?: string | null
  service_create_input?: Record<string, unknown> | null
  create_plugin_if_missing?: boolean
  plugin_name?: string | null
  plugin_create_input?: Record<string, unknown> | null
}

const RAILWAY = 'Railway'
// Railway's own PostgreSQL template image (what its dashboard deploys for "Add PostgreSQL")
const POSTGRES_IMAGE = 'ghcr.io/railwayapp-templates/postgres-ssl:latest'

type Environments = { environments?: { edges?: Array<{ node?: { id?: string; name?: string } }> } }

const PROJECT_CREATE = 'mutation projectCreate($input: ProjectCreateInput!) { projectCreate(input: $input) { id environments { edges { node { id name } } } } }'
const PROJECT_ENVIRONMENTS = 'query project($id: String!) { project(id: $id) { id environments { edges { node { id name } } } } }'
const SERVICE_CREATE = 'mutation serviceCreate($input: ServiceCreateInput!) { serviceCreate(input: $input) { id name } }'
const PLUGIN_CREATE = 'mutation pluginCreate($input: PluginCreateInput!) { pluginCreate(input: $input) { id name } }'
const SERVICE_VARIABLES = 'query variables($projectId: String!, $environmentId: String!, $serviceId: String!) { variables(projectId: $projectId, environmentId: $environmentId, serviceId: $serviceId) }'
const PLUGIN_VARIABLES = 'query variables($projectId: String!, $environmentId: String!, $pluginId: String!) { variables(projectId: $projectId, environmentId: $environmentId, pluginId: $pluginId) }'

export function provisionRailway(deps: ProviderDeps, input: RailwayInput, requestId: string | null) {
  return provisionFromProvider(deps, RAILWAY, input, () => findRailwayDatabase(deps, input), requestId)
}

/** one GraphQL operation; GraphQL reports failures in `errors` with a 200 */
async function graphql<T>(client: ProviderClient, url: URL, query: string, variables: Record<string, unknown>): Promise<T> {
  const answer = await callProvider<{ data?: T; errors?: Array<{ message?: string }> }>(client, 'POST', url, { query, variables })
  if (answer?.errors?.length) {
    throw new AppError('provider_error', `Railway refused ${query.split('(')[0]}: ${String(answer.errors[0]?.message ?? 'unknown error').slice(0, 300)}`, { data: { provider: RAILWAY } })
  }
  return expectField(RAILWAY, answer?.data, 'data')
}

/** production when there is one (Railway's default), else the first */
function pickEnvironment(project: Environments | undefined): string | undefined {
  const nodes = (project?.environments?.edges ?? []).map((e) => e.node).filter((n) => n?.id)
  return (nodes.find((n) => n!.name === 'production') ?? nodes[0])?.id
}

async function findRailwayDatabase(deps: ProviderDeps, input: RailwayInput): Promise<Found> {
  const settings = deps.config.providers.railway
  const client = providerClient(deps, RAILWAY, input.api_key, settings.apiKey, 'providers.railway.apiKey (RAILWAY_API_TOKEN)')
  const url = await providerUrl(input.graphql_url ?? settings.graphqlUrl, 'graphql_url', client.allowPrivate)
  let projectId = input.project_id ?? null
  let environmentId = input.environment_id ?? null
  if (!projectId) {
    if (!input.create_project_if_missing) throw new AppError('invalid_request', 'give project_id, or create_project_if_missing: true to create a Railway project', { hint: 'or connection_uri to register a database you already have' })
    const { projectCreate } = await graphql<{ projectCreate?: { id?: string } & Environments }>(client, url, PROJECT_CREATE, {
      input: { name: input.project_name ?? input.client_name, ...input.project_create_input },
    })
    projectId = expectField(RAILWAY, projectCreate?.id, 'projectCreate.id')
    environmentId ??= pickEnvironment(projectCreate) ?? null
  }
  if (!environmentId) {
    const { project } = await graphql<{ project?: Environments }>(client, url, PROJECT_ENVIRONMENTS, { id: projectId })
    environmentId = expectField(RAILWAY, pickEnvironment(project), `environment of project ${projectId}`)
  }
  let serviceId = input.service_id ?? null
  let pluginId = serviceId ? null : (input.plugin_id ?? null)
  if (!serviceId && !pluginId) {
    if (input.create_service_if_missing) {
      const { serviceCreate } = await graphql<{ serviceCreate?: { id?: string } }>(client, url, SERVICE_CREATE, {
        input: { projectId, environmentId, name: input.service_name ?? 'postgres', source: { image: POSTGRES_IMAGE }, ...input.service_create_input },
      })
      serviceId = expectField(RAILWAY, serviceCreate?.id, 'serviceCreate.id')
    } else if (input.create_plugin_if_missing) {
      const { pluginCreate } = await graphql<{ pluginCreate?: { id?: string } }>(client, url, PLUGIN_CREATE, {
        input: { projectId, name: input.plugin_name ?? 'postgresql', ...input.plugin_create_input },
      })
      pluginId = expectField(RAILWAY, pluginCreate?.id, 'pluginCreate.id')
    } else {
      throw new AppError('invalid_request', 'give service_id or plugin_id, or create_service_if_missing (or create_plugin_if_missing): true', { hint: 'or connection_uri to register a database you already have' })
    }
  }
  const { variables } = serviceId
    ? await graphql<{ variables?: Record<string, string> }>(client, url, SERVICE_VARIABLES, { projectId, environmentId, serviceId })
    : await graphql<{ variables?: Record<string, string> }>(client, url, PLUGIN_VARIABLES, { projectId, environmentId, pluginId })
  // the public URL reaches the database from outside Railway; DATABASE_URL may name Railway's private network
  const uri = variables?.DATABASE_PUBLIC_URL ?? variables?.DATABASE_URL
  if (!uri) {
    throw new AppError('provider_error', 'the Railway service has no DATABASE_PUBLIC_URL or DATABASE_URL variable yet', {
      hint: 'a new service publishes its variables once deployed: send the request again later with its service_id', data: { provider: RAILWAY, project_id: projectId, service_id: serviceId, plugin_id: pluginId },
    })
  }
  return { uri, resources: { project_id: projectId, environment_id: environmentId, service_id: serviceId, plugin_id: pluginId } }
}
