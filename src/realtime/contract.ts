// The WebSocket gateway's contract as data: what GET /wss/info returns and what GET /openapi-wss.yaml documents,
// both built from the protocol's own tables and the live settings, so they cannot drift from what is served.
import { CLOSE, type RealtimeSettings } from './connection.js'
import { ACTIONS, CHANGE_EVENTS, GATEWAY_ACTIONS, MESSAGE_HEADERS } from './protocol.js'

export const GATEWAY_PATH = '/wss/gateway'

const limitsOf = (s: RealtimeSettings) => ({
  max_connections_per_node: s.maxConnections,
  max_in_flight_per_connection: s.maxInFlight,
  max_subscriptions_per_connection: s.maxSubscriptions,
  max_message_bytes: s.maxMessageBytes,
  max_fetch_rows: s.maxFetchRows,
  max_buffered_bytes: s.maxBufferedBytes,
  slow_consumer_grace_ms: s.slowConsumerGraceMs,
  auth_timeout_ms: s.authTimeoutMs,
  heartbeat_ms: s.heartbeatMs,
  recheck_ms: s.recheckMs,
  replay_window_seconds: s.replayWindowSeconds,
  max_replay_events: s.maxReplayEvents,
})

/** the `data` of GET /wss/info */
export function realtimeContract(settings: RealtimeSettings, stats: Record<string, number>) {
  return {
    transport: 'wss',
    path: GATEWAY_PATH,
    state: 'available',
    authentication: ['apikey header or ?apikey= at the upgrade', 'Authorization: Bearer <key or session JWT> at the upgrade', 'a first auth.hello message with {key} or {token}'],
    actions: [...ACTIONS],
    gateway_routes: Object.fromEntries(Object.entries(GATEWAY_ACTIONS).map(([a, r]) => [a, `${r.method} ${r.url}`])),
    message_headers: [...MESSAGE_HEADERS],
    events: Object.keys(CHANGE_EVENTS),
    close_codes: {
      [CLOSE.unauthenticated]: 'no valid credential (bad key, auth timeout, revoked or expired on re-check)',
      [CLOSE.forbidden]: 'a subscription lost its right on re-check',
      [CLOSE.slowConsumer]: 'slow consumer: more than max_buffered_bytes left unread',
      [CLOSE.tooManyConnections]: 'the node holds max_connections_per_node',
      1009: 'a message larger than max_message_bytes',
    },
    limits: limitsOf(settings),
    node: stats,
    notes: [
      'Every write through Atrium to a table with a subscriber on any node produces change events (no header needed); tables an admin enables (POST /admin/clients/{client_name}/realtime/tables) also deliver changes made outside Atrium, captured by the database. Fed by the outbox from every node.',
      'After a reconnect, subscribe with since (the last event_id received) to replay what was missed, within the replay window; too old is 410 replay_unavailable.',
    ],
  }
}

const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, ...(required.length ? { required } : {}) })
const str = (description?: string, extra: Record<string, unknown> = {}) => ({ type: 'string', ...(description ? { description } : {}), ...extra })
const Id = { oneOf: [{ type: 'string', maxLength: 128 }, { type: 'number' }], description: 'chosen by the client; echoed in the reply' }

/** GET /openapi-wss.yaml: the messages, as OpenAPI components (WebSocket has no OpenAPI operations of its own) */
export function wssDocument(settings: RealtimeSettings, version: string) {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Atrium WebSocket gateway',
      version,
      description: `Connect to ${GATEWAY_PATH} (a WebSocket upgrade on the HTTP port). Every message is one JSON text frame. Client messages are ClientMessage; the server answers each with a Reply carrying the same id, pushes Event messages for subscriptions, and sends a Notice before closing a connection it drops. See docs/realtime.md.`,
    },
    paths: {
      [GATEWAY_PATH]: {
        get: {
          summary: 'Open a WebSocket gateway connection (HTTP upgrade)',
          parameters: [
            { in: 'header', name: 'apikey', schema: { type: 'string' }, description: 'an API key or the admin key (or Authorization: Bearer)' },
            { in: 'query', name: 'apikey', schema: { type: 'string' }, description: 'the same, for clients that cannot set headers' },
            { in: 'header', name: 'X-Athena-Client', schema: { type: 'string' }, description: 'the client of messages that name none (or ?client=)' },
          ],
          responses: { 101: { description: 'Switching Protocols: the connection is open' } },
        },
      },
    },
    components: {
      schemas: {
        ClientMessage: obj({
          id: Id,
          action: str(undefined, { enum: [...ACTIONS] }),
          client: str('the client (X-Athena-Client) of a data action or subscription; defaults to the connection\'s'),
          headers: { type: 'object', additionalProperties: { type: 'string' }, description: `request headers of a data action: ${MESSAGE_HEADERS.join(', ')}` },
          payload: { description: 'auth.hello: AuthHello; gateway.*: the body of the HTTP route (see /openapi.yaml); subscribe: Subscribe; unsubscribe: {subscription}' },
        }, ['action']),
        AuthHello: obj({ key: str('an API key or the admin key'), token: str('a session JWT') }),
        Subscribe: obj({
          table: str('a table or view of the client'),
          event: str('which changes', { enum: ['*', ...Object.keys(CHANGE_EVENTS)], default: '*' }),
          filter: str('PostgREST filters, e.g. id=eq.3 or status=in.(paid,sent); several joined by & must all match'),
          since: { type: 'integer', minimum: 0, description: 'the event_id of the last event received: replays the retained events after it, then goes live' },
        }, ['table']),
        Reply: obj({
          type: str(undefined, { enum: ['reply'] }),
          id: Id,
          action: str(),
          status: { type: 'integer', description: 'the HTTP status the same request gets over HTTP' },
          body: { type: 'object', description: 'the Athena envelope: {status, message, data, …} or {status:"error", code, message, error, data}' },
        }, ['type', 'id', 'status', 'body']),
        Event: obj({
          type: str(undefined, { enum: ['event'] }),
          subscription: str('the id subscribe answered with'),
          event: str(undefined, { enum: Object.keys(CHANGE_EVENTS) }),
          client: str(),
          table: str(),
          name: { type: 'string', nullable: true, description: 'the X-Publish-Event name of the write, or null' },
          origin: str('atrium: a write through Atrium; database: a change captured on an enabled table', { enum: ['atrium', 'database'] }),
          rows: { type: 'array', items: { type: 'object' }, description: 'the written rows that match the subscription\'s filter (deleted rows as they were)' },
          old_rows: { type: 'array', items: { type: 'object' }, description: 'captured UPDATE and DELETE: the rows before the change, in the order of rows' },
          event_id: { type: 'integer' },
          committed_at: str(undefined, { format: 'date-time' }),
          request_id: { type: 'string', nullable: true },
        }, ['type', 'subscription', 'event', 'rows']),
        Notice: obj({ type: str(undefined, { enum: ['error'] }), code: str(), message: str() }, ['type', 'code', 'message']),
        Ready: obj({ type: str(undefined, { enum: ['ready'] }), authenticated: { type: 'boolean' }, limits: { type: 'object' } }),
      },
    },
    'x-limits': limitsOf(settings),
  }
}
