// One JSON call to a hosting provider's public API (Neon, Railway, Render, Supabase): the URL held to the same
// address rule as webhooks (webhooks.allowPrivate), the provider's token as a bearer, the answer parsed or turned
// into a coded error that names the provider. Tokens are never logged or echoed.
import { AppError } from '../../errors/app-error.js'
import { sendOutbound, type OutboundRequest } from '../../webhooks/outbound-post.js'
import { assertPublicUrl, parseWebhookUrl } from '../../webhooks/webhook-url.js'

export interface ProviderClient {
  /** the provider's name as messages show it, e.g. "Neon" */
  provider: string
  token: string
  allowPrivate: boolean
  timeoutMs: number
}

// a provider's answers are small JSON documents; a longer one is refused rather than held
const MAX_ANSWER_CHARS = 1_048_576

/** a base URL from the request or configuration, checked like a webhook URL; `field` names it in errors */
export async function providerUrl(raw: string, field: string, allowPrivate: boolean): Promise<URL> {
  try {
    const url = parseWebhookUrl(raw)
    await assertPublicUrl(url, allowPrivate)
    return url
  } catch (err) {
    if (err instanceof AppError) throw new AppError(err.code, err.message.replace(/^url:/, `${field}:`), err.extra)
    throw err
  }
}

/** base + path (the base's own path kept: https://api.example.com/v1 + /projects → /v1/projects) */
export function joinUrl(base: URL, path: string, query: Record<string, string | undefined> = {}): URL {
  const url = new URL(base.href.replace(/\/+$/, '') + path)
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v)
  return url
}

export async function callProvider<T = any>(client: ProviderClient, method: OutboundRequest['method'], url: URL, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${client.token}`, accept: 'application/json', 'user-agent': 'atrium-provisioning' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  let answer: Awaited<ReturnType<typeof sendOutbound>>
  try {
    answer = await sendOutbound(url, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(client.timeoutMs), allowPrivate: client.allowPrivate, keepChars: MAX_ANSWER_CHARS,
    })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EINTERNALADDRESS') throw new AppError('webhook_url_not_allowed', `${client.provider}'s API host ${url.hostname} resolves to an internal address`, { hint: 'set ATRIUM_WEBHOOKS_ALLOW_PRIVATE=true (webhooks.allowPrivate) to allow internal addresses' })
    const why = (err as Error).name === 'TimeoutError' ? `did not answer within ${client.timeoutMs} ms` : `could not be reached (${code ?? (err as Error).message})`
    throw new AppError('provider_unavailable', `${client.provider}'s API at ${url.host} ${why}`, { retryAfter: 5, data: { provider: client.provider } })
  }
  if (answer.status < 200 || answer.status > 299) {
    throw new AppError('provider_error', `${client.provider} answered ${method} ${url.pathname} with ${answer.status}: ${providerMessage(answer.text)}`, {
      hint: answer.status === 401 || answer.status === 403 ? `check the ${client.provider} token (api_key in the body, or the configured one)` : undefined,
      data: { provider: client.provider, provider_status: answer.status },
    })
  }
  if (answer.truncated) throw new AppError('provider_error', `${client.provider}'s answer to ${method} ${url.pathname} is longer than ${MAX_ANSWER_CHARS} characters`, { data: { provider: client.provider } })
  if (answer.text === '') return undefined as T
  try {
    return JSON.parse(answer.text) as T
  } catch {
    throw new AppError('provider_error', `${client.provider}'s answer to ${method} ${url.pathname} is not JSON`, { data: { provider: client.provider } })
  }
}

/** the provider's own words about an error, short: its JSON message field when there is one */
function providerMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: unknown; errors?: Array<{ message?: unknown }> }
    const said = parsed.message ?? parsed.error ?? parsed.errors?.[0]?.message
    if (typeof said === 'string') return said.slice(0, 300)
  } catch { /* not JSON: the text itself */ }
  return text.slice(0, 300) || '(no body)'
}

/** a required value from the provider's answer, or a provider_error naming what is missing */
export function expectField<T>(provider: string, value: T | undefined | null, what: string): T {
  if (value === undefined || value === null || value === '') throw new AppError('provider_error', `${provider}'s answer has no ${what}`, { data: { provider } })
  return value
}
