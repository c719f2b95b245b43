// Bounded polling for tests that wait on another process or a database.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'

/** polls `probe` until it answers a value (bounded in count, no timing asserted) */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, tries = 600): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe()
    if (value !== undefined) return value
    await sleep(100)
  }
  assert.fail(`timed out waiting for ${what}`)
}

/** polls `ready` until it is true (bounded in count, no timing asserted) */
export async function untilTrue(what: string, ready: () => boolean | Promise<boolean>, tries = 300): Promise<void> {
  await until(what, async () => ((await ready()) ? true : undefined), tries)
}
