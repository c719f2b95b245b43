// The Assistant API family under /api: session tokens (Supabase JWTs), FastAPI-style errors
// ({detail, code, hint?, data?}), and routes that turn questions into validated SQL on the user's connections.
import type { Family } from '../family.js'
import { installSessionAccess } from './access.js'
import { chatRoutes } from './chat.js'
import { connectionRoutes } from './connections.js'
import type { AssistantApiDeps } from './deps.js'
import { fileRoutes } from './files.js'
import { identityRoutes } from './identity.js'
import { lineageRoutes } from './lineage.js'

export const assistantFamily: Family<AssistantApiDeps> = {
  name: 'assistant',
  prefix: '/api',
  readCredentials: (scope, deps) => installSessionAccess(scope, deps),
  renderError: (err) => ({
    status: err.status,
    body: { detail: err.message, code: err.code, ...(err.extra.hint ? { hint: err.extra.hint } : {}), ...(err.extra.data ? { data: err.extra.data } : {}) },
  }),
  async routes(app, deps) {
    chatRoutes(app, deps.assistant)
    connectionRoutes(app, deps.assistant)
    identityRoutes(app, deps.assistant)
    lineageRoutes(app)
    await fileRoutes(app, deps.assistant)
  },
}
