// /storage/files/{id}/public-url, /proxy-url and /versions*, and /storage/files/search: links to a file, the
// versions its bucket keeps, and search over the client's files. Thin: one service call each.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { contextOf } from '../../http/request-context.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { plural } from '../gateway/respond.js'
import type { StorageDeps } from './deps.js'
import { FileListFields, IdParams, Text } from './files.js'
import { routeConfig } from './request.js'

const VersionParams = Type.Object({ file_id: Type.String({ minLength: 1, maxLength: 100 }), version_id: Type.String({ minLength: 1, maxLength: 100 }) })
const ForceQuery = Type.Object({ force: Type.Optional(Type.Boolean({ description: 'replace the current bytes even when the bucket does not keep them as a version' })) })
const SearchBody = Type.Object({ ...FileListFields, query: Type.Optional(Text()) })
type Id = { file_id: string }
type VersionId = Id & { version_id: string }
const tags = ['storage']

export function fileLinkRoutes(app: FastifyInstance, services: StorageDeps): void {
  const { files, links } = services.storageFiles

  app.get<{ Params: Id }>('/files/:file_id/public-url', {
    config: routeConfig('storage.files.public_url', 'storage.read'),
    schema: { summary: 'The public URL of a file in a public bucket', tags, params: IdParams },
  }, async (req) => gatewaySuccess('Public URL', await links.publicUrl(contextOf(req), req.params.file_id)))

  app.get<{ Params: Id; Querystring: { purpose?: string } }>('/files/:file_id/proxy-url', {
    config: routeConfig('storage.files.proxy_url', 'storage.read'),
    schema: { summary: 'The URL that streams a file through Atrium (the caller\'s key required)', tags, params: IdParams, querystring: Type.Object({ purpose: Type.Optional(Text(32)) }) },
  }, async (req) => gatewaySuccess('Proxy URL', await links.proxyUrl(contextOf(req), req.params.file_id, req.query.purpose)))

  app.get<{ Params: Id }>('/files/:file_id/versions', {
    config: routeConfig('storage.files.versions.list', 'storage.read'),
    schema: { summary: 'The noncurrent versions of a file (versioned buckets)', tags, params: IdParams },
  }, async (req) => {
    const listed = await links.versions(contextOf(req), req.params.file_id)
    return gatewaySuccess(`Listed ${plural(listed.versions.length, 'version')}`, listed)
  })

  app.post<{ Params: VersionId; Querystring: Static<typeof ForceQuery>; Body: Static<typeof ForceQuery> }>('/files/:file_id/versions/:version_id/restore', {
    config: routeConfig('storage.files.versions.restore', 'storage.write'),
    preValidation: async (req) => { if (req.body === undefined || req.body === null) req.body = {} },
    schema: { summary: 'Make a version the file\'s content again', tags, params: VersionParams, querystring: ForceQuery, body: ForceQuery },
  }, async (req) => gatewaySuccess('Version restored', { file: await links.restoreVersion(contextOf(req), req.params.file_id, req.params.version_id, { force: req.body.force ?? req.query.force }) }))

  app.delete<{ Params: VersionId }>('/files/:file_id/versions/:version_id', {
    config: routeConfig('storage.files.versions.delete', 'storage.write'),
    schema: { summary: 'Delete one noncurrent version of a file', tags, params: VersionParams },
  }, async (req) => gatewaySuccess('Version deleted', { version: await links.deleteVersion(contextOf(req), req.params.file_id, req.params.version_id) }))

  app.post<{ Body: Static<typeof SearchBody> }>('/files/search', {
    config: routeConfig('storage.files.search', 'storage.read'),
    schema: { summary: 'Search the client\'s files by a part of their name or key, with the list filters', tags, body: SearchBody },
  }, async (req) => {
    // search may leave the connection out: Atrium's own store then
    const page = await files.list(contextOf(req), { ...req.body, s3_id: req.body.s3_id ?? req.body.s3Id ?? 'default' })
    return gatewaySuccess(`Found ${plural(page.count, 'file')}`, page)
  })
}
