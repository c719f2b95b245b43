// /storage/folders/list|tree|delete|move: folders (key prefixes) of the client's managed files, in the bodies
// athena-js 5 sends. Thin: one service call each.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { contextOf } from '../../http/request-context.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { plural } from '../gateway/respond.js'
import type { StorageDeps } from './deps.js'
import { routeConfig, s3IdOf, Selector } from './request.js'

const Prefix = Type.String({ maxLength: 1024 })
const Bucket = Type.Optional(Type.String({ maxLength: 63, description: 'only this bucket\'s files; default: every bucket on the connection' }))
const FolderBody = Type.Object({ ...Selector, prefix: Type.Optional(Prefix), bucket: Bucket })
const DeleteBody = Type.Object({ ...Selector, prefix: Prefix, bucket: Bucket, force: Type.Optional(Type.Boolean({ description: 'purge the files instead of a soft delete' })) })
const MoveBody = Type.Object({ ...Selector, from_prefix: Prefix, to_prefix: Prefix, bucket: Bucket })
const tags = ['storage']

export function folderRoutes(app: FastifyInstance, services: StorageDeps): void {
  const { folders } = services.storageFiles

  app.post<{ Body: Static<typeof FolderBody> }>('/folders/list', {
    config: routeConfig('storage.folders.list', 'storage.read'),
    schema: { summary: 'The sub-folders and files directly in a folder', tags, body: FolderBody },
  }, async (req) => {
    const listed = await folders.list(contextOf(req), { ...req.body, s3_id: s3IdOf(req.body) })
    return gatewaySuccess(`Listed ${plural(listed.folders.length, 'folder')} and ${plural(listed.files.length, 'file')}`, listed)
  })

  app.post<{ Body: Static<typeof FolderBody> }>('/folders/tree', {
    config: routeConfig('storage.folders.tree', 'storage.read'),
    schema: { summary: 'Every folder under a prefix, nested, with file counts', tags, body: FolderBody },
  }, async (req) => gatewaySuccess('Folder tree', await folders.tree(contextOf(req), { ...req.body, s3_id: s3IdOf(req.body) })))

  app.post<{ Body: Static<typeof DeleteBody> }>('/folders/delete', {
    config: routeConfig('storage.folders.delete', 'storage.write'),
    schema: { summary: 'Delete every file in a folder (soft; force purges)', tags, body: DeleteBody },
  }, async (req) => {
    const done = await folders.delete(contextOf(req), { ...req.body, s3_id: s3IdOf(req.body) })
    return gatewaySuccess(`Deleted ${plural(done.processed_files, 'file')}`, done)
  })

  app.post<{ Body: Static<typeof MoveBody> }>('/folders/move', {
    config: routeConfig('storage.folders.move', 'storage.write'),
    schema: { summary: 'Move every file of a folder under another prefix (bytes too)', tags, body: MoveBody },
  }, async (req) => {
    const done = await folders.move(contextOf(req), { ...req.body, s3_id: s3IdOf(req.body) })
    return gatewaySuccess(`Moved ${plural(done.processed_files, 'file')}`, done)
  })
}
