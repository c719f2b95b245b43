// The Workspace API family (DataCovey protocol): tenants, users, projects, datasets and tables under /api/v1,
// beside the Databases family on the same prefix (the two never share a path). FastAPI's conventions: {detail}
// errors, 422 with loc/msg, skip/limit lists. Credentials: session JWTs, or the admin key as platform administrator.
import type { Family } from '../family.js'
import { approvalRoutes } from './approvals.js'
import { agentGatewayRoutes } from './agent-gateway.js'
import { agentRoutes } from './agents.js'
import { installWorkspaceAccess } from './access.js'
import type { WorkspaceDeps } from './deps.js'
import { renderWorkspaceError, workspaceValidationError } from './envelope.js'
import { projectAgentRoutes } from './project-agents.js'
import { exportRoutes } from './exports.js'
import { importRoutes } from './imports.js'
import { projectRoutes } from './projects.js'
import { queryRoutes } from './queries.js'
import { tableRoutes } from './tables.js'
import { tenantRoutes } from './tenants.js'
import { userRoutes } from './users.js'

export const workspaceFamily: Family<WorkspaceDeps> = {
  name: 'workspace',
  // no prefix of its own: /api/v1 is shared with the Databases family, whose 404 renderer answers unknown paths
  readCredentials: (scope, deps) => installWorkspaceAccess(scope, deps),
  renderError: renderWorkspaceError,
  async routes(app, deps) {
    app.setSchemaErrorFormatter((errors, dataVar) => workspaceValidationError(errors, dataVar))
    tenantRoutes(app, deps)
    userRoutes(app, deps)
    projectRoutes(app, deps)
    tableRoutes(app, deps)
    queryRoutes(app, deps)
    approvalRoutes(app, deps)
    agentRoutes(app, deps)
    projectAgentRoutes(app, deps)
    agentGatewayRoutes(app, deps)
    exportRoutes(app, deps)
    importRoutes(app, deps)
  },
}
