// Decides whether Atrium may call a webhook URL: http(s) only, and no host that resolves to a loopback,
// private, link-local or otherwise internal address unless webhooks.allowPrivate is set.
import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'
import { AppError } from '../errors/app-error.js'

// Addresses a webhook must not reach by default: it would let whoever holds the admin key (or a DNS name
// they control) make Atrium call services that are reachable only from inside its network.
const INTERNAL = new BlockList()
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) INTERNAL.addSubnet(net, bits, 'ipv4')
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) INTERNAL.addSubnet(net, bits, 'ipv6')

export function isInternalAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  const address = mapped ? mapped[1]! : ip
  const family = isIP(address)
  if (family === 0) return true
  return INTERNAL.check(address, family === 6 ? 'ipv6' : 'ipv4')
}

/** the URL, checked: a 400 naming what is wrong with it */
export function parseWebhookUrl(raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new AppError('invalid_request', `url: "${raw}" is not an absolute URL`, { hint: 'e.g. https://hooks.example.com/atrium' })
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AppError('invalid_request', `url: the scheme must be http or https, not ${url.protocol.replace(/:$/, '')}`)
  if (url.username || url.password) throw new AppError('invalid_request', 'url: credentials in the URL are not allowed; the receiver checks the signature instead')
  return url
}

/** every address a host name (or bracketed IP literal) resolves to; a failed lookup rejects with the resolver's error */
export async function addressesOf(hostname: string): Promise<string[]> {
  const host = hostname.replace(/^\[(.*)\]$/, '$1')
  if (isIP(host)) return [host]
  return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address)
}

/**
 * Why Atrium may not connect to a host (a name or IP literal, brackets allowed): it does not resolve, or one of its addresses is internal (every address
 * is checked); undefined when it may. Shared by every outbound caller (webhooks, agents), each with its own error.
 */
export async function hostRefusal(hostname: string): Promise<{ message: string; unresolved: boolean } | undefined> {
  const host = hostname.replace(/^\[(.*)\]$/, '$1')
  let addresses: string[]
  try {
    addresses = await addressesOf(host)
  } catch (err) {
    return { message: `the host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'})`, unresolved: true }
  }
  const internal = addresses.find(isInternalAddress)
  return internal === undefined ? undefined : { message: `${host} resolves to ${internal}, a loopback, private or link-local address`, unresolved: false }
}

/**
 * Refuses a URL whose host resolves to an internal address.
 * Checked when the endpoint is saved and again before each attempt, since a DNS name can change its answer.
 */
export async function assertPublicUrl(url: URL, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return
  const refusal = await hostRefusal(url.hostname)
  if (!refusal) return
  if (refusal.unresolved) throw new AppError('webhook_url_not_allowed', `url: ${refusal.message}`, { hint: 'give a host name that resolves to a public address' })
  throw new AppError('webhook_url_not_allowed', `url: ${refusal.message}; webhooks are not sent there`, {
    hint: 'use a public address, or set ATRIUM_WEBHOOKS_ALLOW_PRIVATE=true (webhooks.allowPrivate) to allow internal receivers',
  })
}
