// One POST to an outside receiver, connected only to an address the internal-range check approved. The check
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
function publicOnlyLookup(): LookupFunction {
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
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: 'POST',
      headers: { ...post.headers, 'content-length': String(Buffer.byteLength(post.body)) },
      signal: post.signal,
      lookup: post.allowPrivate ? undefined : publicOnlyLookup(),
    }, (res: IncomingMessage) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        if (text.length < post.keepChars) text += chunk.slice(0, post.keepChars - text.length)
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(post.body)
  })
}
