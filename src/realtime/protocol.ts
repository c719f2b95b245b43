// The WebSocket gateway's messages: what a client may send (one JSON object per text message, with a client-chosen
// `id` echoed in the reply) and the shapes the server sends back. Parsing checks shape only; what an action does
// is the dispatcher's (api/realtime/dispatch.ts).
import { AppError } from '../errors/app-error.js'

/** the data actions: each is the HTTP gateway route of the same name, with the same body, rights and envelope */
export const GATEWAY_ACTIONS = {
  'gateway.fetch': { method: 'POST', url: '/gateway/fetch' },
  'gateway.insert': { method: 'PUT', url: '/gateway/insert' },
  'gateway.update': { method: 'POST', url: '/gateway/update' },
  'gateway.delete': { method: 'DELETE', url: '/gateway/delete' },
  'gateway.query': { method: 'POST', url: '/gateway/query' },
} as const

export type GatewayAction = keyof typeof GATEWAY_ACTIONS

export const ACTIONS = ['auth.hello', ...Object.keys(GATEWAY_ACTIONS) as GatewayAction[], 'subscribe', 'unsubscribe', 'ping'] as const
export type Action = (typeof ACTIONS)[number]

/** the change events a subscription can ask for, as Supabase Realtime names them, and the outbox's row events */
export const CHANGE_EVENTS = { INSERT: 'row.inserted', UPDATE: 'row.updated', DELETE: 'row.deleted' } as const
export type ChangeEvent = keyof typeof CHANGE_EVENTS
/** the outbox's change events (writes to watched or captured tables, without X-Publish-Event), by the same names */
export const CHANGE_TYPES = { INSERT: 'change.inserted', UPDATE: 'change.updated', DELETE: 'change.deleted' } as const satisfies Record<ChangeEvent, string>

/** the request headers a data action may carry, as the HTTP route reads them; credentials are the connection's */
export const MESSAGE_HEADERS = ['x-athena-client', 'x-publish-event', 'x-strip-nulls', 'x-user-id', 'x-company-id', 'x-organization-id', 'cache-control'] as const

export interface ClientMessage {
  /** echoed in the reply; a string or a number chosen by the client */
  id: string | number | null
  action: Action
  /** the client (X-Athena-Client) the action is about; else the connection's */
  client?: string
  headers: Record<string, string>
  payload: unknown
}

const MAX_ID_LENGTH = 128

/** one text message → a message; throws invalid_message or unknown_action (with the id when one was readable) */
export function parseClientMessage(text: string | undefined): ClientMessage {
  let raw: unknown
  try {
    if (text === undefined) throw new Error('binary')
    raw = JSON.parse(text)
  } catch {
    throw new MessageError(null, new AppError('invalid_message', 'a message must be one JSON object in a text frame', { hint: '{"id":"1","action":"ping"}' }))
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new MessageError(null, new AppError('invalid_message', 'a message must be one JSON object', { hint: '{"id":"1","action":"ping"}' }))
  }
  const m = raw as Record<string, unknown>
  const id = m.id
  const idOk = id === undefined || id === null || (typeof id === 'string' && id.length <= MAX_ID_LENGTH) || (typeof id === 'number' && Number.isFinite(id))
  if (!idOk) throw new MessageError(null, new AppError('invalid_message', `id must be a string of at most ${MAX_ID_LENGTH} characters or a number`))
  const fail = (message: string, hint?: string) => new MessageError((id ?? null) as ClientMessage['id'], new AppError('invalid_message', message, hint ? { hint } : {}))
  if (typeof m.action !== 'string') throw fail('action must name what to do', `actions: ${ACTIONS.join(', ')}`)
  if (!(ACTIONS as readonly string[]).includes(m.action)) {
    throw new MessageError((id ?? null) as ClientMessage['id'], new AppError('unknown_action', `unknown action "${m.action.slice(0, 64)}"`, { hint: `actions: ${ACTIONS.join(', ')}` }))
  }
  if (m.client !== undefined && (typeof m.client !== 'string' || !m.client.trim())) throw fail('client must be a client name')
  const headers: Record<string, string> = {}
  if (m.headers !== undefined) {
    if (typeof m.headers !== 'object' || m.headers === null || Array.isArray(m.headers)) throw fail('headers must be an object of strings')
    for (const [name, value] of Object.entries(m.headers)) {
      const lower = name.toLowerCase()
      if (!(MESSAGE_HEADERS as readonly string[]).includes(lower)) {
        throw fail(`header "${name.slice(0, 64)}" cannot be sent in a message`, `allowed: ${MESSAGE_HEADERS.join(', ')}; credentials are the connection's`)
      }
      if (typeof value !== 'string') throw fail(`header "${name}" must be a string`)
      headers[lower] = value
    }
  }
  return { id: (id ?? null) as ClientMessage['id'], action: m.action as Action, client: m.client as string | undefined, headers, payload: m.payload }
}

/** a refusal of a message, with the id to answer it under */
export class MessageError extends Error {
  constructor(readonly id: ClientMessage['id'], readonly error: AppError) {
    super(error.message)
  }
}

/** `{"type":"reply","id":…,"action":…,"status":…,"body":<bodyJson>}`; `bodyJson` is JSON text, sent as is */
export function replyText(id: ClientMessage['id'], action: string | null, status: number, bodyJson: string): string {
  return `{"type":"reply","id":${JSON.stringify(id)},"action":${JSON.stringify(action)},"status":${status},"body":${bodyJson}}`
}

/** a message the server sends on its own: `{"type":"error","code":…,"message":…}` before it closes a connection */
export function noticeText(code: string, message: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ type: 'error', code, message, ...extra })
}
