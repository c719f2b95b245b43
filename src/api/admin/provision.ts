// /admin/provision*: Atrium's client schema on a database (apply, status) and local PostgreSQL instances
// (start, inspect, delete), admin key only. Bodies as the gateway spec shapes them (no envelope).
import { Type, type TSchema } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { LocalInstances, SpinUpInput, DeleteInput } from '../../provisioning/local-instances.js'
import { provisionDatabase, provisionStatus, type ProvisionDeps, type ProvisionInput } from '../../provisioning/provision-client.js'

export interface ProvisionRouteDeps extends ProvisionDeps {
  instances: LocalInstances
}

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const Name = Type.String({ minLength: 1, maxLength: 63 })
const Uri = Type.String({ minLength: 1, maxLength: 4096, description: 'postgres:// or mysql:// connection string' })

const ProvisionBody = Type.Object({
  uri: Type.Optional(Uri),
  client_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'a registered client (not with uri)' })),
  register: Type.Optional(Type.Boolean({ default: false, description: 'with uri: register it as a client afterwards' })),
  register_name: Type.Optional(Nullable(Name)),
}, { additionalProperties: false })
const Applied = {
  statements_executed: Type.Integer(),
  tables: Type.Array(Type.String()),
}
const ProvisionReply = Type.Object({ ...Applied, client: Type.String(), registered: Nullable(Type.String()) })
const StatusQuery = Type.Object({ client_name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false })
const StatusReply = Type.Object({
  client_name: Type.String(), provisioned: Type.Boolean(), present_tables: Type.Array(Type.String()), missing_tables: Type.Array(Type.String()),
})

const SpinUpBody = Type.Object({
  client_name: Name,
  container_name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 63, description: 'defaults to atrium-pg-<client_name>' }))),
  image: Type.Optional(Nullable(Type.String({ maxLength: 256, pattern: '^(?!.*\\.\\.)[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$', description: 'a Docker image: refused (422 docker_unavailable) unless Docker-backed instances are available' }))),
  host: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64, description: 'address the instance listens on; default 127.0.0.1' }))),
  host_port: Type.Optional(Nullable(Type.Integer({ minimum: 1024, maximum: 65535, description: 'default: a free port' }))),
  db_name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 63 }))),
  username: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 63 }))),
  password: Type.Optional(Nullable(Type.String({ minLength: 8, maxLength: 128, description: 'default: generated' }))),
  startup_timeout_secs: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 600 }))),
  reuse_existing: Type.Optional(Type.Boolean({ default: false })),
  provision_schema: Type.Optional(Type.Boolean({ default: true })),
  register_runtime: Type.Optional(Type.Boolean({ default: true })),
  register_catalog: Type.Optional(Type.Boolean({ default: true })),
}, { additionalProperties: false })
const InstanceFields = {
  container_name: Type.String(),
  client_name: Type.String(),
  backend: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('stopped')]),
  pid: Nullable(Type.Integer()),
  host: Type.String(),
  port: Type.Integer(),
  db_name: Type.String(),
  username: Type.String(),
  connection_uri_masked: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
}
const SpinUpReply = Type.Object({
  ...InstanceFields,
  connection_uri: Type.String({ description: 'with its password; shown in this answer only' }),
  reused: Type.Boolean(),
  registered: Type.Boolean(),
  provisioned: Nullable(Type.Object(Applied)),
})
const InstanceParams = Type.Object({ container_name: Type.String({ minLength: 1, maxLength: 100 }) })
const InspectQuery = Type.Object({ client_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }, { additionalProperties: false })
const InspectReply = Type.Object({ ...InstanceFields, client: Type.Object({ client_name: Type.String(), registered: Type.Boolean() }) })
const DeleteBody = Type.Union([Type.Object({
  client_name: Type.Optional(Nullable(Name)),
  // defaults (true) are applied by the service: ajv cannot place defaults inside a union
  remove_runtime_client: Type.Optional(Type.Boolean({ description: 'default true' })),
  remove_catalog_client: Type.Optional(Type.Boolean({ description: 'default true' })),
}, { additionalProperties: false }), Type.Null()])
const DeleteReply = Type.Object({ container_name: Type.String(), stopped: Type.Boolean(), client_name: Type.String(), client_removed: Type.Boolean() })

export function provisionRoutes(app: FastifyInstance, services: ProvisionRouteDeps): void {
  const admin = (operation: string) => ({ operation, access: 'admin' as const })
  const tags = ['admin']

  app.post('/admin/provision', {
    config: admin('admin.provision.apply'),
    schema: { summary: "Apply Atrium's client schema (database_audit_log, …) to a database given by uri or client_name; safe to repeat", tags, body: ProvisionBody, response: { 200: ProvisionReply } },
  }, async (req) => provisionDatabase(services, req.body as ProvisionInput, req.id))

  app.get('/admin/provision/status', {
    config: admin('admin.provision.status'),
    schema: { summary: "Which of Atrium's client tables a client has", tags, querystring: StatusQuery, response: { 200: StatusReply } },
  }, async (req) => provisionStatus(services, (req.query as { client_name: string }).client_name))

  app.post('/admin/provision/instances', {
    config: admin('admin.provision.instances.create'),
    schema: { summary: 'Start a local PostgreSQL instance on a free port, apply the client schema and register it as a client', tags, body: SpinUpBody, response: { 200: SpinUpReply } },
  }, async (req) => services.instances.spinUp(req.body as SpinUpInput, req.id))

  app.get('/admin/provision/instances/:container_name', {
    config: admin('admin.provision.instances.get'),
    schema: { summary: 'A local instance: running or stopped, its address, and whether a client points at it', tags, params: InstanceParams, querystring: InspectQuery, response: { 200: InspectReply } },
  }, async (req) => services.instances.inspect((req.params as { container_name: string }).container_name, (req.query as { client_name?: string }).client_name))

  app.delete('/admin/provision/instances/:container_name', {
    config: admin('admin.provision.instances.delete'),
    schema: { summary: 'Stop a local instance, delete its files and the client that points at it', tags, params: InstanceParams, body: DeleteBody, response: { 200: DeleteReply } },
  }, async (req) => services.instances.remove((req.params as { container_name: string }).container_name, (req.body as DeleteInput | null | undefined) ?? {}))
}
