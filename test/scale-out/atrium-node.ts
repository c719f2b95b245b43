// One Atrium node for the scale-out test: a real server (configured by its environment) that prints what
// its event subscribers receive and what its job workers run, and enqueues a job when told on stdin.
//   stdout: EVENT <json>, RAN <job id>, ENQUEUED <job id>
//   stdin:  ENQUEUE
import { createInterface } from 'node:readline'
import { startAtrium } from '../../src/boot.js'
import { loadConfig } from '../../src/config/load.js'

const atrium = await startAtrium(loadConfig(process.env), { banner: true })
const { outbox, jobs } = atrium.platform
const say = (line: string) => process.stdout.write(`${line}\n`)

outbox.subscribe('*', (event) => say(`EVENT ${JSON.stringify({ id: event.id, type: event.type, name: event.payload.name ?? null })}`))
await jobs.define('scale-out-probe', async (_data, ctx) => { say(`RAN ${ctx.jobId}`) })

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'ENQUEUE') return
  jobs.enqueue('scale-out-probe').then((id) => say(`ENQUEUED ${id}`), (err: Error) => say(`ERROR ${err.message}`))
})
process.on('SIGTERM', () => { void atrium.close().then(() => process.exit(0), () => process.exit(1)) })
