// A `fetch` for the agent SDKs (MCP, A2A) that connects only to addresses the internal-range rule allows: the
// check runs in the socket's own DNS lookup (the webhooks' publicOnlyLookup), so an endpoint — or a URL an A2A
// agent card points to — cannot reach loopback or private services by answering differently at connect time.
// Redirects are returned, never followed: their target was never checked. Bodies stream (MCP answers with SSE).
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Readable } from 'node:stream'
import { isIP } from 'node:net'
import { publicOnlyLookup } from '../webhooks/outbound-post.js'
import { isInternalAddress } from '../webhooks/webhook-url.js'

export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>

/** the global fetch when internal addresses are allowed; otherwise one whose sockets refuse them */
export function guardedFetch(allowPrivate: boolean): FetchLike {
  if (allowPrivate) return (url, init) => fetch(url, { ...init, redirect: 'manual' })
  return (input, init = {}) => send(new URL(String(input)), init)
}

async function send(url: URL, init: RequestInit): Promise<Response> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported scheme ${url.protocol}`)
  // a socket to an IP literal makes no DNS lookup, so the lookup's check never runs for it: check it here
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (isIP(host) && isInternalAddress(host)) {
    throw Object.assign(new Error(`${host} is an internal address`), { code: 'EINTERNALADDRESS' })
  }
  const headers = Object.fromEntries(new Headers(init.headers).entries())
  const body = init.body === undefined || init.body === null ? undefined : await new Response(init.body).arrayBuffer()
  if (body) headers['content-length'] = String(body.byteLength)
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers, signal: init.signal ?? undefined, lookup: publicOnlyLookup() }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 502
      const responseHeaders = new Headers()
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, v)
      }
      // a null-body status must not carry a stream (the Response constructor refuses it)
      const empty = status === 204 || status === 304 || init.method === 'HEAD'
      if (empty) res.resume()
      resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream), { status, headers: responseHeaders }))
    })
    req.on('error', reject)
    req.end(body ? Buffer.from(body) : undefined)
  })
}
