// Runs one test body against a fresh PostgreSQL database and a fresh MariaDB database.
import { test, type TestContext } from 'node:test'
import { createDatabase, DIALECTS, type TestDatabase } from './databases.js'

export function forEachDialect(name: string, fn: (t: TestContext, db: TestDatabase) => Promise<void>): void {
  for (const dialect of DIALECTS) {
    test(`${name} [${dialect}]`, async (t) => {
      const db = await createDatabase(t, dialect)
      await fn(t, db)
    })
  }
}
