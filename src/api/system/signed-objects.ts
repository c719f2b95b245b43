// GET/HEAD/PUT /objects/signed/<token>: the filesystem object store's signed URLs, served by Atrium itself.
// The token is the only credential (no key); it names one method on one object until it expires.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { Readable } from 'node:stream'
import type { ReadableStream } from 'node:stream/web'
import { AppError } from '../../errors/app-error.js'
import { FilesystemObjectStore, FORM_POST_MAX_BYTES } from '../../objects/filesystem-store.js'
import { DEFAULT_CONTENT_TYPE, MeasureStream, tooLarge } from '../../objects/object-store.js'
import { parseRangeHeader } from '../../http/range-header.js'
import type { Config } from '../../config/schema.js'
import type { ObjectStore } from '../../objects/object-store.js'

/** room for the form's boundaries and policy fields around the file */
const FORM_OVERHEAD_BYTES = 64 * 1024

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
    const range = parseRangeHeader(req.headers.range)
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
      // a URL signed with a size bound (the bucket's limit, or the announced size) takes no more than that
      const limit = Math.min(maxBytes, claims.maxBytes ?? maxBytes)
      if (contentLength !== undefined && contentLength > limit) throw tooLarge(limit)
      const info = await store.put(ref, body, { contentType: claims.contentType ?? sent ?? DEFAULT_CONTENT_TYPE, contentLength, maxBytes: limit })
      return reply.header('etag', info.etag).send()
    } catch (err) {
      if (!req.raw.readableEnded) reply.header('connection', 'close')
      throw err
    }
  })

  // A browser form upload (POST multipart/form-data) with the policy of store.signedPost: the fields, then the
  // file as the field "file" (the last field, as S3 wants it). The form is read whole, within the policy's size.
  app.post('/objects/signed-post', {
    config: { operation: 'objects.signed_post', access: 'public' },
    bodyLimit: FORM_POST_MAX_BYTES + FORM_OVERHEAD_BYTES,
    schema: { summary: 'Upload an object through a browser form and a signed policy', tags: ['objects'], hide: true },
  }, async (req: FastifyRequest, reply: FastifyReply) => {
    const type = req.headers['content-type'] ?? ''
    if (!type.toLowerCase().startsWith('multipart/form-data')) {
      throw new AppError('unsupported_media_type', 'a form upload is sent as multipart/form-data', { hint: 'post an HTML form with enctype="multipart/form-data": the policy fields, then the file' })
    }
    const limited = ((req.body as Readable | undefined) ?? Readable.from([])).pipe(new MeasureStream(FORM_POST_MAX_BYTES + FORM_OVERHEAD_BYTES))
    let form: FormData
    try {
      form = await new Response(Readable.toWeb(limited) as ReadableStream, { headers: { 'content-type': type } }).formData()
    } catch (err) {
      reply.header('connection', 'close')
      if (err instanceof AppError) throw err
      throw new AppError('invalid_request', 'the form could not be read as multipart/form-data')
    }
    const claims = store.verifySignedToken(String(form.get('policy') ?? ''), 'POST')
    const file = form.get('file')
    if (!(file instanceof Blob)) throw new AppError('invalid_request', 'the form has no file field', { hint: 'send the file as the field "file", after the policy fields' })
    const key = form.get('key')
    if (key !== null && key !== claims.key) throw new AppError('invalid_signed_url', `this policy uploads ${JSON.stringify(claims.key)}, not ${JSON.stringify(key)}`)
    const sentType = form.get('Content-Type') ?? form.get('content-type')
    if (claims.contentType !== undefined && sentType !== claims.contentType) {
      throw new AppError('invalid_signed_url', `this policy uploads ${claims.contentType}, not ${String(sentType ?? 'no Content-Type field')}`, { hint: `send the field Content-Type: ${claims.contentType}` })
    }
    const max = claims.maxBytes ?? FORM_POST_MAX_BYTES
    if (file.size > max) throw tooLarge(max)
    if (file.size < (claims.minBytes ?? 0)) throw new AppError('invalid_request', `the file is ${file.size} bytes; this policy takes at least ${claims.minBytes}`)
    const contentType = claims.contentType ?? (typeof sentType === 'string' ? sentType : undefined) ?? (file.type || DEFAULT_CONTENT_TYPE)
    const info = await store.put({ bucket: claims.bucket, key: claims.key }, Buffer.from(await file.arrayBuffer()), { contentType, maxBytes: max })
    const status = claims.successStatus ?? 204
    reply.status(status).header('etag', info.etag)
    return status === 204 ? reply.send() : reply.send({ bucket: claims.bucket, key: claims.key, etag: info.etag, size: info.size })
  })
}
