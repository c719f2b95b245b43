// GET /api/auth/me, GET and PUT /api/settings: the signed-in user and their own settings.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AssistantDeps } from '../../assistant/chat.js'
import { readSettings, writeSettings } from '../../assistant/connections-store.js'
import { AppError } from '../../errors/app-error.js'
import { userOf } from './access.js'

/** settings are a user's preferences, not a store: their JSON is kept small */
const MAX_SETTINGS_BYTES = 16 * 1024

export function identityRoutes(app: FastifyInstance, deps: AssistantDeps): void {
  app.get('/auth/me', {
    config: { operation: 'assistant.me' },
    schema: { summary: 'The signed-in user, from the session token', tags: ['assistant'] },
  }, async (req) => {
    const user = userOf(req)
    return { id: user.sub, email: user.email, role: user.role }
  })

  app.get('/settings', {
    config: { operation: 'assistant.settings.get' },
    schema: { summary: 'The signed-in user\'s settings', tags: ['assistant'] },
  }, async (req) => {
    const user = userOf(req).sub
    return { user_id: user, settings: await readSettings(deps.catalog, user) }
  })

  app.put('/settings', {
    config: { operation: 'assistant.settings.put' },
    schema: {
      summary: 'Replace the signed-in user\'s settings',
      tags: ['assistant'],
      body: Type.Object({ settings: Type.Record(Type.String({ maxLength: 128 }), Type.Unknown()) }, { additionalProperties: false }),
    },
  }, async (req) => {
    const user = userOf(req).sub
    const { settings } = req.body as { settings: Record<string, unknown> }
    if (Buffer.byteLength(JSON.stringify(settings)) > MAX_SETTINGS_BYTES) {
      throw new AppError('invalid_request', `settings must be at most ${MAX_SETTINGS_BYTES} bytes of JSON`)
    }
    return { user_id: user, settings: await writeSettings(deps.catalog, user, settings) }
  })
}
