// The webhook-delivery job: one signed POST of a delivery's body to its endpoint per attempt, the attempt
// recorded on the delivery; a non-2xx answer or a network error throws, so the job queue retries it.
import { Webhook } from 'standardwebhooks'
import { open } from '../auth/secret-box.js'
import { AppError } from '../errors/app-error.js'
import type { JobContext, JobKindOptions } from '../jobs/job-queue.js'
import { VERSION } from '../version.js'
import { postOutbound } from './outbound-post.js'
import { assertPublicUrl } from './webhook-url.js'
import type { WebhookStore } from './webhook-store.js'

export const WEBHOOK_DELIVERY_JOB = 'webhook-delivery'

// pg-boss waits retryDelay · 2^n · (1 + jitter) seconds before retry n+1: with 5 s and 13 retries the last
// attempt comes 11–23 hours after the first, so a receiver gets about a day to come back.
// expireIn: an attempt waits at most ATTEMPT_TIMEOUT_MS; a worker that died mid-attempt hands its job on after this
export const DELIVERY_RETRIES: JobKindOptions = { retryLimit: 13, retryDelay: 5, retryBackoff: true, expireIn: 30 }
export const MAX_ATTEMPTS = DELIVERY_RETRIES.retryLimit! + 1
/** how long one attempt waits for the receiver's answer */
const ATTEMPT_TIMEOUT_MS = 15_000
/** the part of a failing receiver's answer kept in last_error */
const ERROR_BODY_CHARS = 200

export interface DeliveryJobDeps {
  store: WebhookStore
  secretKey: Buffer
  allowPrivate: boolean
  /** a delivery failed for good (its last attempt): the endpoint may have been failing for long */
  onFinalFailure(endpointId: string, deliveryId: string): Promise<void>
}

export function webhookDeliveryHandler(deps: DeliveryJobDeps) {
  return async (data: { delivery_id?: unknown }, ctx: JobContext): Promise<unknown> => {
    const { store } = deps
    const id = String(data.delivery_id)
    const delivery = await store.deliveryForSending(id)
    // deleted with its endpoint, or already delivered by an earlier run of this job
    if (!delivery || delivery.status === 'succeeded') return { skipped: true }
    const final = ctx.attempt >= MAX_ATTEMPTS
    const endpoint = await store.getEndpoint(delivery.endpointId)
    const sealed = await store.sealedSecret(delivery.endpointId)
    if (!endpoint || !sealed) return { skipped: true }
    // refusals that another attempt would not change: the delivery fails now, without retries
    const giveUp = async (message: string) => {
      await store.recordAttempt(id, { attempt: ctx.attempt, status: 'failed', responseStatus: null, error: message })
      return { failed: message }
    }
    if (!endpoint.enabled) return giveUp('the endpoint is disabled')
    const url = new URL(endpoint.url)
    try {
      await assertPublicUrl(url, deps.allowPrivate)
    } catch (err) {
      return giveUp((err as Error).message)
    }

    const timestamp = new Date()
    const signature = new Webhook(open(deps.secretKey, sealed)).sign(id, timestamp, delivery.body)
    let responseStatus: number | null = null
    let error: string | null = null
    try {
      const answer = await postOutbound(url, {
        headers: {
          'content-type': 'application/json',
          'user-agent': `Atrium-Webhooks/${VERSION}`,
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body: delivery.body,
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]),
        allowPrivate: deps.allowPrivate,
        keepChars: ERROR_BODY_CHARS,
      })
      responseStatus = answer.status
      if (answer.status < 200 || answer.status > 299) error = `the receiver answered ${answer.status}${answer.text ? `: ${answer.text}` : ''}`
    } catch (err) {
      const e = err as Error & { code?: string; cause?: { name?: string } }
      error = e.cause?.name === 'TimeoutError' ? `no answer within ${ATTEMPT_TIMEOUT_MS} ms` : `could not reach the receiver: ${e.code === 'EINTERNALADDRESS' ? e.message : e.code ?? e.message}`
    }
    if (error === null) {
      await store.recordAttempt(id, { attempt: ctx.attempt, status: 'succeeded', responseStatus, error: null })
      return { response_status: responseStatus }
    }
    await store.recordAttempt(id, { attempt: ctx.attempt, status: final ? 'failed' : 'retrying', responseStatus, error })
    if (final) await deps.onFinalFailure(delivery.endpointId, id)
    throw new AppError('webhook_delivery_failed', error)
  }
}
