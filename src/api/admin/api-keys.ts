// /admin/api-keys, /admin/api-key-rights, /admin/api-key-config and /admin/api-key-clients (admin key only).
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  createApiKey, createRight, deleteApiKey, deleteRight, enforcementConfig, listApiKeys, listRights, removeClientEnforcement,
  setClientEnforcement, setGlobalEnforcement, updateApiKey, updateRight,
} from '../../auth/api-key-admin.js'
import type { KeyChanges } from '../../auth/api-key-store.js'
import type { ApiKeyAdminDeps } from '../../auth/api-key-admin.js'

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])
const DateTime = Type.String({ format: 'date-time' })

const KeyFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  client_name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200, description: 'bind the key to this client' }))),
  expires_at: Type.Optional(Nullable(Type.String({ maxLength: 64, description: 'RFC 3339 date-time, or a date (midnight UTC)' }))),
  rights: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 200 })),
  allowed_ips: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 200, description: 'addresses or CIDR ranges; empty allows any' })),
  lock_in: Type.Optional(Type.Boolean({ description: 'bind the key to the client (and address) of its first use' })),
  rate_limit: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 2_147_483_647 }), Type.Null()], { description: 'requests per rate-limit window for this key; 0 = unlimited, null = the rateLimits.perKey setting' })),
}
const CreateKeyBody = Type.Object(KeyFields, { additionalProperties: false })
const UpdateKeyBody = Type.Object({ ...Type.Partial(Type.Object(KeyFields)).properties, is_active: Type.Optional(Type.Boolean()) }, { additionalProperties: false })

const KeyRecord = Type.Object({
  id: Type.String({ format: 'uuid' }),
  public_id: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  client_name: Nullable(Type.String()),
  expires_at: Nullable(DateTime),
  is_active: Type.Boolean(),
  last_used_at: Nullable(DateTime),
  created_at: DateTime,
  updated_at: DateTime,
  rights: Type.Array(Type.String()),
  allowed_ips: Type.Array(Type.String()),
  lock_in: Type.Boolean(),
  locked_client: Nullable(Type.String()),
  locked_address: Nullable(Type.String()),
  locked_at: Nullable(DateTime),
  rate_limit: Type.Union([Type.Integer(), Type.Null()]),
})
const RightRecord = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  description: Nullable(Type.String()),
  is_builtin: Type.Boolean(),
  created_at: DateTime,
  updated_at: DateTime,
})
const RightBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))) }, { additionalProperties: false })
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) })
const EnforceBody = Type.Object({ enforce_api_keys: Type.Boolean() }, { additionalProperties: false })
const ClientConfig = Type.Object({ client_name: Type.String(), enforce_api_keys: Type.Boolean(), created_at: DateTime, updated_at: DateTime })
const ConfigReply = Type.Object({
  global: Type.Object({ enforce_api_keys: Type.Boolean(), updated_at: DateTime }),
  clients: Type.Array(ClientConfig),
})
const ClientParams = Type.Object({ client_name: Type.String({ minLength: 1, maxLength: 200 }) })

type Id = { id: string }

export function apiKeyRoutes(app: FastifyInstance, services: ApiKeyAdminDeps): void {
  const admin = (operation: string) => ({ operation, access: 'admin' as const })
  const tags = ['admin']

  app.get('/admin/api-keys', {
    config: admin('admin.api_keys.list'),
    schema: { summary: 'List all API keys (never their secrets)', tags, response: { 200: Type.Object({ api_keys: Type.Array(KeyRecord) }) } },
  }, async () => ({ api_keys: await listApiKeys(services) }))

  app.post('/admin/api-keys', {
    config: admin('admin.api_keys.create'),
    schema: { summary: 'Create an API key; the full key is returned once, in this answer', tags, body: CreateKeyBody, response: { 201: Type.Object({ api_key: Type.String(), record: KeyRecord }) } },
  }, async (req, reply) => reply.status(201).send(await createApiKey(services, req.body as KeyChanges & { name: string })))

  app.patch('/admin/api-keys/:id', {
    config: admin('admin.api_keys.update'),
    schema: { summary: 'Update an API key (rights, binding, expiry, activity, IP allow list, lock-in, rate limit)', tags, params: IdParams, body: UpdateKeyBody, response: { 200: Type.Object({ record: KeyRecord }) } },
  }, async (req) => ({ record: await updateApiKey(services, (req.params as Id).id, req.body as KeyChanges) }))

  app.delete('/admin/api-keys/:id', {
    config: admin('admin.api_keys.delete'),
    schema: { summary: 'Delete an API key', tags, params: IdParams, response: { 200: Type.Object({ id: Type.String() }) } },
  }, async (req) => ({ id: await deleteApiKey(services, (req.params as Id).id) }))

  app.get('/admin/api-key-rights', {
    config: admin('admin.api_key_rights.list'),
    schema: { summary: 'List API key rights', tags, response: { 200: Type.Object({ rights: Type.Array(RightRecord) }) } },
  }, async () => ({ rights: await listRights(services) }))

  app.post('/admin/api-key-rights', {
    config: admin('admin.api_key_rights.create'),
    schema: { summary: 'Create a new API key right', tags, body: RightBody, response: { 201: Type.Object({ right: RightRecord }) } },
  }, async (req, reply) => {
    const body = req.body as { name: string; description?: string | null }
    return reply.status(201).send({ right: await createRight(services, body.name, body.description ?? null) })
  })

  app.patch('/admin/api-key-rights/:id', {
    config: admin('admin.api_key_rights.update'),
    schema: { summary: 'Update an API key right (built-in rights keep their name)', tags, params: IdParams, body: RightBody, response: { 200: Type.Object({ right: RightRecord }) } },
  }, async (req) => {
    const body = req.body as { name: string; description?: string | null }
    return { right: await updateRight(services, (req.params as Id).id, body.name, body.description ?? null) }
  })

  app.delete('/admin/api-key-rights/:id', {
    config: admin('admin.api_key_rights.delete'),
    schema: { summary: 'Delete an API key right (and take it from every key)', tags, params: IdParams, response: { 200: Type.Object({ id: Type.String() }) } },
  }, async (req) => ({ id: await deleteRight(services, (req.params as Id).id) }))

  app.get('/admin/api-key-config', {
    config: admin('admin.api_key_config.get'),
    schema: { summary: 'Get global API key enforcement and the per-client overrides', tags, response: { 200: ConfigReply } },
  }, () => enforcementConfig(services))

  app.put('/admin/api-key-config', {
    config: admin('admin.api_key_config.set'),
    schema: { summary: 'Toggle global API key enforcement', tags, body: EnforceBody, response: { 200: ConfigReply } },
  }, (req) => setGlobalEnforcement(services, (req.body as { enforce_api_keys: boolean }).enforce_api_keys))

  app.get('/admin/api-key-clients', {
    config: admin('admin.api_key_clients.list'),
    schema: { summary: 'List per-client API key enforcement overrides', tags, response: { 200: Type.Object({ clients: Type.Array(ClientConfig) }) } },
  }, async () => ({ clients: (await enforcementConfig(services)).clients }))

  app.put('/admin/api-key-clients/:client_name', {
    config: admin('admin.api_key_clients.set'),
    schema: { summary: "Update or insert a client's enforcement override (client names are case-insensitive and stored lower-cased)", tags, params: ClientParams, body: EnforceBody, response: { 200: Type.Object({ client: ClientConfig }) } },
  }, async (req) => ({ client: await setClientEnforcement(services, (req.params as { client_name: string }).client_name, (req.body as { enforce_api_keys: boolean }).enforce_api_keys) }))

  app.delete('/admin/api-key-clients/:client_name', {
    config: admin('admin.api_key_clients.delete'),
    schema: { summary: "Remove a client's enforcement override", tags, params: ClientParams, response: { 200: Type.Object({ client_name: Type.String() }) } },
  }, async (req) => ({ client_name: await removeClientEnforcement(services, (req.params as { client_name: string }).client_name) }))
}
