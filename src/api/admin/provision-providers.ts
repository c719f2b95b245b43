// /admin/provision/providers/{neon,railway,render} and /api/v2/supabase/ssl_enforcement: hosting providers'
// public APIs, admin key only. Provider bodies as the gateway spec shapes them; SSL enforcement in the envelope.
import { Type, type TSchema } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { provisionNeon, type NeonInput } from '../../provisioning/providers/neon.js'
import type { ProviderDeps } from '../../provisioning/providers/provider-provisioning.js'
import { provisionRailway, type RailwayInput } from '../../provisioning/providers/railway.js'
import { provisionRender, type RenderInput } from '../../provisioning/providers/render.js'
import { setSslEnforcement, type SslEnforcementInput } from '../../provisioning/providers/supabase-ssl.js'
import { gatewaySuccess } from '../gateway/envelope.js'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const Str = (max = 256) => Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: max })))
const Payload = Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown(), { description: "merged into the provider's create request" })))
const Flag = (def: boolean) => Type.Optional(Type.Boolean({ default: def }))

const Common = {
  client_name: Type.String({ minLength: 1, maxLength: 63 }),
  description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  connection_uri: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 4096, description: 'skip the provider API: register this database' }))),
  api_key: Str(4096),
  provision_schema: Flag(true),
  register_runtime: Flag(true),
  register_catalog: Flag(true),
}
const NeonBody = Type.Object({
  ...Common, project_id: Str(), branch_id: Str(), database_name: Str(63), role_name: Str(63), endpoint_id: Str(),
  api_base_url: Str(2048), create_project_if_missing: Flag(false), project_name: Str(), project_create_payload: Payload,
}, { additionalProperties: false })
const RailwayBody = Type.Object({
  ...Common, project_id: Str(), environment_id: Str(), service_id: Str(), plugin_id: Str(), graphql_url: Str(2048),
  create_project_if_missing: Flag(false), project_name: Str(), project_create_input: Payload,
  create_service_if_missing: Flag(false), service_name: Str(), service_create_input: Payload,
  create_plugin_if_missing: Flag(false), plugin_name: Str(), plugin_create_input: Payload,
}, { additionalProperties: false })
const RenderBody = Type.Object({
  ...Common, service_id: Str(), owner_id: Str(), api_base_url: Str(2048), create_service_if_missing: Flag(false),
  service_name: Str(), service_create_payload: Payload, plan: Str(64), region: Str(64), postgres_version: Str(16),
  disk_size_gb: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 16_384 }))),
}, { additionalProperties: false })
const ProviderReply = Type.Object({
  provider: Type.String(),
  client_name: Type.String(),
  connection_uri: Type.String({ description: 'with its password; shown in this answer only' }),
  registered: Type.Boolean(),
  provisioned: Nullable(Type.Object({ statements_executed: Type.Integer(), tables: Type.Array(Type.String()) })),
  resources: Type.Record(Type.String(), Nullable(Type.String())),
})
const SslBody = Type.Object({
  enabled: Type.Boolean({ description: 'true enforces SSL on the project\'s database, false stops enforcing it' }),
  access_token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'overrides SUPABASE_ACCESS_TOKEN' })),
  project_ref: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'overrides PROJECT_REF' })),
}, { additionalProperties: false })
const SslReply = Type.Object({
  status: Type.Literal('success'),
  message: Type.String(),
  data: Type.Object({ project_ref: Type.String(), currentConfig: Type.Object({ database: Type.Boolean() }), appliedSuccessfully: Type.Boolean() }),
})

export function providerRoutes(app: FastifyInstance, services: ProviderDeps): void {
  const admin = (operation: string) => ({ operation, access: 'admin' as const })
  const tags = ['admin']
  const providers = [
    ['neon', 'Neon', NeonBody, (body: unknown, id: string) => provisionNeon(services, body as NeonInput, id)],
    ['railway', 'Railway', RailwayBody, (body: unknown, id: string) => provisionRailway(services, body as RailwayInput, id)],
    ['render', 'Render', RenderBody, (body: unknown, id: string) => provisionRender(services, body as RenderInput, id)],
  ] as const
  for (const [path, label, body, provision] of providers) {
    app.post(`/admin/provision/providers/${path}`, {
      config: admin(`admin.provision.providers.${path}`),
      schema: { summary: `Find (or create) a ${label} Postgres database through ${label}'s API, apply the client schema and register it`, tags, body, response: { 200: ProviderReply } },
    }, async (req) => provision(req.body, req.id))
  }

  app.post('/api/v2/supabase/ssl_enforcement', {
    config: admin('admin.supabase.ssl_enforcement'),
    schema: { summary: "Turn a Supabase project's SSL enforcement on or off through the Supabase Management API", tags, body: SslBody, response: { 200: SslReply } },
  }, async (req) => {
    const result = await setSslEnforcement(services, req.body as SslEnforcementInput)
    const state = result.currentConfig.database ? 'enforced' : 'not enforced'
    return gatewaySuccess(`SSL is ${state} on Supabase project ${result.project_ref}`, result)
  })
}
