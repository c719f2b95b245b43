// What the MCP family needs, passed in from boot.ts through http/app.ts.
import type { PlatformKeys } from '../../auth/platform-keys.js'
import type { AccessDeps } from '../../http/access-control.js'

/** key and session checks (the same as HTTP), platform keys, and the version the server reports */
export type McpDeps = AccessDeps & { platformKeys: PlatformKeys; version: string }
