// POST /api/files/upload?bucket= and POST /api/files/profile: one multipart file each, size-limited while it
// streams in.
import multipart from '@fastify/multipart'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AssistantDeps } from '../../assistant/chat.js'
import { profileUpload, uploadFile, type IncomingFile } from '../../assistant/files.js'
import { AppError } from '../../errors/app-error.js'
import { userOf } from './access.js'

/** the one file of a multipart request, or a 400 that says what to send */
async function fileOf(req: FastifyRequest): Promise<IncomingFile> {
  if (!req.isMultipart()) throw new AppError('unsupported_media_type', 'send the file as multipart/form-data, in a field named "file"')
  const part = await req.file()
  if (!part || part.fieldname !== 'file') throw new AppError('invalid_request', 'the multipart body must carry the file in a field named "file"')
  return { filename: part.filename, mimetype: part.mimetype, stream: part.file }
}

export async function fileRoutes(app: FastifyInstance, deps: AssistantDeps): Promise<void> {
  // one file and a few small fields; the file's own limit is checked as it streams (a byte over answers 413)
  await app.register(multipart, { limits: { files: 1, fields: 4, fieldSize: 1024, parts: 5, fileSize: deps.config.assistant.maxUploadBytes + 1 } })

  app.post('/files/upload', {
    config: { operation: 'assistant.files.upload' },
    schema: {
      summary: 'Upload a CSV, JSON or Parquet file into the object store',
      tags: ['assistant'],
      querystring: Type.Object({ bucket: Type.String({ minLength: 1, maxLength: 63 }) }),
    },
  }, async (req, reply) => {
    const file = await fileOf(req)
    reply.status(201)
    return uploadFile(deps, userOf(req).sub, (req.query as { bucket: string }).bucket, file)
  })

  app.post('/files/profile', {
    config: { operation: 'assistant.files.profile' },
    schema: { summary: 'Profile a CSV, JSON or Parquet file: row count and per-column statistics', tags: ['assistant'] },
  }, async (req) => profileUpload(deps, await fileOf(req)))
}
