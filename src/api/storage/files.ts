// /storage/files*: managed file records (create with an upload URL, confirm, list, read, sign, change, delete,
// restore, purge, copy), in the bodies athena-js 5 sends and the Athena envelope it reads. Thin: one service call each.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { contextOf } from '../../http/request-context.js'
import type { FileUpdate } from '../../storage/file-changes.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { plural } from '../gateway/respond.js'
import type { StorageDeps } from './deps.js'
import { routeConfig, s3IdOf, Selector } from './request.js'

export const Text = (max = 1024) => Type.String({ maxLength: max })
const Visibility = Type.Union([Type.Literal('private'), Type.Literal('organization'), Type.Literal('public')])
const Metadata = Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), { maxProperties: 100 })
const Size = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
const ExpiresIn = Type.Integer({ minimum: 1, description: 'seconds the URL lives (at most a week); default 3600' })
const FileIds = Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 1000 })

// The SDK also sends server-side encryption options (sse, kms_key_id, …); the object store encrypts as it is
// configured, so they are accepted and not used: objects are not refused for carrying them.
const UploadUrlBody = Type.Object({
  ...Selector,
  bucket: Type.Optional(Text(63)),
  storage_key: Type.Optional(Text()),
  file_id: Type.Optional(Text(100)),
  name: Type.Optional(Text()),
  original_name: Type.Optional(Text()),
  mime_type: Type.Optional(Text(255)),
  content_type: Type.Optional(Text(255)),
  size_bytes: Type.Optional(Size),
  checksum_sha256: Type.Optional(Text(64)),
  resource_id: Type.Optional(Text(255)),
  metadata: Type.Optional(Metadata),
  public: Type.Optional(Type.Boolean()),
  visibility: Type.Optional(Visibility),
  expires_in: Type.Optional(ExpiresIn),
})
const UpdateFields = {
  bucket: Type.Optional(Text(63)),
  storage_key: Type.Optional(Text()),
  file_name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  name: Type.Optional(Text()),
  original_name: Type.Optional(Text()),
  mime_type: Type.Optional(Text(255)),
  content_type: Type.Optional(Text(255)),
  checksum_sha256: Type.Optional(Text(64)),
  resource_id: Type.Optional(Text(255)),
  metadata: Type.Optional(Metadata),
  visibility: Type.Optional(Visibility),
  public: Type.Optional(Type.Boolean()),
  status: Type.Optional(Text(32)),
  size_bytes: Type.Optional(Size),
}
/** what /storage/files/list filters on; /storage/files/search takes the same and a free-text query */
export const FileListFields = {
  ...Selector,
  bucket: Type.Optional(Text(63)),
  prefix: Type.Optional(Text()),
  key_prefix: Type.Optional(Text()),
  name: Type.Optional(Text()),
  mime_type: Type.Optional(Text(255)),
  content_type: Type.Optional(Text(255)),
  resource_id: Type.Optional(Text(255)),
  status: Type.Optional(Text(32)),
  visibility: Type.Optional(Text(32)),
  metadata: Type.Optional(Metadata),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'default 100' })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
}
const ListBody = Type.Object(FileListFields)
const ConfirmBody = Type.Object({
  checksum_sha256: Type.Optional(Text(64)),
  content_type: Type.Optional(Text(255)),
  metadata: Type.Optional(Metadata),
  size_bytes: Type.Optional(Size),
})
const VisibilityBody = Type.Object({ visibility: Type.Optional(Visibility), public: Type.Optional(Type.Boolean()) })
const CopyBody = Type.Object({
  storage_key: Text(),
  bucket: Type.Optional(Text(63)),
  file_name: Type.Optional(Text()),
  metadata: Type.Optional(Metadata),
  visibility: Type.Optional(Visibility),
})
const ForceQuery = Type.Object({ force: Type.Optional(Type.Boolean({ description: 'delete: purge (record and bytes, for good); restore: even when the bytes are gone' })) })
const UrlQuery = Type.Object({ purpose: Type.Optional(Text(32)), expires_in: Type.Optional(ExpiresIn) })
export const IdParams = Type.Object({ file_id: Type.String({ minLength: 1, maxLength: 100 }) })

type Id = { file_id: string }
type UploadUrlBody = Static<typeof UploadUrlBody>
/** the connection of an upload URL request: a request for an existing file (file_id) takes the file's own */
const withS3Id = (b: UploadUrlBody) => ({ ...b, s3_id: b.file_id !== undefined && b.s3_id === undefined && b.s3Id === undefined ? 'default' : s3IdOf(b) })
const tags = ['storage']
/** the SDK sends some calls (restore, confirm-upload) without a body: validated as an empty object then */
const emptyBodyIsObject = async (req: { body: unknown }) => { if (req.body === undefined || req.body === null) req.body = {} }

export function fileRoutes(app: FastifyInstance, services: StorageDeps): void {
  const { files, changes } = services.storageFiles

  app.post<{ Body: Static<typeof UploadUrlBody> }>('/files/upload-url', {
    config: routeConfig('storage.files.upload_url', 'storage.write'),
    schema: { summary: 'Create a file record and a signed URL to PUT its bytes to', tags, body: UploadUrlBody },
  }, async (req) => gatewaySuccess('Upload URL created', await files.createUploadUrl(contextOf(req), withS3Id(req.body))))

  app.post<{ Body: { files: Static<typeof UploadUrlBody>[] } }>('/files/upload-urls', {
    config: routeConfig('storage.files.upload_urls', 'storage.write'),
    schema: { summary: 'Create several file records and their upload URLs, all or none', tags, body: Type.Object({ files: Type.Array(UploadUrlBody, { minItems: 1, maxItems: 100 }) }) },
  }, async (req) => {
    const made = await files.createUploadUrls(contextOf(req), req.body.files.map(withS3Id))
    return gatewaySuccess(`Created ${plural(made.length, 'upload URL')}`, { files: made })
  })

  app.post<{ Params: Id; Body: Static<typeof ConfirmBody> }>('/files/:file_id/confirm-upload', {
    config: routeConfig('storage.files.confirm_upload', 'storage.write'),
    preValidation: emptyBodyIsObject,
    schema: { summary: 'Confirm that a file\'s bytes are in the store (size, checksum, bucket limits)', tags, params: IdParams, body: ConfirmBody },
  }, async (req) => gatewaySuccess('Upload confirmed', { file: await files.confirmUpload(contextOf(req), req.params.file_id, req.body) }))

  app.post<{ Body: Static<typeof ListBody> }>('/files/list', {
    config: routeConfig('storage.files.list', 'storage.read'),
    schema: { summary: 'List the client\'s files on a storage connection, filtered and paged', tags, body: ListBody },
  }, async (req) => {
    const page = await files.list(contextOf(req), { ...req.body, s3_id: s3IdOf(req.body) })
    return gatewaySuccess(`Listed ${plural(page.count, 'file')}`, page)
  })

  app.get<{ Params: Id }>('/files/:file_id', {
    config: routeConfig('storage.files.get', 'storage.read'),
    schema: { summary: 'Read one file record', tags, params: IdParams },
  }, async (req) => gatewaySuccess('File found', { file: await files.get(contextOf(req), req.params.file_id) }))

  app.get<{ Params: Id; Querystring: Static<typeof UrlQuery> }>('/files/:file_id/url', {
    config: routeConfig('storage.files.url', 'storage.read'),
    schema: { summary: 'A signed, expiring URL to download a file\'s bytes', tags, params: IdParams, querystring: UrlQuery },
  }, async (req) => gatewaySuccess('URL signed', await files.url(contextOf(req), req.params.file_id, req.query)))

  app.patch<{ Params: Id; Body: FileUpdate }>('/files/:file_id', {
    config: routeConfig('storage.files.update', 'storage.write'),
    schema: { summary: 'Change a file record (a new storage_key or bucket moves its bytes)', tags, params: IdParams, body: Type.Object(UpdateFields) },
  }, async (req) => gatewaySuccess('File updated', { file: await changes.update(contextOf(req), req.params.file_id, req.body) }))

  app.post<{ Body: FileUpdate & { file_ids: string[] } }>('/files/update-many', {
    config: routeConfig('storage.files.update_many', 'storage.write'),
    schema: { summary: 'The same change to several files', tags, body: Type.Object({ ...UpdateFields, file_ids: FileIds }) },
  }, async (req) => {
    const { file_ids: ids, ...update } = req.body
    const updated = await changes.updateMany(contextOf(req), ids, update)
    return gatewaySuccess(`Updated ${plural(updated.length, 'file')}`, { count: updated.length, files: updated })
  })

  app.delete<{ Params: Id; Querystring: Static<typeof ForceQuery> }>('/files/:file_id', {
    config: routeConfig('storage.files.delete', 'storage.write'),
    schema: { summary: 'Delete a file (restorable); ?force=true purges it', tags, params: IdParams, querystring: ForceQuery },
  }, async (req) => gatewaySuccess('File deleted', { file: await changes.delete(contextOf(req), req.params.file_id, req.query) }))

  app.post<{ Body: { file_ids: string[]; force?: boolean } }>('/files/delete-many', {
    config: routeConfig('storage.files.delete_many', 'storage.write'),
    schema: { summary: 'Delete several files (ids that are not the client\'s are left out)', tags, body: Type.Object({ file_ids: FileIds, force: Type.Optional(Type.Boolean()) }) },
  }, async (req) => {
    const deleted = await changes.deleteMany(contextOf(req), req.body.file_ids, { force: req.body.force })
    return gatewaySuccess(`Deleted ${plural(deleted.length, 'file')}`, { count: deleted.length, files: deleted })
  })

  app.post<{ Params: Id; Querystring: Static<typeof ForceQuery>; Body: Static<typeof ForceQuery> }>('/files/:file_id/restore', {
    config: routeConfig('storage.files.restore', 'storage.write'),
    preValidation: emptyBodyIsObject,
    schema: { summary: 'Undo a file\'s soft delete', tags, params: IdParams, querystring: ForceQuery, body: ForceQuery },
  }, async (req) => gatewaySuccess('File restored', { file: await changes.restore(contextOf(req), req.params.file_id, { force: req.body.force ?? req.query.force }) }))

  app.delete<{ Params: Id }>('/files/:file_id/purge', {
    config: routeConfig('storage.files.purge', 'storage.write'),
    schema: { summary: 'Remove a file and its bytes for good', tags, params: IdParams },
  }, async (req) => gatewaySuccess('File purged', { file: await changes.purge(contextOf(req), req.params.file_id) }))

  app.post<{ Params: Id; Body: Static<typeof CopyBody> }>('/files/:file_id/copy', {
    config: routeConfig('storage.files.copy', 'storage.read', 'storage.write'),
    schema: { summary: 'Copy a file (record and bytes) to another key', tags, params: IdParams, body: CopyBody },
  }, async (req) => gatewaySuccess('File copied', { file: await changes.copy(contextOf(req), req.params.file_id, req.body) }))

  for (const method of ['PATCH', 'POST'] as const) {
    app.route<{ Params: Id; Body: Static<typeof VisibilityBody> }>({
      method, url: '/files/:file_id/visibility',
      config: routeConfig('storage.files.visibility', 'storage.write'),
      schema: { summary: 'Make a file private, organization-wide or public', tags, params: IdParams, body: VisibilityBody },
      handler: async (req) => gatewaySuccess('Visibility set', { file: await changes.setVisibility(contextOf(req), req.params.file_id, req.body) }),
    })
  }

  app.post<{ Body: Static<typeof VisibilityBody> & { file_ids: string[] } }>('/files/visibility-many', {
    config: routeConfig('storage.files.visibility_many', 'storage.write'),
    schema: { summary: 'Set the visibility of several files', tags, body: Type.Object({ file_ids: FileIds, visibility: Type.Optional(Visibility), public: Type.Optional(Type.Boolean()) }) },
  }, async (req) => {
    const updated = await changes.setVisibilityMany(contextOf(req), req.body.file_ids, req.body)
    return gatewaySuccess(`Updated ${plural(updated.length, 'file')}`, { count: updated.length, files: updated })
  })
}
