// The realtime family: the WebSocket gateway under /wss (the upgrade at /wss/gateway and its live contract at
// /wss/info). Part of the Athena contract, so errors of its HTTP routes answer in the Athena envelope; the
// messages of a connection carry the same envelopes (api/realtime/dispatch.ts).
import websocket from '@fastify/websocket'
import { installKeyAccess } from '../../http/access-control.js'
import { realtimeContract } from '../../realtime/contract.js'
import type { Family } from '../family.js'
import { renderAthenaError } from '../gateway/envelope.js'
import type { RealtimeDeps } from './deps.js'
import { gatewaySocketRoute } from './gateway-socket.js'

export const realtimeFamily: Family<RealtimeDeps> = {
  name: 'realtime',
  prefix: '/wss',
  readCredentials: (scope, services) => installKeyAccess(scope, services),
  renderError: renderAthenaError,
  async routes(app, deps) {
    await app.register(websocket, { options: { maxPayload: deps.config.realtime.maxMessageBytes } })
    gatewaySocketRoute(app, deps)
    app.get('/info', {
      config: { operation: 'system.wss_info', access: 'public' },
      schema: { summary: 'Read the WebSocket gateway contract', tags: ['realtime'] },
    }, async () => ({
      status: 'success',
      message: 'Atrium WebSocket gateway',
      data: { ...realtimeContract(deps.config.realtime, deps.realtime.stats()), version: deps.version },
    }))
  },
}
