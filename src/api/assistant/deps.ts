// What the Assistant API family (/api) needs, passed in from boot.ts through http/app.ts.
import type { JwtSessions } from '../../auth/jwt-sessions.js'
import type { RateLimits } from '../../auth/rate-limits.js'
import type { AssistantDeps } from '../../assistant/chat.js'

export interface AssistantApiDeps {
  /** the assistant capability's own parts (connections, providers, limits) */
  assistant: AssistantDeps
  sessions: JwtSessions
  rateLimits: RateLimits
}
