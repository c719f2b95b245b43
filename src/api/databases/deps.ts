// What the Databases API family (Polykomos, /api/v1) needs, passed in from boot.ts through http/app.ts.
import type { PlatformKeys } from '../../auth/platform-keys.js'
import type { RateLimits } from '../../auth/rate-limits.js'
import type { Config } from '../../config/schema.js'
import type { Blueprints } from '../../blueprints/blueprints-service.js'
import type { IdempotencyStore } from '../../idempotency/idempotency-store.js'
import type { Databases } from '../../provisioning/databases-service.js'
import type { TeamWebhookEndpoints } from '../../webhooks/team-endpoints.js'

export interface DatabasesApiDeps {
  platformKeys: PlatformKeys
  rateLimits: RateLimits
  databases: Databases
  blueprints: Blueprints
  teamWebhooks: TeamWebhookEndpoints
  idempotency: IdempotencyStore
  /** the request deadline bounds a create's wait */
  config: { deadlines: Pick<Config['deadlines'], 'requestTimeoutMs'> }
}
