// POST /pipelines, POST /pipelines/simulate, GET /pipelines/templates, GET /pipelines/runs/{id} and its cancel:
// source → transform → sink pipelines. The caller's credential is checked for every client a pipeline reaches.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { authorizeOtherClient } from '../../http/access-control.js'
import { contextOf } from '../../http/request-context.js'
import { requireOperation } from '../../auth/operation-rights.js'
import type { PipelineRequest } from '../../pipelines/definition.js'
import { PipelineRequestSchema } from '../../pipelines/definition.js'
import type { PipelineContexts } from '../../pipelines/pipelines-service.js'
import type { RequestContext } from '../../request-context.js'
import type { Source } from '../../sources/source.js'
import type { GatewayDeps } from './deps.js'
import { gatewaySuccess } from './envelope.js'
import { plural } from './respond.js'
import { GatewayHeaders } from './schemas.js'

const RunParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })

/** the request's context, about another client */
function contextAt(base: RequestContext, source: Source): RequestContext {
  return { principal: base.principal, source, requestId: base.requestId, log: base.log, get deadline() { return base.deadline } }
}

async function contextsFor(services: GatewayDeps, req: FastifyRequest, source: string, sink: string): Promise<PipelineContexts> {
  const base = contextOf(req)
  return {
    source: contextAt(base, await authorizeOtherClient(services, req, source)),
    sink: contextAt(base, await authorizeOtherClient(services, req, sink)),
  }
}

export function pipelineRoutes(app: FastifyInstance, services: GatewayDeps): void {
  const { pipelines } = services

  const simulate = async (req: FastifyRequest) => {
    const def = pipelines.define(req.body as PipelineRequest, req.source.name)
    const { sample, counts } = await pipelines.simulate(def, await contextsFor(services, req, def.source.client, def.sink.client))
    return gatewaySuccess(`Simulated: ${plural(counts.rows_fetched, 'row')} read, ${counts.would_insert} would be written, ${counts.rows_rejected} rejected`, sample, counts)
  }

  app.post('/pipelines', {
    config: { operation: 'pipelines.run', access: 'client' },
    schema: {
      summary: 'Run a pipeline (source → transforms → sink) as a job; with dry_run, simulate it instead',
      tags: ['pipelines'],
      headers: GatewayHeaders,
      body: PipelineRequestSchema,
    },
  }, async (req, reply) => {
    const body = req.body as PipelineRequest
    if (body.dry_run) return simulate(req)
    const def = pipelines.define(body, req.source.name)
    const job = await pipelines.enqueue(def, await contextsFor(services, req, def.source.client, def.sink.client))
    reply.status(202).header('location', `/pipelines/runs/${job.id}`)
    return gatewaySuccess(`Pipeline run ${job.id} is ${job.status}`, { job_id: job.id, status: job.status, pipeline: def.name, job })
  })

  app.post('/pipelines/simulate', {
    config: { operation: 'pipelines.simulate', access: 'client' },
    schema: {
      summary: 'Simulate a pipeline: read and transform, write nothing; counts, rejected rows and a sample',
      tags: ['pipelines'],
      headers: GatewayHeaders,
      body: PipelineRequestSchema,
    },
  }, (req) => simulate(req))

  app.get('/pipelines/templates', {
    config: { operation: 'pipelines.templates', access: 'client' },
    schema: { summary: 'List the pipeline templates of the configuration (pipelines.templates)', tags: ['pipelines'], headers: GatewayHeaders },
  }, async (req) => {
    requireOperation(req.principal, 'schema.read', 'list pipeline templates')
    const templates = pipelines.listTemplates()
    // the gateway contract's shape: the list at the top level
    return { status: 'success', message: `Listed ${plural(templates.length, 'pipeline template')}`, templates }
  })

  app.get('/pipelines/runs/:id', {
    config: { operation: 'pipelines.runs.get', access: 'client' },
    schema: { summary: 'One pipeline run of the caller: status, progress, rows read/written/rejected, rejected rows', tags: ['pipelines'], headers: GatewayHeaders, params: RunParams },
  }, async (req) => {
    const job = await pipelines.getRun(req.principal, (req.params as { id: string }).id)
    return gatewaySuccess(`Pipeline run ${job.id} is ${job.status}`, { job })
  })

  app.post('/pipelines/runs/:id/cancel', {
    config: { operation: 'pipelines.runs.cancel', access: 'client' },
    schema: { summary: 'Cancel a queued or running pipeline run of the caller (it stops after the batch in hand)', tags: ['pipelines'], headers: GatewayHeaders, params: RunParams },
  }, async (req) => {
    const job = await pipelines.cancelRun(req.principal, (req.params as { id: string }).id)
    return gatewaySuccess(`Pipeline run ${job.id} is ${job.status}`, { job })
  })
}
