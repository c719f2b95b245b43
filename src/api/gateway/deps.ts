// What the gateway family's routes need, passed in from boot.ts through http/app.ts.
import type { DataDeps } from '../../data/data-deps.js'
import type { AccessDeps } from '../../http/access-control.js'
import type { ManagementDeps } from '../../management/run-managed-change.js'
import type { Config } from '../../config/schema.js'
import type { AdminDeps } from '../admin/catalog.js'
import type { DeferredRouteDeps } from './deferred.js'

/** what the gateway family needs: key access, the data capability, and the admin and management capabilities */
export type GatewayDeps = AccessDeps & DataDeps & AdminDeps & ManagementDeps & DeferredRouteDeps & { config: Config }
