// What the Workspace API family (DataCovey, /api/v1 and /health) needs, passed in from boot.ts through http/app.ts.
import type { AgentGateway } from '../../agents/agent-gateway.js'
import type { Agents } from '../../agents/agents-service.js'
import type { JwtSessions } from '../../auth/jwt-sessions.js'
import type { RateLimits } from '../../auth/rate-limits.js'
import type { Approvals } from '../../tenancy/approvals.js'
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
  approvals: Approvals
  /** the token an external scheduler presents to POST /api/v1/approvals/expire (workspace.approvalsInternalToken) */
  approvalsInternalToken: string | undefined
  agents: Agents
  agentGateway: AgentGateway
  exports: Exports
  importJobs: ImportJobs
}
