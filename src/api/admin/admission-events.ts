// GET /admin/admission-events: refused requests (admission events), newest first, filtered and paged by cursor (admin key only).
import { Type, type TSchema } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Catalog } from '../../catalog/catalog.js'
import { ADMISSION_PAGE_DEFAULT, ADMISSION_PAGE_MAX, listAdmissionEvents, type AdmissionFilter } from '../../monitoring/admission-event-store.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { plural } from '../gateway/respond.js'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

const AdmissionListQuery = Type.Object({
  client: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  key_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the public id of an API key (ath_<public id>.…)' })),
  kind: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z_]+$', description: 'an error code, e.g. rate_limited' })),
  since: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'ISO-8601; events at or after it' })),
  until: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'ISO-8601; events before it' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: ADMISSION_PAGE_MAX, default: ADMISSION_PAGE_DEFAULT })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'next_cursor of the previous page' })),
}, { additionalProperties: false })

const AdmissionEvent = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  kind: Type.String(),
  client: Nullable(Type.String()),
  key_id: Nullable(Type.String()),
  user: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  method: Type.String(),
  route: Nullable(Type.String()),
  operation: Nullable(Type.String()),
  status: Type.Integer(),
  request_id: Nullable(Type.String()),
  detail: Nullable(Type.String()),
})

const AdmissionListReply = Type.Object({
  status: Type.Literal('success'),
  message: Type.String(),
  data: Type.Object({ events: Type.Array(AdmissionEvent), next_cursor: Nullable(Type.String()) }),
})

export interface AdmissionRouteDeps {
  catalog: Catalog
}

export function admissionEventRoutes(app: FastifyInstance, services: AdmissionRouteDeps): void {
  app.get('/admin/admission-events', {
    config: { operation: 'admin.admission_events.list', access: 'admin' },
    schema: {
      summary: 'List refused requests (admission events), newest first; filter by client, key_id, kind, since, until; paged by cursor',
      tags: ['admin'], querystring: AdmissionListQuery, response: { 200: AdmissionListReply },
    },
  }, async (req) => {
    const page = await listAdmissionEvents(services.catalog, req.query as AdmissionFilter)
    return gatewaySuccess(`Listed ${plural(page.events.length, 'admission event')}`, page)
  })
}
