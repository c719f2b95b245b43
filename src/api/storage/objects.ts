// POST /storage/objects*: list, head, exists, validate, update, copy, delete, signed URLs, public URLs, versions
// and folders, in the athena-js 5 storage module's request shapes and the Athena envelope.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { contextOf } from '../../http/request-context.js'
import { objectRecord, type HeaderField } from '../../storage/object-service.js'
import type { Storage } from '../../storage/storage.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { plural } from '../gateway/respond.js'
import { body, BucketName, Key, s3IdOf, type SelectorBody } from './request.js'

type Body = SelectorBody & { bucket: string; key: string } & Record<string, unknown>
const tags = ['storage']
const config = (operation: string) => ({ operation, access: 'client' as const })
const ExpiresIn = Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600, description: 'seconds the URL stays valid (default 3600, at most a week)' }))
const Metadata = Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 2048 }))

const ObjectBody = body({ bucket: BucketName, key: Key })
const ListBody = body({
  bucket: BucketName,
  prefix: Type.Optional(Type.String({ maxLength: 1024 })),
  delimiter: Type.Optional(Type.String({ maxLength: 1 })),
  continuation_token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  max_keys: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
})
const ValidateBody = body({ bucket: BucketName, key: Key, etag: Type.Optional(Type.String({ maxLength: 200 })), checksum_sha256: Type.Optional(Type.String({ maxLength: 200 })) })
const UpdateBody = body({
  bucket: BucketName,
  key: Key,
  content_type: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  metadata: Type.Optional(Metadata),
  cache_control: Type.Optional(Type.String({ maxLength: 1024 })),
  content_disposition: Type.Optional(Type.String({ maxLength: 1024 })),
  content_encoding: Type.Optional(Type.String({ maxLength: 1024 })),
  content_language: Type.Optional(Type.String({ maxLength: 1024 })),
})
const CopyBody = body({ bucket: BucketName, source_key: Key, destination_key: Key, destination_bucket: Type.Optional(BucketName) })
const DeleteBody = body({ bucket: BucketName, key: Type.Optional(Key), keys: Type.Optional(Type.Array(Key, { minItems: 1, maxItems: 1000 })) })
const UrlBody = body({ bucket: BucketName, key: Key, expires_in: ExpiresIn })
const UploadUrlBody = body({
  bucket: BucketName,
  key: Key,
  content_type: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  size_bytes: Type.Optional(Type.Integer({ minimum: 0 })),
  expires_in: ExpiresIn,
})
const PostPolicyBody = body({
  bucket: BucketName,
  key: Key,
  content_type: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  min_size: Type.Optional(Type.Integer({ minimum: 0 })),
  max_size: Type.Optional(Type.Integer({ minimum: 1 })),
  expires_in: ExpiresIn,
  success_action_status: Type.Optional(Type.String({ maxLength: 3 })),
})
const VersionsBody = body({
  bucket: BucketName,
  key: Type.Optional(Key),
  prefix: Type.Optional(Type.String({ maxLength: 1024 })),
  max_keys: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  version_id_marker: Type.Optional(Type.String({ maxLength: 100, description: 'next_version_id_marker of the previous page' })),
})
const VersionBody = body({ bucket: BucketName, key: Key, version_id: Type.String({ minLength: 1, maxLength: 100 }), force: Type.Optional(Type.Boolean()) })
const FolderBody = body({ bucket: BucketName, prefix: Type.String({ minLength: 1, maxLength: 1024 }) })
const RenameBody = body({ bucket: BucketName, from_prefix: Type.String({ minLength: 1, maxLength: 1024 }), to_prefix: Type.String({ minLength: 1, maxLength: 1024 }) })

export function objectRoutes(app: FastifyInstance, storage: Storage): void {
  const objects = storage.objectService
  const folders = storage.folderService
  const target = (b: Body) => ({ s3Id: s3IdOf(b), bucket: b.bucket })
  const post = (path: string, operation: string, summary: string, schema: ReturnType<typeof body>, handler: (b: Body, req: Parameters<typeof contextOf>[0]) => Promise<unknown>) =>
    app.post(path, { config: config(operation), schema: { summary, tags, body: schema } }, (req) => handler(req.body as Body, req))

  post('/objects', 'storage.objects.list', 'List objects under a prefix (with a delimiter, folders as common prefixes)', ListBody, async (b, req) => {
    const page = await objects.list(contextOf(req), target(b), {
      prefix: b.prefix as string | undefined, delimiter: b.delimiter as string | undefined,
      continuationToken: b.continuation_token as string | undefined, maxKeys: b.max_keys as number | undefined,
    })
    return gatewaySuccess(`Listed ${plural(page.objects.length, 'object')}`, page)
  })

  post('/objects/head', 'storage.objects.head', 'Describe an object', ObjectBody, async (b, req) =>
    gatewaySuccess(`Found ${b.key}`, objectRecord(await objects.head(contextOf(req), target(b), b.key))))

  post('/objects/exists', 'storage.objects.exists', 'Whether an object exists', ObjectBody, async (b, req) => {
    const info = await objects.exists(contextOf(req), target(b), b.key)
    return gatewaySuccess(info ? `${b.key} exists` : `${b.key} does not exist`, { key: b.key, exists: info !== undefined, ...(info ? { size: info.size, etag: info.etag } : {}) })
  })

  post('/objects/validate', 'storage.objects.validate', "Check an object against the bucket's limits and an expected ETag or SHA-256", ValidateBody, async (b, req) => {
    const out = await objects.validate(contextOf(req), target(b), b.key, { etag: b.etag as string | undefined, checksumSha256: b.checksum_sha256 as string | undefined })
    return gatewaySuccess(out.valid ? `${b.key} is valid` : `${b.key} is not valid`, out)
  })

  post('/objects/update', 'storage.objects.update', "Replace an object's content type and metadata", UpdateBody, async (b, req) => {
    const headers: Partial<Record<HeaderField, string>> = {}
    for (const field of ['cache_control', 'content_disposition', 'content_encoding', 'content_language'] as const) if (typeof b[field] === 'string') headers[field] = b[field] as string
    const info = await objects.update(contextOf(req), target(b), b.key, { contentType: b.content_type as string | undefined, metadata: b.metadata as Record<string, string> | undefined, headers })
    return gatewaySuccess(`Updated ${b.key}`, objectRecord(info))
  })

  post('/objects/copy', 'storage.objects.copy', 'Copy an object within the client\'s buckets', CopyBody, async (b, req) => {
    const info = await objects.copy(contextOf(req), target(b), b.source_key, b.destination_key, b.destination_bucket)
    return gatewaySuccess(`Copied ${b.source_key as string} to ${info.key}`, { bucket: info.bucket, ...objectRecord(info), source_key: b.source_key })
  })

  post('/objects/delete', 'storage.objects.delete', 'Delete one object (key) or many (keys)', DeleteBody, async (b, req) => {
    const keys = [...(b.key !== undefined ? [b.key] : []), ...((b.keys as string[] | undefined) ?? [])]
    const out = await objects.delete(contextOf(req), target(b), keys)
    return gatewaySuccess(`Deleted ${plural(out.deleted.length, 'object')}`, out)
  })

  post('/objects/url', 'storage.objects.url', 'A signed, expiring download URL', UrlBody, async (b, req) =>
    gatewaySuccess(`Signed a download URL for ${b.key}`, await objects.downloadUrl(contextOf(req), target(b), b.key, b.expires_in as number | undefined)))

  post('/objects/upload-url', 'storage.objects.upload_url', 'A signed, expiring upload (PUT) URL', UploadUrlBody, async (b, req) =>
    gatewaySuccess(`Signed an upload URL for ${b.key}`, await objects.uploadUrl(contextOf(req), target(b), b.key, {
      contentType: b.content_type as string | undefined, size: b.size_bytes as number | undefined, expiresIn: b.expires_in as number | undefined,
    })))

  post('/objects/post-policy', 'storage.objects.post_policy', 'A signed policy for a browser form upload (POST multipart/form-data)', PostPolicyBody, async (b, req) =>
    gatewaySuccess(`Signed a form upload policy for ${b.key}`, await objects.postPolicy(contextOf(req), target(b), b.key, {
      contentType: b.content_type as string | undefined, minSize: b.min_size as number | undefined, maxSize: b.max_size as number | undefined,
      expiresIn: b.expires_in as number | undefined, successActionStatus: b.success_action_status as string | undefined,
    })))

  post('/objects/public-url', 'storage.objects.public_url', 'The public URL of an object of a public bucket', ObjectBody, async (b, req) =>
    gatewaySuccess(`Public URL of ${b.key}`, await objects.publicUrl(contextOf(req), target(b), b.key)))

  post('/objects/versions', 'storage.objects.versions.list', 'List the versions of a key (or of every key)', VersionsBody, async (b, req) => {
    const out = await objects.versions(contextOf(req), target(b), {
      key: b.key, prefix: b.prefix as string | undefined, maxKeys: b.max_keys as number | undefined, versionIdMarker: b.version_id_marker as string | undefined,
    })
    return gatewaySuccess(`Listed ${plural(out.versions.length, 'version')}`, out)
  })

  post('/objects/versions/restore', 'storage.objects.versions.restore', 'Make a noncurrent version current again', VersionBody, async (b, req) => {
    const info = await objects.restoreVersion(contextOf(req), target(b), b.key, b.version_id, b.force === true)
    return gatewaySuccess(`Restored version ${b.version_id as string} of ${b.key}`, { ...objectRecord(info), restored_version_id: b.version_id })
  })

  post('/objects/versions/delete', 'storage.objects.versions.delete', 'Delete a noncurrent version', VersionBody, async (b, req) => {
    const version = await objects.deleteVersion(contextOf(req), target(b), b.key, b.version_id)
    return gatewaySuccess(`Deleted version ${version.version_id} of ${b.key}`, { ...version, deleted: true })
  })

  post('/objects/folder', 'storage.objects.folder.create', 'Create an (empty) folder', FolderBody, async (b, req) => {
    const out = await folders.create(contextOf(req), target(b), b.prefix)
    return gatewaySuccess(`Created folder ${out.prefix}`, out)
  })

  post('/objects/folder/delete', 'storage.objects.folder.delete', 'Delete a folder and every object under it', FolderBody, async (b, req) => {
    const out = await folders.delete(contextOf(req), target(b), b.prefix)
    return gatewaySuccess(`Deleted folder ${out.prefix} (${plural(out.processed_objects, 'object')})`, out)
  })

  post('/objects/folder/rename', 'storage.objects.folder.rename', 'Move every object of a folder under another prefix', RenameBody, async (b, req) => {
    const out = await folders.rename(contextOf(req), target(b), b.from_prefix, b.to_prefix)
    return gatewaySuccess(`Moved ${plural(out.processed_objects, 'object')} to ${out.to_prefix}`, out)
  })
}
