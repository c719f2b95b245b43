// /api/v1/projects and /api/v1/datasets: a tenant's projects and the datasets in them.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Window as ListWindow } from '../../tenancy/paging.js'
import { actorOf } from './access.js'
import type { WorkspaceDeps } from './deps.js'
import { Description, idParam, Name, routeOptions, Window } from './schemas.js'

const ProjectBody = Type.Object({ name: Name, description: Type.Optional(Description) })
const ProjectUpdate = Type.Object({ name: Type.Optional(Type.Union([Name, Type.Null()])), description: Type.Optional(Description) })
const DatasetBody = Type.Object({ name: Name, description: Type.Optional(Description), project_id: Type.String({ minLength: 1, maxLength: 100 }) })
const DatasetUpdate = Type.Object({
  name: Type.Optional(Type.Union([Name, Type.Null()])),
  description: Type.Optional(Description),
  project_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
})
const projectParams = idParam('project_id')
const datasetParams = idParam('dataset_id')
type ProjectReq = FastifyRequest<{ Params: { project_id: string } }>
type DatasetReq = FastifyRequest<{ Params: { dataset_id: string } }>

export function projectRoutes(app: FastifyInstance, { warehouse }: WorkspaceDeps): void {
  app.post('/api/v1/projects', routeOptions('projects.create', 'projects', 'Create Project', { body: ProjectBody }), async (req, reply) => {
    reply.status(201)
    return warehouse.createProject(actorOf(req), req.body as { name: string; description?: string | null })
  })
  app.get('/api/v1/projects', routeOptions('projects.list', 'projects', 'List Projects', { querystring: Window }), async (req) => ({
    projects: await warehouse.listProjects(actorOf(req), req.query as ListWindow),
  }))
  app.get('/api/v1/projects/:project_id', routeOptions('projects.get', 'projects', 'Get Project', { params: projectParams }), async (req: ProjectReq) =>
    warehouse.getProject(actorOf(req), req.params.project_id))
  const updateProject = async (req: ProjectReq) => warehouse.updateProject(actorOf(req), req.params.project_id, req.body as { name?: string | null; description?: string | null })
  app.put('/api/v1/projects/:project_id', routeOptions('projects.update', 'projects', 'Update Project', { params: projectParams, body: ProjectUpdate }), updateProject)
  app.patch('/api/v1/projects/:project_id', routeOptions('projects.update', 'projects', 'Update Project', { params: projectParams, body: ProjectUpdate }), updateProject)
  app.delete('/api/v1/projects/:project_id', routeOptions('projects.delete', 'projects', 'Delete Project', { params: projectParams }), async (req: ProjectReq, reply) => {
    await warehouse.archiveProject(actorOf(req), req.params.project_id)
    reply.status(204)
  })
  app.get('/api/v1/projects/:project_id/datasets', routeOptions('datasets.by_project', 'datasets', 'List Datasets By Project', { params: projectParams, querystring: Window }), async (req: ProjectReq) => ({
    datasets: await warehouse.listDatasets(actorOf(req), req.query as ListWindow, req.params.project_id),
  }))

  app.post('/api/v1/datasets', routeOptions('datasets.create', 'datasets', 'Create Dataset', { body: DatasetBody }), async (req, reply) => {
    reply.status(201)
    return warehouse.createDataset(actorOf(req), req.body as { name: string; description?: string | null; project_id: string })
  })
  app.get('/api/v1/datasets', routeOptions('datasets.list', 'datasets', 'List Datasets', { querystring: Window }), async (req) => ({
    datasets: await warehouse.listDatasets(actorOf(req), req.query as ListWindow),
  }))
  app.get('/api/v1/datasets/:dataset_id', routeOptions('datasets.get', 'datasets', 'Get Dataset', { params: datasetParams }), async (req: DatasetReq) =>
    warehouse.getDataset(actorOf(req), req.params.dataset_id))
  const updateDataset = async (req: DatasetReq) => warehouse.updateDataset(actorOf(req), req.params.dataset_id, req.body as { name?: string | null; description?: string | null; project_id?: string | null })
  app.put('/api/v1/datasets/:dataset_id', routeOptions('datasets.update', 'datasets', 'Update Dataset', { params: datasetParams, body: DatasetUpdate }), updateDataset)
  app.patch('/api/v1/datasets/:dataset_id', routeOptions('datasets.update', 'datasets', 'Update Dataset', { params: datasetParams, body: DatasetUpdate }), updateDataset)
  app.delete('/api/v1/datasets/:dataset_id', routeOptions('datasets.delete', 'datasets', 'Delete Dataset', { params: datasetParams }), async (req: DatasetReq, reply) => {
    await warehouse.archiveDataset(actorOf(req), req.params.dataset_id)
    reply.status(204)
  })
}
