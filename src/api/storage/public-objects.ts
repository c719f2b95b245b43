// GET /storage/public/<client>/<s3_id>/<bucket>/<key>: objects of public buckets, readable without a key (what
// /storage/objects/public-url hands out). Served by Atrium on every backend; anything not public is a 404.
import type { FastifyInstance } from 'fastify'
import { DEFAULT_CONTENT_TYPE } from '../../objects/object-store.js'
import type { Storage } from '../../storage/storage.js'

export function publicObjectRoutes(app: FastifyInstance, storage: Storage): void {
  app.get('/public/:client/:s3_id/:bucket/*', {
    config: { operation: 'storage.objects.public_get', access: 'public' },
    // hidden like the signed-URL routes: a wildcard path has no OpenAPI form; docs/storage.md describes it
    schema: { summary: 'Read an object of a public bucket (no key)', tags: ['storage'], hide: true },
  }, async (req, reply) => {
    const p = req.params as { client: string; s3_id: string; bucket: string; '*': string }
    const got = await storage.objectService.readPublic(p.client, p.s3_id, p.bucket, p['*'])
    reply
      .header('content-type', got.contentType || DEFAULT_CONTENT_TYPE)
      .header('content-length', String(got.contentLength))
      .header('etag', got.etag)
      .header('last-modified', got.lastModified.toUTCString())
      .header('cache-control', 'public, max-age=60')
    if (req.method === 'HEAD') {
      got.body.destroy()
      return reply.send()
    }
    return reply.send(got.body)
  })
}
