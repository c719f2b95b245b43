// Who may run management DDL: the admin key, or an API key bound to the client named by X-Athena-Client
// that holds the operation's right. Anonymous callers never may, whatever the client's key enforcement.
import { operationRights, requireOperation, type Operation } from '../auth/operation-rights.js'
import type { Principal } from '../auth/principal.js'
import { AppError } from '../errors/app-error.js'
import type { Source } from '../sources/source.js'

export function requireManagementAccess(principal: Principal, source: Source, operation: Operation): void {
  if (principal.kind === 'admin') return
  const right = operationRights[operation].right
  if (principal.kind === 'user') {
    throw new AppError('key_not_client_bound', 'management routes need the admin key or an API key bound to the client; session tokens cannot call them', {
      hint: 'create a key with client_name set (POST /admin/api-keys)',
      data: { required_right: right },
    })
  }
  if (principal.kind !== 'key') {
    throw new AppError('missing_api_key', 'management routes need an API key bound to the client (or the admin key)', {
      hint: 'send it as apikey, Authorization: Bearer, X-API-Key or X-Athena-Key',
    })
  }
  if (principal.clientName === null) {
    throw new AppError('key_not_client_bound', `API key "${principal.name}" is not bound to a client; management routes need a client-bound key`, {
      hint: 'create a key with client_name set (POST /admin/api-keys)',
      data: { required_right: right },
    })
  }
  // client names are case-insensitive, as in key authentication: a key bound to "Shop" serves "shop"
  if (principal.clientName.toLowerCase() !== source.name.toLowerCase()) {
    throw new AppError('client_not_allowed', `API key "${principal.name}" is bound to client "${principal.clientName}", not "${source.name}"`)
  }
  requireOperation(principal, operation)
}

/** how the audit log names the caller */
export function actorOf(principal: Principal): { actor: string; apiKeyId: string | null } {
  if (principal.kind === 'key') return { actor: `api_key:${principal.publicId}`, apiKeyId: principal.keyId }
  if (principal.kind === 'user') return { actor: `user:${principal.sub}`, apiKeyId: null }
  return { actor: principal.kind, apiKeyId: null }
}
