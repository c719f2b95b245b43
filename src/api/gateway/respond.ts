// Sends gateway envelopes whose `data` is JSON text produced by the database, without re-serialising rows.
import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import type { StreamedRead } from '../../query/run/runner.js'
import type { CallReply } from './calls.js'

const JSON_TYPE = 'application/json; charset=utf-8'

function extraText(extra: Record<string, unknown>): string {
  let out = ''
  for (const k in extra) if (extra[k] !== undefined) out += `,${JSON.stringify(k)}:${JSON.stringify(extra[k])}`
  return out
}

/** `{"status":"success","message":…,"data":<dataJson>,…extra}` as text */
export function envelopeText(message: string, dataJson: string, extra: Record<string, unknown> = {}): string {
  return `{"status":"success","message":${JSON.stringify(message)},"data":${dataJson}${extraText(extra)}}`
}

export function sendEnvelope(reply: FastifyReply, message: string, dataJson: string, extra: Record<string, unknown> = {}, status = 200) {
  return reply.status(status).type(JSON_TYPE).send(envelopeText(message, dataJson, extra))
}

/** the answer of a structured call (api/gateway/calls.ts): one page, or rows streamed from a cursor */
export function sendCallReply(reply: FastifyReply, out: CallReply) {
  if (out.kind === 'stream') return sendStreamedEnvelope(reply, out.message, out.stream, out.extra)
  return sendEnvelope(reply, out.message, out.dataJson, out.extra)
}

/** the same envelope with `data` streamed row by row from a cursor, so memory stays bounded */
export function sendStreamedEnvelope(reply: FastifyReply, message: string, stream: StreamedRead, extra: Record<string, unknown> = {}) {
  return reply.type(JSON_TYPE).send(streamJson(`{"status":"success","message":${JSON.stringify(message)},"data":`, stream, `${extraText(extra)}}`))
}

/** `prefix [row,row,…] suffix` as a readable stream; the cursor closes if the client goes away */
export function streamJson(prefix: string, stream: StreamedRead, suffix: string): Readable {
  async function* body() {
    let first = true
    try {
      yield `${prefix}[`
      for await (const chunk of stream.chunks) {
        if (!chunk.length) continue
        yield (first ? '' : ',') + chunk.join(',')
        first = false
      }
      yield `]${suffix}`
    } finally {
      await stream.close()
    }
  }
  return Readable.from(body(), { objectMode: false })
}

export const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`
