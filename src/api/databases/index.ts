// The Databases API family (Polykomos protocol) under /api/v1: platform keys (pk_live_…) with scopes and
// limits, the {data, request_id} envelope and {error: {code, message, details}, request_id} errors (422 naming
// the field for validation), and Idempotency-Key on its writes.
import type { Family } from '../family.js'
import { installPlatformKeyAccess } from './access.js'
import { blueprintRoutes } from './blueprints.js'
import { databaseRoutes } from './databases.js'
import type { DatabasesApiDeps } from './deps.js'
import { renderPolykomosError, validationError } from './envelope.js'
import { installIdempotency } from './idempotency.js'
import { meRoute } from './me.js'
import { webhookEndpointRoutes } from './webhook-endpoints.js'
import { queryExecutionRoutes } from './query-executions.js'

export const databasesFamily: Family<DatabasesApiDeps> = {
  name: 'databases',
  prefix: '/api/v1',
  readCredentials: (scope, deps) => installPlatformKeyAccess(scope, deps),
  renderError: renderPolykomosError,
  async routes(app, deps) {
    app.setSchemaErrorFormatter((errors, dataVar) => validationError(errors, dataVar))
    installIdempotency(app, deps.idempotency)
    meRoute(app)
    databaseRoutes(app, deps)
    blueprintRoutes(app, deps)
    webhookEndpointRoutes(app, deps)
    queryExecutionRoutes(app, deps)
  },
}
