import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import pg from 'pg'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { createPgDatabase } from '../../helpers/databases.js'

interface FakeContainer { image: string; env: string[]; bindings: unknown; running: boolean }

/**
 * A Docker Engine API on a Unix socket, as documented (images/json, images/create, containers/create, start,
 * json, DELETE): its "containers" publish the local PostgreSQL's port, so what Atrium connects to is real.
 */
async function startFakeDocker(t: { after(fn: () => Promise<void>): void }, socketPath: string) {
  const images = new Set<string>()
  const containers = new Map<string, FakeContainer>()
  const calls: string[] = []
  const json = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' })
    res.end(body === undefined ? undefined : JSON.stringify(body))
  }
  const server = createServer((req: IncomingMessage, res) => {
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => { text += c })
    req.on('end', () => {
      const url = new URL(req.url!, 'http://docker')
      calls.push(`${req.method} ${url.pathname}`)
      const image = /^\/images\/(.+)\/json$/.exec(url.pathname)
      const container = /^\/containers\/([^/]+)(\/start|\/json)?$/.exec(url.pathname)
      if (req.method === 'GET' && image) return images.has(decodeURIComponent(image[1]!)) ? json(res, 200, { Id: 'sha256:1' }) : json(res, 404, { message: 'No such image' })
      if (req.method === 'POST' && url.pathname === '/images/create') {
        images.add(`${url.searchParams.get('fromImage')}:${url.searchParams.get('tag')}`)
        res.writeHead(200, { 'content-type': 'application/json' })
        return res.end('{"status":"Pulling"}\n{"status":"Downloaded newer image"}\n')
      }
      if (req.method === 'POST' && url.pathname === '/containers/create') {
        const name = url.searchParams.get('name')!
        if (containers.has(name)) return json(res, 409, { message: `Conflict. The container name "/${name}" is already in use` })
        const body = JSON.parse(text)
        containers.set(name, { image: body.Image, env: body.Env, bindings: body.HostConfig.PortBindings, running: false })
        return json(res, 201, { Id: `id-${name}`, Warnings: [] })
      }
      const found = container ? containers.get(decodeURIComponent(container[1]!)) : undefined
      if (!container || !found) return json(res, 404, { message: 'No such container' })
      if (req.method === 'POST' && container[2] === '/start') { found.running = true; return json(res, 204) }
      if (req.method === 'GET' && container[2] === '/json') return json(res, 200, { State: { Running: found.running, Pid: found.running ? 4242 : 0 } })
      if (req.method === 'DELETE' && !container[2]) { containers.delete(decodeURIComponent(container[1]!)); return json(res, 204) }
      return json(res, 404, { message: 'page not found' })
    })
  })
  await new Promise<void>((resolve) => server.listen(socketPath, resolve))
  t.after(() => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections() }))
  return { images, containers, calls }
}

/** stops by PID whatever a failed test left running (the data directory goes with the test's data dir) */
function killLeftover(pid: number | null | undefined): void {
  if (!pid) return
  try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
}

test('/admin/provision/instances: real local PostgreSQL instances', async (t) => {
  const socketDir = mkdtempSync(join(tmpdir(), 'atrium-docker-'))
  t.after(() => rmSync(socketDir, { recursive: true, force: true }))
  const dockerSocket = join(socketDir, 'docker.sock')
  // no Engine listens on the socket until the Docker subtest starts one
  const atrium = await startTestAtrium(t, { env: { ATRIUM_DOCKER_SOCKET: dockerSocket } })
  const pids: number[] = []
  t.after(async () => {
    for (const name of ['atrium-pg-local_one', 'second']) await atrium.request('DELETE', `/admin/provision/instances/${name}`).catch(() => undefined)
    for (const pid of pids) killLeftover(pid)
  })
  let created: any

  await t.test('starts an instance on a free port, applies the schema and registers it', async () => {
    const res = await atrium.post('/admin/provision/instances', { body: { client_name: 'local_one', db_name: 'appdb', username: 'owner' } })
    assert.equal(res.status, 200, res.text)
    created = res.body
    if (created.pid) pids.push(created.pid)
    assert.equal(created.container_name, 'atrium-pg-local_one')
    assert.equal(created.status, 'running')
    assert.equal(created.registered, true)
    assert.deepEqual(created.provisioned.tables, ['database_audit_log'])
    assert.ok(created.port > 0)
    assert.doesNotMatch(created.connection_uri_masked, new RegExp(new URL(created.connection_uri).password))
    // the returned connection string reaches the instance directly
    const client = new pg.Client({ connectionString: created.connection_uri })
    await client.connect()
    try {
      const { rows } = await client.query("SELECT current_database() AS db, current_user AS who, to_regclass('public.database_audit_log') IS NOT NULL AS audit")
      assert.deepEqual(rows[0], { db: 'appdb', who: 'owner', audit: true })
    } finally {
      await client.end()
    }
    // and the gateway serves it as a client
    const query = await atrium.post('/gateway/query', { client: 'local_one', body: { query: 'SELECT current_database() AS db' } })
    assert.equal(query.status, 200, query.text)
    assert.equal(query.body.data[0].db, 'appdb')
  })

  await t.test('inspect: running, with the client that points at it', async () => {
    const res = await atrium.get('/admin/provision/instances/atrium-pg-local_one')
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.status, 'running')
    assert.equal(res.body.pid, created.pid)
    assert.deepEqual(res.body.client, { client_name: 'local_one', registered: true })
    assert.equal(res.body.connection_uri, undefined, 'the password is shown at creation only')
    const other = await atrium.get('/admin/provision/instances/atrium-pg-local_one?client_name=someone_else')
    assert.deepEqual(other.body.client, { client_name: 'someone_else', registered: false })
  })

  await t.test('the same name again is a 409 unless reuse_existing', async () => {
    const again = await atrium.post('/admin/provision/instances', { body: { client_name: 'local_one' } })
    assert.equal(again.status, 409)
    assert.equal(again.body.code, 'instance_exists')
    const reused = await atrium.post('/admin/provision/instances', { body: { client_name: 'local_one', reuse_existing: true } })
    assert.equal(reused.status, 200, reused.text)
    assert.equal(reused.body.reused, true)
    assert.equal(reused.body.port, created.port)
    assert.equal(reused.body.connection_uri, created.connection_uri)
  })

  await t.test('an instance without registration or schema', async () => {
    const res = await atrium.post('/admin/provision/instances', { body: { client_name: 'second_client', container_name: 'second', provision_schema: false, register_runtime: false, register_catalog: false } })
    assert.equal(res.status, 200, res.text)
    if (res.body.pid) pids.push(res.body.pid)
    assert.equal(res.body.registered, false)
    assert.equal(res.body.provisioned, null)
    assert.equal((await atrium.get('/admin/provision/status?client_name=second_client')).status, 400, 'not a client')
    const del = await atrium.request('DELETE', '/admin/provision/instances/second')
    assert.equal(del.status, 200, del.text)
    assert.deepEqual(del.body, { container_name: 'second', stopped: true, client_name: 'second_client', client_removed: false })
  })

  await t.test('a server that cannot start (its port is taken) is a 502, and nothing is left behind', async () => {
    const res = await atrium.post('/admin/provision/instances', { body: { client_name: 'taken', container_name: 'taken', host_port: 5432 } })
    assert.equal(res.status, 502, res.text)
    assert.equal(res.body.code, 'provisioning_failed')
    assert.match(res.body.message, /exited while starting/)
    assert.equal((await atrium.get('/admin/provision/instances/taken')).status, 404)
    assert.equal((await atrium.get('/admin/provision/status?client_name=taken')).status, 400, 'no client')
  })

  await t.test('bad input is a 4xx', async () => {
    const docker = await atrium.post('/admin/provision/instances', { body: { client_name: 'x', image: 'postgres:16' } })
    assert.equal(docker.status, 422)
    assert.equal(docker.body.code, 'docker_unavailable')
    assert.match(docker.body.message, /no Docker Engine socket/)
    const badName = await atrium.post('/admin/provision/instances', { body: { client_name: 'x', container_name: '../etc' } })
    assert.equal(badName.status, 400)
    const badDb = await atrium.post('/admin/provision/instances', { body: { client_name: 'x', container_name: 'x', db_name: 'a"; DROP' } })
    assert.equal(badDb.status, 400)
    const noClient = await atrium.post('/admin/provision/instances', { body: {} })
    assert.equal(noClient.status, 400)
    const badDelete = await atrium.request('DELETE', '/admin/provision/instances/atrium-pg-local_one', { body: { remove_everything: true } })
    assert.equal(badDelete.status, 400)
    const missing = await atrium.get('/admin/provision/instances/nothing-here')
    assert.equal(missing.status, 404)
    assert.equal(missing.body.code, 'instance_not_found')
  })

  await t.test('with a Docker Engine socket, an image becomes a container whose database is provisioned and registered', async () => {
    const docker = await startFakeDocker(t, dockerSocket)
    const db = await createPgDatabase(t)
    const res = await atrium.post('/admin/provision/instances', { body: { client_name: 'docker_one', container_name: 'pg-docker', image: 'postgres:16', host_port: 5432, db_name: db.name, username: 'postgres', password: 'container-secret' } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.backend, 'docker')
    assert.equal(res.body.status, 'running')
    assert.equal(res.body.pid, 4242)
    assert.equal(res.body.registered, true)
    assert.deepEqual(docker.calls.slice(0, 4), ['GET /images/postgres:16/json', 'POST /images/create', 'POST /containers/create', 'POST /containers/pg-docker/start'])
    const created = docker.containers.get('pg-docker')!
    assert.equal(created.image, 'postgres:16')
    assert.deepEqual(created.env, ['POSTGRES_USER=postgres', 'POSTGRES_PASSWORD=container-secret', `POSTGRES_DB=${db.name}`])
    assert.deepEqual(created.bindings, { '5432/tcp': [{ HostIp: '127.0.0.1', HostPort: '5432' }] })
    assert.equal((await db.query<{ ok: boolean }>("SELECT to_regclass('public.database_audit_log') IS NOT NULL AS ok"))[0]!.ok, true)
    assert.equal((await atrium.get('/admin/provision/instances/pg-docker')).body.status, 'running')
    const again = await atrium.post('/admin/provision/instances', { body: { client_name: 'docker_one', container_name: 'pg-docker', image: 'postgres:16' } })
    assert.equal(again.status, 409)
    const del = await atrium.request('DELETE', '/admin/provision/instances/pg-docker')
    assert.equal(del.status, 200, del.text)
    assert.deepEqual(del.body, { container_name: 'pg-docker', stopped: true, client_name: 'docker_one', client_removed: true })
    assert.equal(docker.containers.has('pg-docker'), false, 'the container was removed')
    assert.equal((await atrium.get('/admin/provision/status?client_name=docker_one')).status, 400, 'the client was removed')
  })

  await t.test('only the admin key manages instances', async () => {
    const { key } = await createKey(atrium, { rights: ['*'] })
    for (const [method, path, body] of [['POST', '/admin/provision/instances', { client_name: 'y' }], ['GET', '/admin/provision/instances/atrium-pg-local_one', undefined], ['DELETE', '/admin/provision/instances/atrium-pg-local_one', undefined]] as const) {
      assert.equal((await atrium.request(method, path, { key: null, body })).status, 401, `${method} ${path} without a key`)
      assert.equal((await atrium.request(method, path, { key, body })).status, 403, `${method} ${path} with an API key`)
    }
    assert.equal((await atrium.get('/admin/provision/instances/atrium-pg-local_one')).body.status, 'running', 'still running')
  })

  await t.test('delete stops the process, removes its client and its record', async () => {
    const res = await atrium.request('DELETE', '/admin/provision/instances/atrium-pg-local_one')
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body, { container_name: 'atrium-pg-local_one', stopped: true, client_name: 'local_one', client_removed: true })
    assert.throws(() => process.kill(created.pid, 0), 'the postgres process is gone')
    assert.equal((await atrium.get('/admin/provision/instances/atrium-pg-local_one')).status, 404)
    const query = await atrium.post('/gateway/query', { client: 'local_one', body: { query: 'SELECT 1' } })
    assert.equal(query.status, 400, 'the client is gone')
  })
})
