// What Atrium adds to Fastify's request and route config; one place so every surface agrees.
import type { Operation } from '../auth/operation-rights.js'
import type { Principal } from '../auth/principal.js'
import type { Source } from '../sources/source.js'
import type { AppError } from '../errors/app-error.js'
import type { PlatformKeyContext } from '../auth/platform-keys.js'
import type { WorkspaceCaller } from '../tenancy/roles.js'

/**
 * who may call a route: anyone, the static admin key, a data-plane caller of the X-Athena-Client client,
 * a data-plane caller of a client named in the body (the route finishes the check), or per a protect setting
 * (with `client: true`, about the X-Athena-Client client: req.source is set and keys are checked against it)
 */
export type Access = 'public' | 'admin' | 'client' | 'client-in-body' | { protect: 'schema' | 'registry' | 'openapi' | 'clients' | 'metrics'; client?: true }

declare module 'fastify' {
  interface FastifyContextConfig {
    /** dotted operation id: labels logs, metrics, audit rows and rights checks */
    operation?: string
    access?: Access
    /**
     * the rights-table operations the route may perform, for a route whose own id is not one of them and that
     * ROUTE_OPERATIONS (http/route-catalog.ts) does not list: what /registry shows as its rights
     */
    operations?: readonly Operation[]
    /**
     * the route forwards X-Athena-Client: custom_supabase to a PostgREST upstream (req.source stays unset);
     * every other client route refuses that client with 400 upstream_not_supported
     */
    forwardsUpstream?: true
    /** the Databases API: the platform-key scope a route needs (databases:read, …); none = any valid key */
    scope?: string
  }
  interface FastifyRequest {
    principal: Principal
    /** the data source named by X-Athena-Client, for client routes (unset when forwarded to custom_supabase) */
    source: Source
    /** what the request log records about this request beyond method, path and status */
    logContext: { table?: string; cached?: boolean; sqlClass?: string; filterColumns?: string }
    /** aborts when the request passes its deadline (deadlines.requestTimeoutMs); undefined when there is none */
    deadlineSignal(): AbortSignal | undefined
    /**
     * a JSON body's text as received (null for other bodies): a bulk insert passes it to PostgreSQL as it came
     * instead of serialising the parsed rows again. Read it only together with `body`, which was parsed from it.
     */
    bodyText: string | null
    /** the refusal this request was answered with (an admission event), set by the family's error renderer */
    refusal: AppError | null
    /** the Databases API: the presented platform key, its user and limits (set by that family's credential reader) */
    platformKey: PlatformKeyContext | null
    /** the Workspace API: the platform administrator or the signed-in Workspace user (set by that family's credential reader) */
    workspace: WorkspaceCaller | null
  }
}
