// The backup workload: MB/s of a dump and a restore of a 100k-row PostgreSQL database through Atrium's
// /admin/backups (a queued job, the archive streamed through a sha256 into the object store; the restore
// verifies the checksum first) against pg_dump and pg_restore run by hand on the same database.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { PG_ADMIN, pgUrl } from './fixture.js'

export const BACKUP_DB = 'atrium_bench_backup'
export const RESTORE_DB = 'atrium_bench_backup_tgt'
const ROWS = 100_000

/** the source database with 100k rows (reused while it has them) and an empty restore target */
export async function prepareBackupDatabases(): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_ADMIN })
  await admin.connect()
  try {
    const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [BACKUP_DB])).rows.length > 0
    let ready = false
    if (exists) {
      const c = new pg.Client({ connectionString: pgUrl(BACKUP_DB) })
      await c.connect()
      ready = await c.query('SELECT count(*)::int AS n FROM items').then((r) => r.rows[0].n === ROWS, () => false)
      await c.end()
    }
    if (!ready) {
      await admin.query(`DROP DATABASE IF EXISTS ${BACKUP_DB} WITH (FORCE)`)
      await admin.query(`CREATE DATABASE ${BACKUP_DB}`)
      const c = new pg.Client({ connectionString: pgUrl(BACKUP_DB) })
      await c.connect()
      await c.query(`CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, category text NOT NULL, price numeric(10, 2),
        in_stock boolean, meta jsonb, created_at timestamptz NOT NULL)`)
      await c.query(`INSERT INTO items SELECT g, 'item ' || g, 'category ' || (g % 20), (g % 1000) / 7.0, g % 3 <> 0,
        jsonb_build_object('n', g, 'tags', jsonb_build_array('a', 'b', g % 7)), timestamptz '2024-01-01' + g * interval '1 minute'
        FROM generate_series(1, ${ROWS}) g`)
      await c.query('CREATE INDEX items_category ON items (category)')
      await c.end()
    }
    await admin.query(`DROP DATABASE IF EXISTS ${RESTORE_DB} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${RESTORE_DB}`)
  } finally {
    await admin.end()
  }
}

async function emptyTarget(): Promise<void> {
  const c = new pg.Client({ connectionString: pgUrl(RESTORE_DB) })
  await c.connect()
  await c.query('DROP TABLE IF EXISTS items')
  await c.end()
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] })
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}`))))
  })
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await work()
  return (performance.now() - t0) / 1000
}

async function call(base: string, adminKey: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${path}`, { method, headers: { apikey: adminKey, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined })
  const json = await res.json()
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

/** queues through the API and polls the job (every 20 ms, at most 10 minutes) until it has finished */
async function viaAtrium(base: string, adminKey: string, path: string, body: unknown): Promise<any> {
  const queued = await call(base, adminKey, 'POST', path, body)
  for (let i = 0; i < 30_000; i++) {
    const job = await call(base, adminKey, 'GET', `/admin/backups/jobs/${queued.job_id}`)
    if (job.status === 'succeeded') return job
    if (job.status === 'failed' || job.status === 'cancelled') throw new Error(`backup job ${job.id} ${job.status}: ${job.error_message}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`backup job ${queued.job_id} did not finish`)
}

export interface BackupFigures {
  rows: number
  archiveMb: number
  dumpMbPerSec: { atrium: number; byHand: number; ratio: number }
  restoreMbPerSec: { atrium: number; byHand: number; ratio: number }
  rounds: Array<{ atriumDumpS: number; handDumpS: number; atriumRestoreS: number; handRestoreS: number }>
}

/** `clients`: the names Atrium knows the two databases by */
export async function backupWorkload(o: { base: string; adminKey: string; rounds: number; clients: { source: string; target: string } }): Promise<BackupFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'atrium-bench-backup-'))
  const archive = join(dir, 'items.dump')
  const rounds: BackupFigures['rounds'] = []
  let mb = 0
  try {
    // a warm-up backup: the first job of a kind and the first connections to the client are not what is measured
    const warm = await viaAtrium(o.base, o.adminKey, '/admin/backups', { client_name: o.clients.source })
    await call(o.base, o.adminKey, 'DELETE', `/admin/backups/${encodeURIComponent(warm.key)}`)
    for (let round = 0; round < o.rounds; round++) {
      const handDumpS = await timed(() => run('pg_dump', ['--format=custom', `--dbname=${pgUrl(BACKUP_DB)}`, `--file=${archive}`]))
      mb = statSync(archive).size / 1048576
      await emptyTarget()
      const handRestoreS = await timed(() => run('pg_restore', ['--clean', '--if-exists', '--no-owner', '--no-privileges', '--single-transaction', '--exit-on-error', `--dbname=${pgUrl(RESTORE_DB)}`, archive]))
      let key = ''
      const atriumDumpS = await timed(async () => { key = (await viaAtrium(o.base, o.adminKey, '/admin/backups', { client_name: o.clients.source })).key })
      await emptyTarget()
      const atriumRestoreS = await timed(() => viaAtrium(o.base, o.adminKey, `/admin/backups/${encodeURIComponent(key)}/restore`, { client_name: o.clients.target }))
      await call(o.base, o.adminKey, 'DELETE', `/admin/backups/${encodeURIComponent(key)}`)
      rounds.push({ atriumDumpS, handDumpS, atriumRestoreS, handRestoreS })
      console.log(`  backup    round ${round + 1}: dump ${atriumDumpS.toFixed(2)} s via Atrium, ${handDumpS.toFixed(2)} s by hand; restore ${atriumRestoreS.toFixed(2)} s via Atrium, ${handRestoreS.toFixed(2)} s by hand (${mb.toFixed(1)} MB archive)`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const rate = (seconds: number[]) => +(mb / median(seconds)).toFixed(2)
  const pair = (atrium: number, byHand: number) => ({ atrium, byHand, ratio: +(atrium / byHand).toFixed(2) })
  const figures: BackupFigures = {
    rows: ROWS,
    archiveMb: +mb.toFixed(2),
    dumpMbPerSec: pair(rate(rounds.map((r) => r.atriumDumpS)), rate(rounds.map((r) => r.handDumpS))),
    restoreMbPerSec: pair(rate(rounds.map((r) => r.atriumRestoreS)), rate(rounds.map((r) => r.handRestoreS))),
    rounds: rounds.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, +v.toFixed(3)])) as BackupFigures['rounds'][number]),
  }
  console.log(`  backup    ${ROWS} rows, ${figures.archiveMb} MB: dump ${figures.dumpMbPerSec.atrium} MB/s via Atrium vs ${figures.dumpMbPerSec.byHand} MB/s by hand (${figures.dumpMbPerSec.ratio}x); restore ${figures.restoreMbPerSec.atrium} vs ${figures.restoreMbPerSec.byHand} MB/s (${figures.restoreMbPerSec.ratio}x)`)
  return figures
}
