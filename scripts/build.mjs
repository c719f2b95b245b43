// Builds src/ into dist/ (tsc) and the web console, console/, into dist/console (Vite). With --if-stale (what
// `npm start` and the console tests run) a part is built only when its inputs changed since its last build;
// --console builds the console only.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

function newestMtime(path) {
  const stat = statSync(path)
  // a directory's own mtime moves when an entry is added, removed or renamed
  if (!stat.isDirectory()) return stat.mtimeMs
  return readdirSync(path).reduce((max, entry) => Math.max(max, newestMtime(join(path, entry))), stat.mtimeMs)
}

function isFresh({ stamp, inputs }) {
  if (!existsSync(stamp)) return false
  const built = statSync(stamp).mtimeMs
  return inputs.every((input) => !existsSync(input) || newestMtime(input) <= built)
}

// the stamp carries the time the build started, so an edit made while it runs still counts as newer
function writeStamp(stamp, startedAt) {
  writeFileSync(stamp, `${startedAt.toISOString()}\n`)
  utimesSync(stamp, startedAt, startedAt)
}

const server = {
  name: 'dist/',
  stamp: 'dist/.build-stamp',
  // tsc decides what it emits from these; a change to any of them (or a file added or removed under src/) rebuilds
  inputs: ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'],
  async build() {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
    if (result.status !== 0) process.exit(result.status ?? 1)
    rmSync('dist/catalog/migrations', { recursive: true, force: true })
    cpSync('src/catalog/migrations', 'dist/catalog/migrations', { recursive: true })
  },
}

const webConsole = {
  name: 'dist/console/',
  // inside the output folder, which Vite empties: a failed build leaves no stamp
  stamp: 'dist/console/.build-stamp',
  inputs: ['console', 'package.json'],
  async build() {
    // Vite is a devDependency: an install without them (npm ci --omit=dev) serves the 503 page instead
    let vite
    try {
      vite = await import('vite')
    } catch {
      process.stdout.write('vite is not installed (dev dependencies omitted): the console is not built; /console answers 503\n')
      return false
    }
    await vite.build({ configFile: 'console/vite.config.ts' })
  },
}

// Test files run two at a time and each makes sure the console is built: one build at a time, and a build that
// waited finds the other's result fresh. A lock left by a killed build is taken over after two minutes.
const LOCK = 'dist/.build-lock'
async function withLock(fn) {
  mkdirSync('dist', { recursive: true })
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(LOCK)
      break
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now())
      if (age > 120_000) rmSync(LOCK, { recursive: true, force: true })
      else if (waited > 300_000) throw new Error(`${LOCK} is held by another build for too long`)
      else await sleep(200)
    }
  }
  // released on process.exit too (a failed tsc exits from inside the build)
  const release = () => rmSync(LOCK, { recursive: true, force: true })
  process.on('exit', release)
  try {
    return await fn()
  } finally {
    release()
  }
}

const onlyConsole = process.argv.includes('--console')
const ifStale = process.argv.includes('--if-stale')
await withLock(async () => {
  for (const part of onlyConsole ? [webConsole] : [server, webConsole]) {
    if (ifStale && isFresh(part)) {
      process.stdout.write(`${part.name} is newer than its sources: skipping its build\n`)
      continue
    }
    const startedAt = new Date()
    if ((await part.build()) === false) continue
    writeStamp(part.stamp, startedAt)
  }
})
