// What Atrium adds to Fastify's request and route config; one place so every surface agrees.
import type { Principal } from '../auth/principal.js'
import type { Source } from '../sources/source.js'

/**
 * who may call a route: anyone, the static admin key, a data-plane caller of the X-Athena-Client client,
 * a data-plane caller of a client named in the body (the route finishes the check), or per a protect setting
 */
export type Access = 'public' | 'admin' | 'client' | 'client-in-body' | { protect: 'schema' | 'registry' | 'openapi' | 'clients' }

declare module 'fastify' {
  interface FastifyContextConfig {
    /** dotted operation id: labels logs, metrics, audit rows and rights checks */
    operation?: string
    access?: Access
    /** the family whose error envelope the route answers with */
    family?: 'gateway' | 'rest'
  }
  interface FastifyRequest {
    principal: Principal
    /** the data source named by X-Athena-Client, for routes with access 'client' */
    source: Source
    /** what the request log records about this request beyond method, path and status */
    logContext: { table?: string; cached?: boolean; sqlClass?: string }
  }
}
