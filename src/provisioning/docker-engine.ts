// A small client of the Docker Engine API over its Unix socket: enough to pull an image, create, start, inspect
// and remove one container. Used only when the socket exists; otherwise a request naming an image is refused
// with 422 docker_unavailable, so it never silently gets something else.
import { existsSync } from 'node:fs'
import { request } from 'node:http'
import { AppError } from '../errors/app-error.js'

export interface DockerAnswer<T = any> {
  status: number
  body: T
}

// the Engine's JSON answers are small; an image pull streams progress lines, which are read and dropped
const MAX_KEPT_CHARS = 1_048_576

export class DockerEngine {
  constructor(readonly socketPath: string) {}

  /** a 422 naming the socket unless it exists */
  assertAvailable(): void {
    if (!existsSync(this.socketPath)) {
      throw new AppError('docker_unavailable', `image was given, but there is no Docker Engine socket at ${this.socketPath}`, {
        hint: 'omit image: Atrium then starts the instance from its own PostgreSQL binaries (or set provisioning.dockerSocket)',
      })
    }
  }

  /** one call; an Engine that cannot be reached is a 503 provider_unavailable, an error status a 502 with its message */
  async call<T = any>(method: string, path: string, body?: unknown, okStatuses: number[] = [200, 201, 204, 304]): Promise<DockerAnswer<T>> {
    const answer = await this.send(method, path, body).catch((err: Error) => {
      throw new AppError('provider_unavailable', `the Docker Engine at ${this.socketPath} could not be reached (${(err as NodeJS.ErrnoException).code ?? err.message})`, { retryAfter: 5, data: { provider: 'Docker Engine' } })
    })
    if (!okStatuses.includes(answer.status)) {
      const said = typeof answer.body === 'object' && answer.body && 'message' in answer.body ? String((answer.body as { message: unknown }).message) : String(answer.body).slice(0, 300)
      throw new AppError('provisioning_failed', `the Docker Engine answered ${method} ${path.split('?')[0]} with ${answer.status}: ${said}`, { data: { docker_status: answer.status } })
    }
    return answer as DockerAnswer<T>
  }

  private send(method: string, path: string, body?: unknown): Promise<DockerAnswer> {
    const text = body === undefined ? undefined : JSON.stringify(body)
    return new Promise((resolve, reject) => {
      const req = request({
        socketPath: this.socketPath, path, method,
        headers: text === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) },
        signal: AbortSignal.timeout(10 * 60_000),
      }, (res) => {
        let kept = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => { if (kept.length < MAX_KEPT_CHARS) kept += chunk.slice(0, MAX_KEPT_CHARS - kept.length) })
        res.on('end', () => {
          let parsed: unknown = kept
          if ((res.headers['content-type'] ?? '').includes('application/json') && kept) {
            try { parsed = JSON.parse(kept) } catch { /* a stream of JSON lines (image pull): kept as text */ }
          }
          resolve({ status: res.statusCode ?? 0, body: parsed })
        })
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(text)
    })
  }
}

const seg = encodeURIComponent

/** image "postgres:16" → fromImage=postgres&tag=16 (a digest or no tag: the whole reference, tag latest) */
function pullQuery(image: string): string {
  const at = image.indexOf('@')
  const colon = image.lastIndexOf(':')
  if (at === -1 && colon > image.lastIndexOf('/')) return `fromImage=${seg(image.slice(0, colon))}&tag=${seg(image.slice(colon + 1))}`
  return at === -1 ? `fromImage=${seg(image)}&tag=latest` : `fromImage=${seg(image)}`
}

export interface ContainerSpec {
  name: string
  image: string
  host: string
  port: number
  dbName: string
  username: string
  password: string
}

/** pulls the image when the Engine does not have it, then creates and starts a PostgreSQL container */
export async function runPostgresContainer(engine: DockerEngine, spec: ContainerSpec): Promise<void> {
  // an image reference keeps its slashes in the path (the Engine routes /images/ghcr.io/org/name:tag/json);
  // the route admits only reference characters
  const image = await engine.call('GET', `/images/${spec.image}/json`, undefined, [200, 404])
  if (image.status === 404) await engine.call('POST', `/images/create?${pullQuery(spec.image)}`)
  // the official postgres image's variables: the superuser, its password and the database created at first start
  await engine.call('POST', `/containers/create?name=${seg(spec.name)}`, {
    Image: spec.image,
    Env: [`POSTGRES_USER=${spec.username}`, `POSTGRES_PASSWORD=${spec.password}`, `POSTGRES_DB=${spec.dbName}`],
    ExposedPorts: { '5432/tcp': {} },
    Labels: { 'dev.atrium.instance': spec.name },
    HostConfig: { PortBindings: { '5432/tcp': [{ HostIp: spec.host === 'localhost' ? '127.0.0.1' : spec.host, HostPort: String(spec.port) }] } },
  })
  await engine.call('POST', `/containers/${seg(spec.name)}/start`)
}

export async function startContainer(engine: DockerEngine, name: string): Promise<void> {
  await engine.call('POST', `/containers/${seg(name)}/start`)
}

/** running and its PID, or undefined when the Engine has no such container */
export async function inspectContainer(engine: DockerEngine, name: string): Promise<{ running: boolean; pid: number | null } | undefined> {
  const res = await engine.call<{ State?: { Running?: boolean; Pid?: number } }>('GET', `/containers/${seg(name)}/json`, undefined, [200, 404])
  if (res.status === 404) return undefined
  const running = res.body.State?.Running === true
  return { running, pid: running && res.body.State?.Pid ? res.body.State.Pid : null }
}

/** stops and removes the container with its anonymous volumes; whether there was one */
export async function removeContainer(engine: DockerEngine, name: string): Promise<boolean> {
  const res = await engine.call('DELETE', `/containers/${seg(name)}?force=true&v=true`, undefined, [200, 204, 404])
  return res.status !== 404
}
