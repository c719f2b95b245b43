// Runs the dump and restore programs (pg_dump, pg_restore, mariadb-dump, mariadb) as child processes: their
// versions, and a run with an arguments array and an environment. Passwords travel in the environment only,
// never on the command line (where `ps` shows them) and never in a message or log.
import { spawn, type ChildProcess } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import { AppError } from '../errors/app-error.js'

export interface Tool {
  /** what the program is called in messages, e.g. pg_dump */
  name: string
  /** the path or command to run */
  path: string
  /** the setting that sets `path`, named when the program is missing */
  setting: string
}

const VERSION_TIMEOUT_MS = 10_000
/** the last bytes of stderr kept for the error message */
const STDERR_TAIL = 2_000

/**
 * The first line of `<tool> --version`, e.g. "pg_dump (PostgreSQL) 15.20 (Debian …)". A program that cannot be
 * run is 422 backup_tool_missing, naming the setting that points at it.
 */
export async function toolVersion(tool: Tool): Promise<string> {
  const run = runTool(tool, ['--version'], {})
  let out = ''
  run.stdout.setEncoding('utf8')
  run.stdout.on('data', (chunk: string) => { if (out.length < 4_000) out += chunk })
  const timer = setTimeout(() => run.child.kill('SIGKILL'), VERSION_TIMEOUT_MS)
  try {
    await run.done
  } catch (err) {
    if (err instanceof AppError && err.code === 'backup_tool_missing') throw err
    throw missing(tool, `"${tool.path} --version" failed: ${(err as Error).message}`)
  } finally {
    clearTimeout(timer)
  }
  const line = out.split('\n')[0]?.trim() ?? ''
  if (!line) throw missing(tool, `"${tool.path} --version" printed nothing`)
  return line
}

/** the major version in a --version line or a server version (15.20 → 15, 9.6.24 → 9.6 as 9) */
export function majorVersion(text: string): number | undefined {
  const m = /(\d+)(?:\.(\d+))?/.exec(text.replace(/^[^\d]*?\)\s*/, ''))
  return m ? Number(m[1]) : undefined
}

export interface ToolRun {
  child: ChildProcess
  stdout: Readable
  stdin: Writable
  /** resolves when the program exits with status 0; else rejects with 500 backup_failed and its stderr */
  done: Promise<void>
}

export interface RunOptions {
  env?: Record<string, string>
  /** aborting kills the program */
  signal?: AbortSignal
}

/** starts `tool` with `args` (never through a shell) */
export function runTool(tool: Tool, args: string[], opts: RunOptions): ToolRun {
  const child = spawn(tool.path, args, {
    // only what the programs need from Atrium's environment: none of its own secrets
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    signal: opts.signal,
    killSignal: 'SIGKILL',
  })
  let stderr = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-STDERR_TAIL) })
  // a program that exits before reading all of its input closes the pipe: that is reported by its exit status
  child.stdin!.on('error', () => {})
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EACCES') reject(missing(tool, `"${tool.path}" cannot be run (${err.code})`))
      else if (err.name === 'AbortError') reject(opts.signal?.reason ?? err)
      else reject(err)
    })
    child.once('close', (code, sig) => {
      if (opts.signal?.aborted) return reject(opts.signal.reason)
      if (code === 0) return resolve()
      const why = stderr.trim() || `exit status ${code ?? sig}`
      reject(new AppError('backup_failed', `${tool.name} failed: ${why}`))
    })
  })
  // the caller may never await `done` when a stream fails first
  done.catch(() => {})
  return { child, stdout: child.stdout!, stdin: child.stdin!, done }
}

function missing(tool: Tool, why: string): AppError {
  return new AppError('backup_tool_missing', `${tool.name} is needed but ${why}`, {
    hint: `install ${tool.name}, or point the setting ${tool.setting} at it`,
    data: { tool: tool.name, setting: tool.setting },
  })
}
