// The bytes of a managed file through Atrium: PUT /storage/files/{id}/upload streams a body to the store, and
// GET /storage/files/{id}/proxy streams the object (or one byte range of it) back under the caller's key.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'
import { AppError } from '../../errors/app-error.js'
import { contextOf } from '../../http/request-context.js'
import { DEFAULT_CONTENT_TYPE } from '../../objects/object-store.js'
import { parseRangeHeader } from '../../http/range-header.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import type { StorageDeps } from './deps.js'
import { routeConfig } from './request.js'

const IdParams = Type.Object({ file_id: Type.String({ minLength: 1, maxLength: 100 }) })
const ProxyQuery = Type.Object({ purpose: Type.Optional(Type.String({ maxLength: 32, description: 'download: sent as an attachment; read or stream: inline' })) })
type Id = { file_id: string }
const tags = ['storage']

/** Content-Disposition with the name as plain ASCII and, for any other character, as RFC 5987 UTF-8 */
function disposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`
}

export async function fileByteRoutes(app: FastifyInstance, services: StorageDeps): Promise<void> {
  const { files } = services.storageFiles

  app.get<{ Params: Id; Querystring: { purpose?: string } }>('/files/:file_id/proxy', {
    config: routeConfig('storage.files.proxy', 'storage.read'),
    schema: { summary: 'Download a file\'s bytes through Atrium', tags, params: IdParams, querystring: ProxyQuery },
  }, async (req, reply) => {
    let opened
    try {
      opened = await files.open(contextOf(req), req.params.file_id, { range: parseRangeHeader(req.headers.range) })
    } catch (err) {
      if (err instanceof AppError && err.code === 'invalid_range' && typeof err.extra.data?.size === 'number') reply.header('content-range', `bytes */${err.extra.data.size}`)
      throw err
    }
    const { file, object } = opened
    if (object.range) reply.status(206).header('content-range', `bytes ${object.range.start}-${object.range.end}/${object.size}`)
    reply
      .header('accept-ranges', 'bytes')
      .header('content-type', file.content_type ?? object.contentType ?? DEFAULT_CONTENT_TYPE)
      .header('content-length', String(object.contentLength))
      .header('etag', object.etag)
      .header('last-modified', object.lastModified.toUTCString())
      .header('cache-control', file.is_public ? 'public, max-age=60' : 'private, no-store')
      .header('content-disposition', disposition(req.query.purpose === 'download' ? 'attachment' : 'inline', file.name))
      .header('x-content-type-options', 'nosniff')
    return reply.send(object.body)
  })

  // its own scope: here a body is the file's bytes, whatever their type, streamed to the store unread
  const upload: FastifyPluginAsync = async (scope) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload))
    scope.put<{ Params: Id }>('/files/:file_id/upload', {
      config: routeConfig('storage.files.upload', 'storage.write'),
      bodyLimit: services.config.objects.maxUploadBytes,
      schema: { summary: 'Upload a file\'s bytes through Atrium (the body is the bytes)', tags, params: IdParams },
    }, async (req: FastifyRequest<{ Params: Id }>, reply) => {
      const announced = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length'])
      const contentLength = announced !== undefined && Number.isSafeInteger(announced) ? announced : undefined
      const contentType = req.headers['content-type']?.trim() || undefined
      try {
        const file = await files.upload(contextOf(req), req.params.file_id, (req.body as Readable | undefined) ?? Buffer.alloc(0), { contentType, contentLength })
        return gatewaySuccess('File uploaded', { file })
      } catch (err) {
        // a refused upload leaves the rest of its body unread: close the connection rather than drain it
        if (!req.raw.readableEnded) reply.header('connection', 'close')
        throw err instanceof Error ? err : new AppError('invalid_request', String(err))
      }
    })
  }
  await app.register(upload)
}
