// POST /storage/buckets/*: list, create, delete, and the CORS, lifecycle, policy and public-access settings
// (get, set, delete each), in the athena-js 5 storage module's request shapes and the Athena envelope.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { contextOf } from '../../http/request-context.js'
import type { Bucket, BucketDocument } from '../../storage/bucket-store.js'
import { bucketRecord, normalizeCorsRules, normalizeLifecycleRules, normalizePolicy, normalizePublicAccess, type BucketService } from '../../storage/bucket-service.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { plural } from '../gateway/respond.js'
import { body, BucketName, s3IdOf, type SelectorBody } from './request.js'

type BucketBody = SelectorBody & { bucket: string }
const tags = ['storage']
const config = (operation: string) => ({ operation, access: 'client' as const })

const BucketOnly = body({ bucket: BucketName })
const CreateBody = body({
  bucket: BucketName,
  public: Type.Optional(Type.Boolean({ description: 'objects readable without a key through public URLs' })),
  versioning: Type.Optional(Type.Boolean({ description: 'keep replaced and deleted content as noncurrent versions' })),
  // no null variants: with the server's type coercion, 0 or false would silently become null ("no limit")
  file_size_limit: Type.Optional(Type.Integer({ minimum: 1, description: 'largest object in bytes; absent: the store\'s limit' })),
  allowed_mime_types: Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 100, description: 'content types accepted ("image/png", "image/*"); absent: any' })),
})
const DeleteBody = body({ bucket: BucketName, force: Type.Optional(Type.Boolean({ description: 'delete the objects and versions too' })) })
const RulesBody = body({ bucket: BucketName, rules: Type.Array(Type.Object({}, { additionalProperties: true }), { maxItems: 100 }) })
const PolicyBody = body({ bucket: BucketName, policy: Type.Union([Type.Object({}, { additionalProperties: true }), Type.String({ maxLength: 20_480 })]) })
const PublicAccessBody = body({
  bucket: BucketName,
  block_public_acls: Type.Optional(Type.Boolean()),
  ignore_public_acls: Type.Optional(Type.Boolean()),
  block_public_policy: Type.Optional(Type.Boolean()),
  restrict_public_buckets: Type.Optional(Type.Boolean()),
})

/** what each setting's get/set/delete answers */
const settingOf: Record<BucketDocument, (b: Bucket) => Record<string, unknown>> = {
  cors: (b) => ({ bucket: b.name, rules: b.cors }),
  lifecycle: (b) => ({ bucket: b.name, rules: b.lifecycle }),
  policy: (b) => ({ bucket: b.name, policy: b.policy }),
  public_access: (b) => ({
    bucket: b.name,
    configured: b.publicAccess !== null,
    ...(b.publicAccess ?? { block_public_acls: false, ignore_public_acls: false, block_public_policy: false, restrict_public_buckets: false }),
  }),
}

export function bucketRoutes(app: FastifyInstance, service: BucketService): void {
  app.post('/buckets/list', { config: config('storage.buckets.list'), schema: { summary: 'List the buckets of the client', tags, body: body({}) } }, async (req) => {
    const list = await service.list(contextOf(req), s3IdOf(req.body as SelectorBody))
    return gatewaySuccess(`Listed ${plural(list.length, 'bucket')}`, { buckets: list.map(bucketRecord) })
  })

  app.post('/buckets/create', { config: config('storage.buckets.create'), schema: { summary: 'Create a bucket', tags, body: CreateBody } }, async (req, reply) => {
    const b = req.body as BucketBody & { public?: boolean; versioning?: boolean; file_size_limit?: number; allowed_mime_types?: string[] }
    const bucket = await service.create(contextOf(req), s3IdOf(b), b.bucket, {
      public: b.public, versioning: b.versioning, fileSizeLimit: b.file_size_limit, allowedMimeTypes: b.allowed_mime_types,
    })
    reply.status(201)
    return gatewaySuccess(`Created bucket ${bucket.name}`, { bucket: bucketRecord(bucket) })
  })

  app.post('/buckets/delete', { config: config('storage.buckets.delete'), schema: { summary: 'Delete a bucket (refused while not empty unless force)', tags, body: DeleteBody } }, async (req) => {
    const b = req.body as BucketBody & { force?: boolean }
    const { objectsDeleted } = await service.delete(contextOf(req), s3IdOf(b), b.bucket, b.force === true)
    return gatewaySuccess(`Deleted bucket ${b.bucket}`, { bucket: b.bucket, deleted: true, objects_deleted: objectsDeleted })
  })

  /** get, set and delete of one setting document */
  const setting = (path: string, document: BucketDocument, what: string, setBody: ReturnType<typeof body>, valueOf: (req: FastifyRequest) => unknown) => {
    const op = document.replace('_', '-')
    app.post(`/buckets/${path}`, { config: config(`storage.buckets.${op}.get`), schema: { summary: `Read the bucket's ${what}`, tags, body: BucketOnly } }, async (req) => {
      const b = req.body as BucketBody
      const bucket = await service.get(contextOf(req), s3IdOf(b), b.bucket)
      return gatewaySuccess(`Read the ${what} of ${bucket.name}`, settingOf[document](bucket))
    })
    app.post(`/buckets/${path}/set`, { config: config(`storage.buckets.${op}.set`), schema: { summary: `Replace the bucket's ${what}`, tags, body: setBody } }, async (req) => {
      const b = req.body as BucketBody
      // checked before the bucket is looked up: a bad document is a 400 whoever owns the bucket
      const value = valueOf(req)
      const bucket = await service.setDocument(contextOf(req), s3IdOf(b), b.bucket, document, value)
      return gatewaySuccess(`Set the ${what} of ${bucket.name}`, settingOf[document](bucket))
    })
    app.post(`/buckets/${path}/delete`, { config: config(`storage.buckets.${op}.delete`), schema: { summary: `Remove the bucket's ${what}`, tags, body: BucketOnly } }, async (req) => {
      const b = req.body as BucketBody
      const bucket = await service.setDocument(contextOf(req), s3IdOf(b), b.bucket, document, null)
      return gatewaySuccess(`Removed the ${what} of ${bucket.name}`, settingOf[document](bucket))
    })
  }
  setting('cors', 'cors', 'CORS rules', RulesBody, (req) => normalizeCorsRules((req.body as { rules: unknown }).rules))
  setting('lifecycle', 'lifecycle', 'lifecycle rules', RulesBody, (req) => normalizeLifecycleRules((req.body as { rules: unknown }).rules))
  setting('policy', 'policy', 'policy', PolicyBody, (req) => normalizePolicy((req.body as { policy: unknown }).policy))
  setting('public-access', 'public_access', 'public access block', PublicAccessBody, (req) => normalizePublicAccess(req.body as Record<string, unknown>))
}
