// The storage workload of `npm run bench`: 1 MB objects uploaded and downloaded through signed URLs (ask
// /storage/objects/upload-url, PUT the bytes; ask /storage/objects/url, GET them), against two baselines: a
// hand-written HTTP server that streams a PUT body to a file and serves it back on GET (the baseline server's
// /objects/:key), and writing and reading the same bytes straight to files in the same data directory.
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface StorageBenchOptions {
  base: string
  /** the baseline server (bench/baseline-server.ts, started with STORAGE_DIR) */
  baseline: string
  /** the two servers' processes, whose CPU time per object is reported beside the MB/s */
  atriumPid: number
  baselinePid: number
  apiKey: string
  client: string
  /** where the server's filesystem store lives (the baseline writes beside it) */
  dataDir: string
  /** objects per run; each run also stops after maxSeconds */
  objects: number
  concurrency: number
  maxSeconds: number
}

const MB = 1024 * 1024
/** the baseline server's directory of objects, inside the bench data directory */
export const BASELINE_OBJECTS = 'bench-baseline-objects'

/**
 * CPU time (user + system, all threads) a process has used, in ms, from /proc; undefined where there is none.
 * On a shared machine MB/s moves with the neighbours' load; CPU time per object moves much less.
 */
export function cpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10 // clock ticks of 10 ms
  } catch {
    return undefined
  }
}

/** `timed`, and the CPU ms per object `pid` spent meanwhile */
async function measured(pid: number, count: number, concurrency: number, maxSeconds: number, task: (i: number) => Promise<void>) {
  const before = cpuMs(pid)
  const run = await timed(count, concurrency, maxSeconds, task)
  const after = cpuMs(pid)
  return { ...run, cpuMsPerObject: before === undefined || after === undefined || !run.done ? undefined : +((after - before) / run.done).toFixed(2) }
}

/** runs `task(i)` for i < count, `concurrency` at a time, stopping early once `maxSeconds` have passed; returns how many ran and the seconds */
async function timed(count: number, concurrency: number, maxSeconds: number, task: (i: number) => Promise<void>) {
  const t0 = performance.now()
  const deadline = t0 + maxSeconds * 1000
  let next = 0
  let done = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count && performance.now() < deadline) {
      await task(next++)
      done++
    }
  }))
  return { done, seconds: (performance.now() - t0) / 1000 }
}

async function call(opts: StorageBenchOptions, path: string, body: Record<string, unknown>) {
  const res = await fetch(`${opts.base}${path}`, {
    method: 'POST',
    headers: { apikey: opts.apiKey, 'x-athena-client': opts.client, 'content-type': 'application/json' },
    body: JSON.stringify({ s3_id: 'default', bucket: 'bench', ...body }),
  })
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { data: { url: string; headers?: Record<string, string> } }).data
}

export async function storageWorkload(opts: StorageBenchOptions) {
  const data = randomBytes(MB)
  await call(opts, '/storage/buckets/create', {}).catch(() => undefined) // exists from an earlier run
  const upload = await measured(opts.atriumPid, opts.objects, opts.concurrency, opts.maxSeconds, async (i) => {
    const signed = await call(opts, '/storage/objects/upload-url', { key: `obj-${i}` })
    const res = await fetch(signed.url, { method: 'PUT', body: data, headers: signed.headers })
    if (!res.ok) throw new Error(`signed PUT: ${res.status}`)
  })
  const download = await measured(opts.atriumPid, upload.done, opts.concurrency, opts.maxSeconds, async (i) => {
    const signed = await call(opts, '/storage/objects/url', { key: `obj-${i}` })
    const res = await fetch(signed.url)
    if ((await res.arrayBuffer()).byteLength !== MB) throw new Error('signed GET returned the wrong size')
  })
  await call(opts, '/storage/buckets/delete', { force: true })

  // the server baseline: the same client loop and concurrency, one PUT and one GET per object, no signing step
  const serverPut = await measured(opts.baselinePid, opts.objects, opts.concurrency, opts.maxSeconds, async (i) => {
    const res = await fetch(`${opts.baseline}/objects/obj-${i}`, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } })
    if (!res.ok) throw new Error(`baseline PUT: ${res.status}`)
  })
  const serverGet = await measured(opts.baselinePid, serverPut.done, opts.concurrency, opts.maxSeconds, async (i) => {
    const res = await fetch(`${opts.baseline}/objects/obj-${i}`)
    if ((await res.arrayBuffer()).byteLength !== MB) throw new Error('baseline GET returned the wrong size')
  })

  // the baseline: the same bytes, written and read as files on the same disk, at the same concurrency
  const dir = join(opts.dataDir, 'bench-direct')
  mkdirSync(dir, { recursive: true })
  try {
    const write = await timed(opts.objects, opts.concurrency, opts.maxSeconds, (i) => writeFile(join(dir, `obj-${i}`), data))
    const read = await timed(write.done, opts.concurrency, opts.maxSeconds, async (i) => { await readFile(join(dir, `obj-${i}`)) })
    const mbps = (r: { done: number; seconds: number }) => +(r.done / r.seconds).toFixed(1)
    const figures = {
      objectBytes: MB,
      concurrency: opts.concurrency,
      uploadMbPerSec: mbps(upload),
      downloadMbPerSec: mbps(download),
      /** server CPU ms per 1 MB object, signing request included for Atrium */
      uploadCpuMs: upload.cpuMsPerObject,
      downloadCpuMs: download.cpuMsPerObject,
      serverPutCpuMs: serverPut.cpuMsPerObject,
      serverGetCpuMs: serverGet.cpuMsPerObject,
      serverPutMbPerSec: mbps(serverPut),
      serverGetMbPerSec: mbps(serverGet),
      directWriteMbPerSec: mbps(write),
      directReadMbPerSec: mbps(read),
      /** Atrium ÷ the hand-written server: the cost of Atrium's own path */
      uploadRatioToServer: +(mbps(upload) / mbps(serverPut)).toFixed(2),
      downloadRatioToServer: +(mbps(download) / mbps(serverGet)).toFixed(2),
      /** Atrium ÷ direct file I/O: how much of the disk's speed survives HTTP at all */
      uploadRatio: +(mbps(upload) / mbps(write)).toFixed(2),
      downloadRatio: +(mbps(download) / mbps(read)).toFixed(2),
    }
    console.log(`  storage   1 MB objects, c=${opts.concurrency}: upload ${figures.uploadMbPerSec} MB/s (${figures.uploadRatioToServer}x a hand-written server at ${figures.serverPutMbPerSec} MB/s; ${figures.uploadRatio}x direct writes at ${figures.directWriteMbPerSec} MB/s)`)
    console.log(`  storage   1 MB objects, c=${opts.concurrency}: download ${figures.downloadMbPerSec} MB/s (${figures.downloadRatioToServer}x a hand-written server at ${figures.serverGetMbPerSec} MB/s; ${figures.downloadRatio}x direct reads at ${figures.directReadMbPerSec} MB/s)`)
    console.log(`  storage   server CPU per object: upload ${figures.uploadCpuMs} ms (hand-written server ${figures.serverPutCpuMs} ms), download ${figures.downloadCpuMs} ms (${figures.serverGetCpuMs} ms)`)
    return figures
  } finally {
    rmSync(dir, { recursive: true, force: true })
    rmSync(join(opts.dataDir, BASELINE_OBJECTS), { recursive: true, force: true })
  }
}
