// An Atrium process for the outbox crash tests: it kills itself (SIGKILL, no clean-up) at the outbox's
// crash point named by CRASH_AT, so the test can prove what recovery does with what it left behind.
import { startAtrium } from '../../src/boot.js'
import { loadConfig } from '../../src/config/load.js'

const crashAt = process.env.CRASH_AT
await startAtrium(loadConfig(process.env), {
  banner: true,
  failpoint: (point) => {
    if (point === crashAt) process.kill(process.pid, 'SIGKILL')
  },
})
