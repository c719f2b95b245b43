// Runs one group of test files (unit | api | all) with node's test runner; further arguments go to node
// (e.g. --experimental-test-coverage). `npm test`, `test:unit`, `test:api` and `coverage` all come through here.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

// Start or reach no database (no PostgreSQL, MariaDB, Redis, nor the embedded server): pure functions,
// documentation checks, and start-up refusals that end before anything connects. Everything else (real
// servers over real HTTP) is `api`; a new file lands there until it is added here.
const UNIT = new Set([
  'test/auth/mask-url.test.ts',
  'test/data/raw-sql-gate.test.ts',
  'test/docs/configuration-doc.test.ts',
  'test/docs/errors-doc.test.ts',
  'test/docs/rights-doc.test.ts',
  'test/foundation/config.test.ts',
  'test/foundation/embedded-version.test.ts',
  'test/foundation/format-ms.test.ts',
  'test/http/family-scopes.test.ts',
  'test/mcp/route-answer.test.ts',
  'test/pipelines/definition.test.ts',
  'test/pipelines/expression.test.ts',
  'test/query/json-member.test.ts',
  'test/query/plan-steps.test.ts',
  'test/query/postgrest-request.test.ts',
  'test/query/postgrest-roundtrip.test.ts',
  'test/realtime/row-filter.test.ts',
  'test/realtime/change-events.test.ts',
  'test/sources/is-catalog-database.test.ts',
  'test/sql/classify-postgres.test.ts',
  'test/warehouse/avro-schema.test.ts',
  'test/warehouse/import-checks.test.ts',
])

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return testFiles(path)
    return entry.name.endsWith('.test.ts') ? [path.split('\\').join('/')] : []
  })
}

const [group = 'all', ...nodeArgs] = process.argv.slice(2)
const all = testFiles('test').sort()
const missing = [...UNIT].filter((file) => !all.includes(file))
if (missing.length) {
  process.stderr.write(`scripts/run-tests.mjs lists unit tests that do not exist: ${missing.join(', ')}\n`)
  process.exit(1)
}
const pick = { all: () => all, unit: () => all.filter((f) => UNIT.has(f)), api: () => all.filter((f) => !UNIT.has(f)) }[group]
if (!pick) {
  process.stderr.write('usage: node scripts/run-tests.mjs unit|api|all [node options]\n')
  process.exit(2)
}
// the machine is shared with the services the tests talk to: two files at a time
const args = ['--import', 'tsx', ...nodeArgs, '--test', '--test-concurrency=2', '--test-timeout=300000', ...pick()]
const result = spawnSync(process.execPath, args, { stdio: 'inherit' })
process.exit(result.status ?? 1)
