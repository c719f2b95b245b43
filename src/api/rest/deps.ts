// What the rest family's routes need, passed in from boot.ts through http/app.ts.
import type { Config } from '../../config/schema.js'
import type { DataDeps } from '../../data/data-deps.js'
import type { AccessDeps } from '../../http/access-control.js'

/** what /rest/v1 needs: key access and the data capability */
export type RestDeps = AccessDeps & DataDeps & { config: Config }
