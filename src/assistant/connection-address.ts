// Where a user's connection may point: the outbound address rule of webhooks (src/webhooks/webhook-url.ts). A
// signed-in user must not make Atrium connect to hosts reachable only from inside its network (the catalog's
// neighbours, metadata services, admin ports), so a host resolving to a loopback, private, link-local or other
// internal address is refused unless assistant.allowPrivateConnections is set. Checked when the connection is
// created and again whenever it is opened, since a DNS name can change its answer.
import { AppError } from '../errors/app-error.js'
import { hostRefusal } from '../webhooks/webhook-url.js'

const HINT = 'use a database at a public address, or set ATRIUM_ASSISTANT_ALLOW_PRIVATE=true (assistant.allowPrivateConnections) to allow internal hosts'

/** refuses `host` (a host name or IP literal, brackets allowed) unless every address it resolves to is public */
export async function assertConnectableHost(host: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return
  const refusal = await hostRefusal(host)
  if (!refusal) return
  throw new AppError('assistant_connection_not_allowed', `config.host: ${refusal.message}${refusal.unresolved ? '' : '; connections are not made there'}`, { hint: HINT })
}

/** the host of a source's connection URL (postgres://… or mysql://…), for the check when the connection is opened */
export function hostOfUrl(url: string): string {
  return new URL(url).hostname
}
