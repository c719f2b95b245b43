// GET /wss/gateway: the WebSocket upgrade. Reads the credential presented at the upgrade (or waits for auth.hello),
// then hands each text message to the connection's dispatcher.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { adminKeyMatcher, type Credential } from '../../http/access-control.js'
import { presentedKey, presentedSessionToken } from '../../http/credentials.js'
import { AppError } from '../../errors/app-error.js'
import { GATEWAY_PATH } from '../../realtime/contract.js'
import { trimmedHeader } from '../../query/parse/headers.js'
import { CLOSE, RealtimeConnection } from '../../realtime/connection.js'
import type { RealtimeDeps } from './deps.js'
import { Dispatcher } from './dispatch.js'

/** ?name= of the upgrade URL */
function queryParam(req: FastifyRequest, name: string): string | undefined {
  const value = (req.query as Record<string, unknown> | undefined)?.[name]
  return typeof value === 'string' && value.trim() ? value.trim() : undefined
}

/** the key (apikey header, Bearer, X-API-Key, ?api_key= or ?apikey=) and session token presented at the upgrade */
function credentialAtUpgrade(deps: RealtimeDeps, req: FastifyRequest): Credential | undefined {
  const key = presentedKey(req) ?? queryParam(req, 'apikey')
  const session = deps.sessions.enabled ? presentedSessionToken(req) : undefined
  return key || session ? { key, session } : undefined
}

export function gatewaySocketRoute(app: FastifyInstance, deps: RealtimeDeps): void {
  const isAdminKey = adminKeyMatcher(deps.adminKey)
  app.route({
    method: 'GET',
    url: '/gateway',
    // the upgrade itself is public: the credential is checked by the connection, which can then say why it closes
    config: { operation: 'realtime.gateway', access: 'public' },
    schema: { summary: 'Open a WebSocket gateway connection (upgrade); messages are documented in /openapi-wss.yaml', tags: ['realtime'] },
    // a plain GET (no upgrade) is told what to do instead
    handler: async () => {
      throw new AppError('upgrade_required', `${GATEWAY_PATH} is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)`, {
        hint: 'GET /wss/info describes the messages; GET /openapi-wss.yaml documents them',
      })
    },
    wsHandler: (socket: WebSocket, req: FastifyRequest) => openConnection(app, deps, isAdminKey, socket, req),
  })
}

function openConnection(app: FastifyInstance, deps: RealtimeDeps, isAdminKey: (key: string) => boolean, socket: WebSocket, req: FastifyRequest): void {
  const settings = deps.config.realtime
  const conn = new RealtimeConnection(socket, settings, req.ip, trimmedHeader(req.headers, 'x-athena-client') ?? queryParam(req, 'client'))
  if (!deps.realtime.admit(conn)) return
  socket.on('close', () => deps.realtime.remove(conn))
  socket.on('pong', () => { conn.awaitingPong = false })
  const dispatcher = new Dispatcher(app, deps, isAdminKey, conn, req.log)
  socket.on('message', (data, isBinary) => dispatcher.onMessage(isBinary ? undefined : data.toString()))
  const cred = credentialAtUpgrade(deps, req)
  if (cred) {
    void dispatcher.authenticate(cred).then(() => {
      if (conn.authenticated) conn.send(JSON.stringify({ type: 'ready', authenticated: true, principal: conn.principal!.kind }))
    })
    return
  }
  conn.send(JSON.stringify({ type: 'ready', authenticated: false, hint: `send {"action":"auth.hello","payload":{"key":"…"}} within ${settings.authTimeoutMs} ms` }))
  const timer = setTimeout(() => {
    if (!conn.authenticated) conn.close(CLOSE.unauthenticated, 'authentication timeout', { code: 'authentication_required', message: `no credential within ${settings.authTimeoutMs} ms` })
  }, settings.authTimeoutMs)
  timer.unref()
  socket.on('close', () => clearTimeout(timer))
}
