// Builds src/ into dist/; with --if-stale (what `npm start` runs) skips the build when nothing changed since the last one.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const STAMP = 'dist/.build-stamp'
// tsc decides what it emits from these; a change to any of them (or a file added or removed under src/) rebuilds
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json']

function newestMtime(path) {
  const stat = statSync(path)
  // a directory's own mtime moves when an entry is added, removed or renamed
  if (!stat.isDirectory()) return stat.mtimeMs
  return readdirSync(path).reduce((max, entry) => Math.max(max, newestMtime(join(path, entry))), stat.mtimeMs)
}

function isFresh() {
  if (!existsSync(STAMP)) return false
  const built = statSync(STAMP).mtimeMs
  return INPUTS.every((input) => !existsSync(input) || newestMtime(input) <= built)
}

if (process.argv.includes('--if-stale') && isFresh()) {
  process.stdout.write('dist/ is newer than src/: skipping the build\n')
  process.exit(0)
}

// the stamp carries the time the build started, so an edit made while tsc runs still counts as newer
const startedAt = new Date()
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
if (result.status !== 0) process.exit(result.status ?? 1)
rmSync('dist/catalog/migrations', { recursive: true, force: true })
cpSync('src/catalog/migrations', 'dist/catalog/migrations', { recursive: true })
writeFileSync(STAMP, `${startedAt.toISOString()}\n`)
utimesSync(STAMP, startedAt, startedAt)
