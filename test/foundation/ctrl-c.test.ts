import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

// Ctrl-C in a terminal signals the whole foreground process group: Atrium and the embedded PostgreSQL it
// spawned get SIGINT together, so the server may drop Atrium's connections before Atrium starts closing.
test('Ctrl-C (SIGINT to the process group) stops Atrium and the embedded PostgreSQL with exit 0 and no warnings', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'atrium-ctrl-c-'))
  chmodSync(dataDir, 0o711)
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', PORT: '0', ATRIUM_DATA_DIR: dataDir, ATRIUM_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // a process group of its own, as a terminal gives a foreground job
    detached: true,
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => { stdout += d })
  child.stderr!.on('data', (d) => { stderr += d })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.after(() => { if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL') })

  const deadline = Date.now() + 60_000
  let url: string | undefined
  while (!url) {
    assert.ok(Date.now() < deadline && child.exitCode === null, `atrium did not start: ${stderr}`)
    const listening = /listening on (http:\/\/\S+)/.exec(stderr)?.[1]
    if (listening && (await fetch(`${listening}/ping`).then((r) => r.ok, () => false))) url = listening
    else await new Promise((r) => setTimeout(r, 200))
  }
  // idle pooled connections on the catalog, the job queue and the default source, as after any use
  assert.equal((await fetch(`${url}/health`)).status, 200)

  process.kill(-child.pid!, 'SIGINT')
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000).unref())])
  assert.equal(code, 0, `exit code; stdout: ${stdout}`)
  assert.equal(stdout.trim(), '', 'no warning or error lines on the way out')
  assert.ok(!existsSync(join(dataDir, 'pg', 'postmaster.pid')), 'the embedded PostgreSQL stopped')
})
