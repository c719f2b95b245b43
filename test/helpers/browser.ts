// The console's browser tests: the console built (when missing or stale), Debian's chromium driven by
// playwright-core, and a screenshot kept for every failing step.
import { spawnSync } from 'node:child_process'
import { accessSync, constants, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { TestContext } from 'node:test'
import { chromium, type Browser, type Page } from 'playwright-core'

const CHROMIUM_PATHS = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p)
export const SCREENSHOTS = resolve('test-results/console')

/** builds the console unless dist/console is newer than console/ (a fresh clone builds it once, in seconds) */
export function ensureConsoleBuilt(): void {
  const out = spawnSync(process.execPath, ['scripts/build.mjs', '--console', '--if-stale'], { encoding: 'utf8' })
  if (out.status !== 0) throw new Error(`building the console failed:\n${out.stdout}\n${out.stderr}`)
}

function findChromium(): string | undefined {
  return CHROMIUM_PATHS.find((p) => { try { accessSync(p, constants.X_OK); return true } catch { return false } })
}

/**
 * A headless chromium closed after the tests; undefined (and the test skipped, saying why) when there is none
 * outside CI. In CI a missing chromium fails: .ci/run installs it, so its absence is a broken machine.
 */
export async function launchBrowser(t: TestContext): Promise<Browser | undefined> {
  const executablePath = findChromium()
  if (!executablePath) {
    const why = `no chromium found (looked at ${CHROMIUM_PATHS.join(', ')}); install it with apt-get install chromium, or set CHROMIUM_PATH`
    if (process.env.CI) throw new Error(why)
    t.skip(why)
    return undefined
  }
  // playwright gives each launch a fresh profile of its own (and refuses --user-data-dir here)
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  })
  t.after(() => browser.close())
  return browser
}

/** runs a step of a browser test; when it fails, the page's screenshot is kept and its path printed */
export async function step(page: Page, name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn()
  } catch (err) {
    mkdirSync(SCREENSHOTS, { recursive: true })
    const path = join(SCREENSHOTS, `${name.replace(/[^\w-]+/g, '-')}-${Date.now()}.png`)
    await page.screenshot({ path, fullPage: true }).catch(() => {})
    process.stderr.write(`console test "${name}" failed; screenshot: ${path}\n`)
    throw err
  }
}
