// Spawns Atrium as its own process (as `npm start` would) and waits for it to answer /ping.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

export interface AtriumProcess {
  child: ChildProcess
  url: string
  stdout(): string
  stderr(): string
  /** sends SIGTERM and resolves with the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** starts `src/main.ts` with exactly `env` (plus PATH/HOME) and waits up to `timeoutMs` for /ping */
export async function spawnAtrium(env: Record<string, string>, timeoutMs = 30_000): Promise<AtriumProcess> {
  const port = env.PORT ?? String(await freePort())
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', ATRIUM_LOG_LEVEL: 'warn', ...env, PORT: port },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => { out += d })
  child.stderr!.on('data', (d) => { err += d })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`atrium exited with ${child.exitCode}: ${err}`)
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) })
      if (res.ok) break
    } catch {
      /* not listening yet */
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
