// GET /docs: Atrium's own API reference (Swagger UI over /openapi.json). The gateway spec has /docs redirect to
// a hosted page about the original gateway; Atrium serves the reference of what this server really answers,
// so "Try it out" works against it (docs/operations.md says so). Swagger UI registers its page hidden, like its
// assets; the page itself is an operation of the API, so it is given an id, access and summary here and listed.
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync, RouteOptions } from 'fastify'
import type { RouteCatalog } from '../../http/route-catalog.js'

const isIndexPage = (route: RouteOptions) => route.method === 'GET' && (route.url === '/docs' || route.url === '/docs/')

export const docsUiRoutes: FastifyPluginAsync<{ routes: RouteCatalog }> = async (app, { routes }) => {
  // onRoute hooks of the root (the catalog's) run before this scope's, so the page is added to the catalog here
  app.addHook('onRoute', (route) => {
    if (!isIndexPage(route) || route.url !== '/docs') return
    route.schema = { ...route.schema, hide: false, summary: 'Atrium API reference (Swagger UI over /openapi.json)', tags: ['system'] }
    route.config = { ...route.config, operation: 'system.docs', access: 'public' }
    routes.add(route)
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, uiConfig: { url: '/openapi.json' } as never })
}
