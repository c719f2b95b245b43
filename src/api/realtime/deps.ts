// What the realtime family's routes need, passed in from boot.ts through http/app.ts.
import type { Config } from '../../config/schema.js'
import type { AccessDeps } from '../../http/access-control.js'
import type { RealtimeHub } from '../../realtime/realtime-hub.js'

/** key access (the same checks as HTTP), the node's hub of connections and subscriptions, and the settings */
export type RealtimeDeps = AccessDeps & { realtime: RealtimeHub; config: Pick<Config, 'realtime'>; version: string }
