#!/usr/bin/env node
// The `atrium` command: start the server or run catalog migrations alone.
import { openCatalog } from '../boot.js'
import { ConfigError, loadConfig } from '../config/load.js'
import { main } from '../main.js'
import { createLogger } from '../observability/logger.js'

const USAGE = `usage: atrium <command>

commands:
  start     run the server (same as npm start)
  migrate   apply pending catalog migrations and exit
`

async function migrate(): Promise<void> {
  const config = loadConfig(process.env)
  const logger = createLogger(config.server.logLevel)
  const { catalog, embedded } = await openCatalog(config, logger)
  await catalog.close()
  await embedded?.stop()
  process.stdout.write('catalog migrations are up to date\n')
}

const command = process.argv[2]
try {
  if (command === 'start') await main()
  else if (command === 'migrate') await migrate()
  else {
    process.stdout.write(USAGE)
    process.exitCode = command === undefined || command === 'help' || command === '--help' ? 0 : 2
  }
} catch (err) {
  process.stderr.write(`atrium: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`)
  process.exitCode = err instanceof ConfigError ? 2 : 1
}
