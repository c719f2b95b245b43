// Builds the Fastify app: what every request shares (request id, timing, metrics, deadlines, body parsing, CORS,
// the OpenAPI collector), then one encapsulated scope per API family (api/family.ts).
import cors from '@fastify/cors'
import swagger from '@fastify/swagger'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import { randomUUID } from 'node:crypto'
import { mountFamily, routeNotFound, sendFamilyError } from '../api/family.js'
import { assistantFamily } from '../api/assistant/index.js'
import { databasesFamily } from '../api/databases/index.js'
import { gatewayFamily } from '../api/gateway/index.js'
import { mcpFamily } from '../api/mcp/index.js'
import { realtimeFamily } from '../api/realtime/index.js'
import { restFamily } from '../api/rest/index.js'
import { storageFamily } from '../api/storage/index.js'
import { systemFamily } from '../api/system/index.js'
import type { AssistantApiDeps } from '../api/assistant/deps.js'
import { workspaceFamily } from '../api/workspace/index.js'
import type { DatabasesApiDeps } from '../api/databases/deps.js'
import type { GatewayDeps } from '../api/gateway/deps.js'
import type { McpDeps } from '../api/mcp/deps.js'
import type { RealtimeDeps } from '../api/realtime/deps.js'
import type { RestDeps } from '../api/rest/deps.js'
import type { StorageDeps } from '../api/storage/deps.js'
import type { SystemDeps } from '../api/system/index.js'
import type { WorkspaceDeps } from '../api/workspace/deps.js'
import type { Config } from '../config/schema.js'
import type { AccountingDeps } from './plugins/request-accounting.js'
import { requestAccounting } from './plugins/request-accounting.js'
import { documentRoute, SECURITY_SCHEMES } from './openapi-document.js'
import { RouteCatalog } from './route-catalog.js'
import { lazySchemaCompilers } from './lazy-schema-compilers.js'
import { lazyChildLogger } from '../observability/lazy-child-logger.js'
import { jsonHasNul, nulByte, nulPath } from '../query/input-limits.js'
import type { Logger } from 'pino'
import './fastify-types.js'

const SAFE_REQUEST_ID = /^[\w.:-]{1,128}$/

/** true for '' and whitespace-only text; stops at the first other character (a JSON body's first) */
function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false
  }
  return true
}

/** what the app needs: the root's own settings and logger, and each family's dependencies */
export type AppDeps = Omit<SystemDeps & GatewayDeps & RestDeps & StorageDeps & RealtimeDeps & DatabasesApiDeps & AssistantApiDeps & WorkspaceDeps & McpDeps, 'routes'> & AccountingDeps & { config: Config; logger: Logger }

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // pino's Logger and Fastify's base logger type differ only in generics
  const { config, logger } = deps
  const app = Fastify({
    loggerInstance: logger,
    childLoggerFactory: (parent, bindings, opts) => lazyChildLogger(parent as unknown as Logger, bindings, opts) as never,
    // Per-request log lines cost on the hot path; they are on only at debug/trace level.
    logController: new LogController({ disableRequestLogging: !['debug', 'trace'].includes(config.server.logLevel) }),
    bodyLimit: config.server.bodyLimitBytes,
    trustProxy: config.server.trustProxy.length ? config.server.trustProxy : false,
    requestIdHeader: 'x-request-id',
    genReqId: (req) => {
      const incoming = req.headers['x-request-id']
      return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    return503OnClosing: true,
    // a client must send its whole request in time (a body trickled a byte a second gets 408 and is closed);
    // Node checks these every connectionsCheckingInterval, 30 s by default, too coarse for short limits
    requestTimeout: config.deadlines.requestReadTimeoutMs,
    http: {
      headersTimeout: Math.min(config.deadlines.headersTimeoutMs, config.deadlines.requestReadTimeoutMs),
      connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(Math.min(config.deadlines.headersTimeoutMs, config.deadlines.requestReadTimeoutMs) / 4))),
    },
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    schemaController: { compilersFactory: lazySchemaCompilers() },
    ajv: { customOptions: { coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false } },
  })

  const routes = new RouteCatalog()
  app.addHook('onRoute', (route) => routes.add(route))

  // An empty body with Content-Type: application/json (DELETE from some clients) is "no body", not an error.
  const defaultJson = app.getDefaultJsonParser('error', 'ignore')
  app.removeContentTypeParser('application/json')
  app.decorateRequest('bodyText', null)
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (isBlank(body as string)) return done(null, undefined)
    // without a byte-order mark, which the JSON parser skips and PostgreSQL's json type would refuse
    req.bodyText = (body as string).charCodeAt(0) === 0xfeff ? (body as string).slice(1) : (body as string)
    // One scan for NUL (JSON can only carry it as \u0000): no identifier or PostgreSQL text can hold it, and
    // further on it would reach places that cannot say which part of the request was wrong.
    if (!jsonHasNul(body as string)) return defaultJson(req, body as string, done)
    defaultJson(req, body as string, (err, parsed) => done(err ?? nulByte(nulPath(parsed)), undefined))
  })
  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => {
    done((body as string).includes('\u0000') ? nulByte('the body') : null, body)
  })

  const allowedOrigins = config.server.corsOrigins.includes('*') ? true : config.server.corsOrigins
  await app.register(cors, {
    // Only browsers' cross-origin requests carry Origin, and only they read CORS headers: a request without
    // one gets none (Vary: Origin is still sent, for caches), and an OPTIONS without one is no preflight.
    origin: (origin, cb) => cb(null, origin === undefined ? false : allowedOrigins),
    credentials: !config.server.corsOrigins.includes('*'),
    exposedHeaders: ['Content-Range', 'Content-Location', 'Location', 'Preference-Applied', 'X-Request-Id', 'Server-Timing', 'Retry-After'],
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    maxAge: 86_400,
  })

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Atrium', version: deps.version, description: 'Athena gateway, PostgREST-compatible /rest/v1 and system routes served by Atrium.' },
      components: { securitySchemes: SECURITY_SCHEMES },
    },
    // each operation's security and error responses, from its config (http/openapi-document.ts)
    transform: documentRoute(config.security.protect) as never,
    hideUntagged: false,
  })

  // During shutdown, keep-alive connections are closed as soon as their in-flight request is answered,
  // so close() returns when the work is done instead of after the keep-alive timeout.
  app.addHook('preClose', async () => {
    const sweep = setInterval(() => app.server.closeIdleConnections(), 25)
    app.server.once('close', () => clearInterval(sweep))
  })
  app.decorateRequest('principal', null as never)
  app.decorateRequest('source', null as never)
  // per-request hooks are synchronous: an async hook costs a promise and a microtask on every request
  await app.register(requestAccounting, { services: deps })

  // Paths that no family owns (and the CORS preflight route, which is the root's) answer in the system
  // family's shape, the Athena one: the system routes are part of the Athena contract.
  app.setErrorHandler((err, req, reply) => sendFamilyError(systemFamily, err, req, reply))
  app.setNotFoundHandler((req, reply) => sendFamilyError(systemFamily, routeNotFound(req), req, reply))

  // the families, one line each; each takes from `deps` only what its own Deps type names
  const familyDeps = { ...deps, routes }
  // pino's Logger and Fastify's base logger type differ only in generics
  const root = app as unknown as FastifyInstance
  await mountFamily(root, systemFamily, familyDeps)
  await mountFamily(root, gatewayFamily, familyDeps)
  await mountFamily(root, restFamily, familyDeps)
  await mountFamily(root, storageFamily, familyDeps)
  await mountFamily(root, realtimeFamily, familyDeps)
  await mountFamily(root, databasesFamily, familyDeps)
  await mountFamily(root, assistantFamily, familyDeps)
  await mountFamily(root, workspaceFamily, familyDeps)
  await mountFamily(root, mcpFamily, familyDeps)

  return root
}
