// GET/HEAD/PUT /objects/signed/<token>: the filesystem object store's signed URLs, served by Atrium itself.
// The token is the only credential (no key); it names one method on one object until it expires.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'
import { AppError } from '../../errors/app-error.js'
import { FilesystemObjectStore } from '../../objects/filesystem-store.js'
import { DEFAULT_CONTENT_TYPE, tooLarge, type ByteRange } from '../../objects/object-store.js'
import type { Config } from '../../config/schema.js'
import type { ObjectStore } from '../../objects/object-store.js'

/** one range of Range: bytes=…; anything else (several ranges, other units) is ignored and the whole object sent, as RFC 9110 allows */
function parseRange(header: string | undefined): ByteRange | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '')
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  if (m[1] === '') return { suffix: Number(m[2]) }
  return { start: Number(m[1]), end: m[2] === '' ? undefined : Number(m[2]) }
}

const tokenOf = (req: FastifyRequest) => (req.params as Record<string, string>)['*'] ?? ''

export interface SignedObjectDeps {
  config: Config
  objects: ObjectStore
}

export const signedObjectRoutes: FastifyPluginAsync<{ services: SignedObjectDeps }> = async (app, { services }) => {
  const store = services.objects
  // the S3 backend hands out S3's own presigned URLs; nothing to serve here then
  if (!(store instanceof FilesystemObjectStore)) return
  const maxBytes = services.config.objects.maxUploadBytes

  // in this scope only: a PUT body is the object's bytes, whatever its type, streamed to the store unread
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload))

  app.get('/objects/signed/*', {
    config: { operation: 'objects.signed_get', access: 'public' },
    schema: { summary: 'Download an object through a signed URL', tags: ['objects'], hide: true },
  }, async (req, reply) => {
    const claims = store.verifySignedToken(tokenOf(req), req.method === 'HEAD' ? 'HEAD' : 'GET')
    const ref = { bucket: claims.bucket, key: claims.key }
    const range = parseRange(req.headers.range)
    const ifNoneMatch = req.headers['if-none-match']
    if (req.method === 'HEAD' || ifNoneMatch) {
      const info = await store.head(ref)
      if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim() === info.etag || t.trim() === '*')) {
        return reply.status(304).header('etag', info.etag).send()
      }
    }
    let result
    try {
      result = await store.get(ref, { range })
    } catch (err) {
      if (err instanceof AppError && err.code === 'invalid_range' && typeof err.extra.data?.size === 'number') reply.header('content-range', `bytes */${err.extra.data.size}`)
      throw err
    }
    reply
      .header('content-type', result.contentType || DEFAULT_CONTENT_TYPE)
      .header('content-length', String(result.contentLength))
      .header('etag', result.etag)
      .header('last-modified', result.lastModified.toUTCString())
      .header('accept-ranges', 'bytes')
      .header('cache-control', 'private, no-store')
    for (const [name, value] of Object.entries(result.metadata)) reply.header(`x-atrium-meta-${name}`, value)
    if (result.range) reply.status(206).header('content-range', `bytes ${result.range.start}-${result.range.end}/${result.size}`)
    if (req.method === 'HEAD') {
      result.body.destroy()
      return reply.send()
    }
    return reply.send(result.body)
  })

  app.put('/objects/signed/*', {
    config: { operation: 'objects.signed_put', access: 'public' },
    bodyLimit: maxBytes,
    schema: { summary: 'Upload an object (or one part of a multipart upload) through a signed URL', tags: ['objects'], hide: true },
  }, async (req: FastifyRequest, reply: FastifyReply) => {
    const claims = store.verifySignedToken(tokenOf(req), 'PUT')
    const ref = { bucket: claims.bucket, key: claims.key }
    const announced = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length'])
    // refused before a byte is read when the client says how much it will send
    if (announced !== undefined && announced > maxBytes) {
      reply.header('connection', 'close')
      throw tooLarge(maxBytes)
    }
    const body = (req.body as Readable | undefined) ?? Buffer.alloc(0)
    const contentLength = announced !== undefined && Number.isSafeInteger(announced) ? announced : undefined
    // an upload refused mid-way leaves the rest of its body unread: close the connection rather than drain it
    try {
      if (claims.uploadId !== undefined && claims.partNumber !== undefined) {
        const part = await store.uploadPart(ref, claims.uploadId, claims.partNumber, body, { contentLength, maxBytes })
        return reply.header('etag', part.etag).send()
      }
      const sent = req.headers['content-type']
      if (claims.contentType !== undefined && sent !== undefined && sent !== claims.contentType) {
        throw new AppError('invalid_signed_url', `this signed URL uploads ${claims.contentType}, not ${sent}`, { hint: `send Content-Type: ${claims.contentType}, or none` })
      }
      const info = await store.put(ref, body, { contentType: claims.contentType ?? sent ?? DEFAULT_CONTENT_TYPE, contentLength, maxBytes })
      return reply.header('etag', info.etag).send()
    } catch (err) {
      if (!req.raw.readableEnded) reply.header('connection', 'close')
      throw err
    }
  })
}
