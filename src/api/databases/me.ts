// GET /api/v1/me: the user and the presented key's controls (never the key itself).
import type { FastifyInstance } from 'fastify'
import { keyPreview } from '../../auth/platform-keys.js'
import { ok } from './envelope.js'

export function meRoute(app: FastifyInstance): void {
  app.get('/me', {
    config: { operation: 'databases.me' },
    schema: { summary: 'The authenticated user and API key context', tags: ['databases'] },
  }, async (req) => {
    const { key, user } = req.platformKey!
    return ok(req, {
      user: { object: 'user', name: user.name, email: user.email },
      api_key: {
        object: 'api_key',
        name: key.name,
        preview: keyPreview(key.public_id),
        permissions: key.scopes,
        status: 'active',
        last_used_at: key.last_used_at && new Date(key.last_used_at).toISOString(),
        controls: {
          requests_per_minute: key.requests_per_minute,
          monthly_quota: key.monthly_quota,
          allowed_ip_list: key.allowed_ips,
          inactive_ttl_days: key.inactive_ttl_days,
        },
      },
    })
  })
}
