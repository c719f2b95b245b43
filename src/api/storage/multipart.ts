// /storage/multipart/*: multipart uploads of a file record (create, sign a part, list parts, complete, abort),
// in the bodies athena-js 5 sends; parts are PUT straight to the signed part URLs. Thin: one service call each.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { contextOf } from '../../http/request-context.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { plural } from '../gateway/respond.js'
import type { StorageDeps } from './deps.js'
import { routeConfig } from './request.js'

const FileId = Type.String({ minLength: 1, maxLength: 100 })
const UploadId = Type.String({ minLength: 1, maxLength: 1024 })
const PartNumber = Type.Integer({ minimum: 1, maximum: 10_000 })
const UploadRef = { file_id: FileId, upload_id: UploadId }

// the SDK also sends server-side encryption options; the object store encrypts as it is configured
const CreateBody = Type.Object({ file_id: FileId, content_type: Type.Optional(Type.String({ maxLength: 255 })) })
const SignBody = Type.Object({ ...UploadRef, part_number: PartNumber, expires_in: Type.Optional(Type.Integer({ minimum: 1, description: 'seconds; default 3600' })) })
const CompleteBody = Type.Object({
  ...UploadRef,
  parts: Type.Array(Type.Object({ part_number: PartNumber, etag: Type.String({ minLength: 1, maxLength: 200 }) }), { minItems: 1, maxItems: 10_000 }),
})
const RefBody = Type.Object(UploadRef)
const tags = ['storage']

export function multipartRoutes(app: FastifyInstance, services: StorageDeps): void {
  const { multipart } = services.storageFiles

  app.post<{ Body: Static<typeof CreateBody> }>('/multipart/create', {
    config: routeConfig('storage.multipart.create', 'storage.write'),
    schema: { summary: 'Start a multipart upload of a file record\'s bytes', tags, body: CreateBody },
  }, async (req) => gatewaySuccess('Multipart upload started', await multipart.create(contextOf(req), req.body)))

  app.post<{ Body: Static<typeof SignBody> }>('/multipart/sign-part', {
    config: routeConfig('storage.multipart.sign_part', 'storage.write'),
    schema: { summary: 'A signed URL to PUT one part to (its response\'s ETag completes the upload)', tags, body: SignBody },
  }, async (req) => gatewaySuccess('Part URL signed', await multipart.signPart(contextOf(req), req.body)))

  app.post<{ Body: Static<typeof RefBody> }>('/multipart/list-parts', {
    config: routeConfig('storage.multipart.list_parts', 'storage.read'),
    schema: { summary: 'The parts uploaded so far', tags, body: RefBody },
  }, async (req) => {
    const listed = await multipart.listParts(contextOf(req), req.body)
    return gatewaySuccess(`Listed ${plural(listed.parts.length, 'part')}`, listed)
  })

  app.post<{ Body: Static<typeof CompleteBody> }>('/multipart/complete', {
    config: routeConfig('storage.multipart.complete', 'storage.write'),
    schema: { summary: 'Join the parts into the file\'s object; the file becomes uploaded', tags, body: CompleteBody },
  }, async (req) => gatewaySuccess('Multipart upload completed', { file: await multipart.complete(contextOf(req), req.body) }))

  app.post<{ Body: Static<typeof RefBody> }>('/multipart/abort', {
    config: routeConfig('storage.multipart.abort', 'storage.write'),
    schema: { summary: 'Abort a multipart upload; its parts are discarded', tags, body: RefBody },
  }, async (req) => gatewaySuccess('Multipart upload aborted', await multipart.abort(contextOf(req), req.body)))
}
