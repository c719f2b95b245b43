// What one request carries into the services: who is calling, about which data source, its id, its logger and
// its deadline. The family's scope resolves it (http/access-control.ts) and http/request-context.ts hands it
// over; services take it instead of Fastify's request, so they run the same from any surface (HTTP, jobs, MCP).
import type { Logger } from 'pino'
import type { Principal } from './auth/principal.js'
import type { Source } from './sources/source.js'

export interface RequestContext {
  readonly principal: Principal
  /** the data source the request is about (X-Athena-Client, or the family's default client) */
  readonly source: Source
  readonly requestId: string
  /** the request's logger (bound to its request id) */
  readonly log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>
  /** aborts when the request passes its deadline (deadlines.requestTimeoutMs); undefined when there is none */
  readonly deadline: AbortSignal | undefined
}
