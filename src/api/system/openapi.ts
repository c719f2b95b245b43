// GET /openapi.yaml and /openapi.json (generated from the route schemas) and /openapi-wss.yaml (the WebSocket
// gateway's messages, from the realtime protocol's tables).
import type { FastifyPluginAsync } from 'fastify'
import { stringify } from 'yaml'
import type { Config } from '../../config/schema.js'
import { wssDocument } from '../../realtime/contract.js'

export interface OpenapiDeps {
  version: string
  config: Pick<Config, 'realtime'>
}

export const openapiRoutes: FastifyPluginAsync<{ services: OpenapiDeps }> = async (app, { services }) => {
  let yamlCache: string | undefined
  let wssCache: string | undefined
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
  }, async (_req, reply) => {
    wssCache ??= stringify(wssDocument(services.config.realtime, services.version))
    return reply.type('application/yaml; charset=utf-8').send(wssCache)
  })
}
