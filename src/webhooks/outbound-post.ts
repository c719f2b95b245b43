// One request to an outside receiver (a webhook POST, a provider's API call), connected only to an address the
// internal-range check approved. The check
// runs inside the connection's own DNS lookup, so a name cannot answer with a public address when the URL is
// checked and with an internal one when the socket connects (DNS rebinding).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'
import { isInternalAddress } from './webhook-url.js'

export interface OutboundAnswer {
  status: number
  /** the start of the answer's body (at most `keepChars` characters) */
  text: string
}

export interface OutboundPost {
  headers: Record<string, string>
  body: string
  signal: AbortSignal
  allowPrivate: boolean
  keepChars: number
}

/** a connection-time lookup that refuses every name resolving to a loopback, private or link-local address */
export function publicOnlyLookup(): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0)
      const internal = addresses.find((a) => isInternalAddress(a.address))
      if (internal) {
        const refused = Object.assign(new Error(`${hostname} now resolves to ${internal.address}, an internal address`), { code: 'EINTERNALADDRESS' })
        return callback(refused, '', 0)
      }
      // with autoSelectFamily (Node's default) the socket asks for every address; otherwise for one
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses)
      else callback(null, addresses[0]!.address, addresses[0]!.family)
    })
  }
}

/** redirects are not followed: their target was never checked against the internal ranges */
export function postOutbound(url: URL, post: OutboundPost): Promise<OutboundAnswer> {
  return sendOutbound(url, { ...post, method: 'POST' })
}

export interface OutboundRequest extends Omit<OutboundPost, 'body'> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** no body when undefined */
  body?: string
}

/** any method, with the same address rule and no redirects; `truncated` when the answer was longer than keepChars */
export function sendOutbound(url: URL, out: OutboundRequest): Promise<OutboundAnswer & { truncated: boolean }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: out.method,
      headers: out.body === undefined ? out.headers : { ...out.headers, 'content-length': String(Buffer.byteLength(out.body)) },
      signal: out.signal,
      lookup: out.allowPrivate ? undefined : publicOnlyLookup(),
    }, (res: IncomingMessage) => {
      let text = ''
      let truncated = false
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        if (text.length + chunk.length > out.keepChars) truncated = true
        if (text.length < out.keepChars) text += chunk.slice(0, out.keepChars - text.length)
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, truncated }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(out.body)
  })
}
