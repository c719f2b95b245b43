// GET /openapi.yaml and /openapi.json (generated from the route schemas), /openapi-wss.yaml and /wss/info.
import type { FastifyPluginAsync } from 'fastify'
import { stringify } from 'yaml'

// Atrium has no WebSocket gateway yet; these documents say so in the gateway's shape rather than pretend.
const WSS_DOC = {
  openapi: '3.0.3',
  info: {
    title: 'Atrium WebSocket gateway',
    version: '0',
    description: 'The WebSocket gateway (/wss/gateway) is not available in this Atrium version. Row events (X-Publish-Event) go through the outbox to in-process subscribers on every node; use the HTTP gateway routes meanwhile.',
  },
  paths: {},
  'x-state': 'unavailable',
}

export interface OpenapiDeps {
  version: string
}

export const openapiRoutes: FastifyPluginAsync<{ services: OpenapiDeps }> = async (app, { services }) => {
  let yamlCache: string | undefined
  app.get('/openapi.yaml', {
    config: { operation: 'system.openapi', access: { protect: 'openapi' } },
    schema: { summary: 'Download the OpenAPI document generated from the route schemas', tags: ['system'] },
  }, async (_req, reply) => {
    yamlCache ??= app.swagger({ yaml: true })
    return reply.type('application/yaml; charset=utf-8').send(yamlCache)
  })

  app.get('/openapi.json', {
    config: { operation: 'system.openapi_json', access: { protect: 'openapi' } },
    schema: { summary: 'The OpenAPI document as JSON', tags: ['system'] },
  }, async (_req, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())))

  app.get('/openapi-wss.yaml', {
    config: { operation: 'system.openapi_wss', access: { protect: 'openapi' } },
    schema: { summary: 'Download the WebSocket OpenAPI YAML', tags: ['system'] },
  }, async (_req, reply) => reply.type('application/yaml; charset=utf-8').send(stringify(WSS_DOC)))

  app.get('/wss/info', {
    config: { operation: 'system.wss_info', access: 'public' },
    schema: { summary: 'Read the WebSocket gateway contract', tags: ['system'] },
  }, async () => ({
    status: 'success',
    message: 'Atrium WebSocket gateway is not available in this version',
    data: {
      transport: 'wss',
      path: '/wss/gateway',
      state: 'unavailable',
      version: services.version,
      notes: ['Use the HTTP gateway routes; row events are published internally for webhooks and metrics.'],
      actions: [],
    },
  }))
}
