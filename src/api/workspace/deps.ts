// What the Workspace API family (DataCovey, /api/v1 and /health) needs, passed in from boot.ts through http/app.ts.
import type { JwtSessions } from '../../auth/jwt-sessions.js'
import type { RateLimits } from '../../auth/rate-limits.js'
import type { Tenancy } from '../../tenancy/tenancy-service.js'
import type { QueryCosts } from '../../warehouse/query-costs.js'
import type { QueryJobs } from '../../warehouse/query-jobs.js'
import type { Warehouse } from '../../warehouse/warehouse-service.js'
import type { Exports } from '../../warehouse/exports/exports-service.js'
import type { ImportJobs } from '../../warehouse/imports/import-jobs.js'

export interface WorkspaceDeps {
  adminKey: string
  sessions: JwtSessions
  rateLimits: RateLimits
  tenancy: Tenancy
  warehouse: Warehouse
  queryJobs: QueryJobs
  queryCosts: QueryCosts
  exports: Exports
  importJobs: ImportJobs
}
