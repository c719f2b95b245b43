// POST /admin/platform-keys (admin key only): a Databases API key (pk_live_…) for a user, made with a primary
// team on first use of the e-mail address; the key is in this answer only, in the gateway envelope.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { PLATFORM_SCOPES, type PlatformKeyInput, type PlatformKeys } from '../../auth/platform-keys.js'
import { gatewaySuccess } from '../gateway/envelope.js'

export interface PlatformKeyRouteDeps {
  platformKeys: PlatformKeys
}

const NullableInt = (opts: { minimum: number; maximum: number; description: string }) => Type.Union([Type.Integer(opts), Type.Null()])

const CreateBody = Type.Object({
  email: Type.String({ format: 'email', maxLength: 320, description: 'the user; created with a primary team on first use' }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'the key\'s name' })),
  user_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'the user\'s name when the user is new' })),
  scopes: Type.Optional(Type.Array(Type.Union(PLATFORM_SCOPES.map((s) => Type.Literal(s))), { maxItems: PLATFORM_SCOPES.length, description: 'default: all' })),
  requests_per_minute: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 60 })),
  monthly_quota: Type.Optional(NullableInt({ minimum: 1, maximum: 2_147_483_647, description: 'requests per calendar month (UTC); null = none' })),
  allowed_ip_list: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 200, description: 'addresses or CIDR ranges; empty allows any' })),
  inactive_ttl_days: Type.Optional(NullableInt({ minimum: 1, maximum: 3650, description: 'the key expires after this many days without use; null = never' })),
}, { additionalProperties: false })

export function platformKeyRoutes(app: FastifyInstance, services: PlatformKeyRouteDeps): void {
  app.post('/admin/platform-keys', {
    config: { operation: 'admin.platform_keys.create', access: 'admin' },
    schema: { summary: 'Create a Databases API key (pk_live_…) for a user; the key is returned once, in this answer', tags: ['admin'], body: CreateBody },
  }, async (req, reply) => {
    const { key, record, user } = await services.platformKeys.create(req.body as PlatformKeyInput)
    return reply.status(201).send(gatewaySuccess(`Created platform key ${record.name} for ${user.email}; store it now, it is not shown again`, {
      key,
      api_key: {
        id: record.id, name: record.name, scopes: record.scopes, requests_per_minute: record.requests_per_minute, monthly_quota: record.monthly_quota,
        allowed_ip_list: record.allowed_ips, inactive_ttl_days: record.inactive_ttl_days, created_at: new Date(record.created_at).toISOString(),
      },
      user: { id: user.id, email: user.email, primary_team_id: user.primary_team_id },
    }))
  })
}
