// Spawns Atrium as its own process (as `npm start` would) and waits for it to answer /ping.
import { spawn, type ChildProcess } from 'node:child_process'

export interface AtriumProcess {
  child: ChildProcess
  url: string
  stdout(): string
  stderr(): string
  /** sends SIGTERM and resolves with the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export interface SpawnOptions {
  /** a test harness that starts Atrium and prints its banner, instead of src/main.ts */
  entry?: string
  /** keep the child's stdin open as a pipe (child.stdin) for a harness that takes commands */
  stdin?: boolean
}

/**
 * Starts `src/main.ts` (or `opts.entry`) with exactly `env` (plus PATH/HOME) and waits up to `timeoutMs` for /ping. Without a
 * PORT in `env` the server listens on port 0 and the address is read from its banner: a port picked here and
 * freed before the child binds it could be handed out again in between (the embedded PostgreSQL asks the
 * system for a free port at that very moment).
 */
export async function spawnAtrium(env: Record<string, string>, timeoutMs = 30_000, opts: SpawnOptions = {}): Promise<AtriumProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', opts.entry ?? 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', ATRIUM_LOG_LEVEL: 'warn', PORT: '0', ...env },
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => { out += d })
  child.stderr!.on('data', (d) => { err += d })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const deadline = Date.now() + timeoutMs
  let url: string | undefined
  for (;;) {
    if (child.exitCode !== null) throw new Error(`atrium exited with ${child.exitCode}: ${err}`)
    url ??= /listening on (http:\/\/\S+)/.exec(err)?.[1]
    try {
      if (url && (await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) })).ok) break
    } catch {
      /* not answering yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`atrium did not answer /ping within ${timeoutMs} ms: ${err}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    child,
    url,
    stdout: () => out,
    stderr: () => err,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal)
      return exited
    },
  }
}
