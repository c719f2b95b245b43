// Decides whether Atrium may call an agent endpoint: an absolute http(s) URL without credentials (they would be
// shown in every answer), and no host resolving to an internal address unless agents.allowPrivate is set. The
// check here answers the caller at save time; every connection is checked again by guardedFetch.
import { AppError } from '../errors/app-error.js'
import { hostRefusal } from '../webhooks/webhook-url.js'

const LOC = ['body', 'endpoint_url']

export function parseAgentUrl(raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw refused(`endpoint_url: "${raw}" is not an absolute URL`, 'e.g. https://agents.example.com/mcp')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refused(`endpoint_url: the scheme must be http or https, not ${url.protocol.replace(/:$/, '')}`)
  if (url.username || url.password) throw refused('endpoint_url: credentials in the URL are not allowed (they would be shown to every reader of the agent)')
  return url
}

/** refuses a host that does not resolve, or resolves to a loopback, private or link-local address */
export async function assertAgentUrlAllowed(url: URL, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return
  const refusal = await hostRefusal(url.hostname)
  if (!refusal) return
  if (refusal.unresolved) throw refused(`endpoint_url: ${refusal.message}`, 'give a host name that resolves to a public address')
  throw refused(`endpoint_url: ${refusal.message}; agents are not called there`,
    'use a public address, or set ATRIUM_AGENTS_ALLOW_PRIVATE=true (agents.allowPrivate) to allow agents inside your network')
}

const refused = (message: string, hint?: string) => new AppError('agent_url_not_allowed', message, { hint, data: { loc: LOC } })
