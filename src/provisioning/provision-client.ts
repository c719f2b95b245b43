// Applies Atrium's client schema to a database named by URL or by client (POST /admin/provision), reports it
// (GET /admin/provision/status), and adopts a database found elsewhere (a local instance, a provider's) as a
// client: schema first, then one registration in atrium.clients, which every process serves at once.
import { assertClientName, assertConnectionUrl, createClient, type ClientsDeps } from '../clients/clients-service.js'
import { AppError } from '../errors/app-error.js'
import { applyClientSchema, clientSchemaStatus, withUnregisteredSource, type AppliedSchema, type ClientSchemaDeps, type SchemaStatus } from './client-schema.js'

/** what this module needs, passed in from boot.ts */
export type ProvisionDeps = ClientSchemaDeps & ClientsDeps

export interface ProvisionInput {
  uri?: string
  client_name?: string
  register?: boolean
  register_name?: string | null
}

export interface ProvisionResult extends AppliedSchema {
  client: string
  registered: string | null
}

const DEFAULT_REGISTER_NAME = 'provisioned'

export async function provisionDatabase(deps: ProvisionDeps, input: ProvisionInput, requestId: string | null): Promise<ProvisionResult> {
  if (input.uri !== undefined && input.client_name !== undefined) {
    throw new AppError('invalid_request', 'give either uri or client_name, not both', { hint: 'uri provisions a database by its connection string; client_name, a registered client' })
  }
  if (input.client_name !== undefined) {
    if (input.register) throw new AppError('invalid_request', 'register applies to a uri only: a client_name is registered already')
    const source = deps.registry.resolve(input.client_name)
    return { ...(await applyClientSchema(deps, source, requestId)), client: source.name, registered: null }
  }
  if (input.uri === undefined) throw new AppError('invalid_request', 'give uri (a connection string) or client_name (a registered client) to provision')
  const name = input.register ? assertClientName(input.register_name ?? DEFAULT_REGISTER_NAME) : (input.register_name ?? DEFAULT_REGISTER_NAME)
  const adopted = await adoptDatabase(deps, { clientName: name, uri: input.uri, provisionSchema: true, register: input.register ?? false }, requestId)
  return { ...adopted.provisioned!, client: name, registered: adopted.registered ? name : null }
}

export async function provisionStatus(deps: ProvisionDeps, clientName: string): Promise<SchemaStatus & { client_name: string }> {
  const source = deps.registry.resolve(clientName)
  return { client_name: source.name, ...(await clientSchemaStatus(source)) }
}

export interface AdoptInput {
  clientName: string
  uri: string
  description?: string | null
  provisionSchema: boolean
  register: boolean
}

export interface Adopted {
  registered: boolean
  /** null when the schema was not asked for */
  provisioned: AppliedSchema | null
}

/** the schema (when asked) on a database known by URL, then its registration (when asked) as a catalog client */
export async function adoptDatabase(deps: ProvisionDeps, input: AdoptInput, requestId: string | null): Promise<Adopted> {
  assertConnectionUrl(deps, input.uri, 'the connection URI')
  if (input.register) {
    assertClientName(input.clientName)
    if (deps.registry.get(input.clientName)) throw new AppError('client_exists', `client "${input.clientName}" already exists`, { data: { client_name: input.clientName } })
  }
  const provisioned = input.provisionSchema
    ? await withUnregisteredSource(deps, input.clientName, input.uri, (source) => applyClientSchema(deps, source, requestId))
    : null
  if (input.register) await createClient(deps, { client_name: input.clientName, pg_uri: input.uri, description: input.description ?? null })
  return { registered: input.register, provisioned }
}
