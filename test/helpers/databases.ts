// Fresh, uniquely named databases on the local PostgreSQL and MariaDB for one test file, dropped afterwards.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { TestContext } from 'node:test'
import mysql from 'mysql2/promise'
import pg from 'pg'

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const MYSQL_ADMIN_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/'

export type DialectName = 'postgres' | 'mysql'

export interface TestDatabase {
  dialect: DialectName
  name: string
  url: string
  /** runs SQL directly on the database (fixtures, assertions), bypassing Atrium */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>
  /** loads test/fixtures/<fixture>.<dialect>.sql */
  load(fixture: string): Promise<void>
  drop(): Promise<void>
}

type Hooks = Pick<TestContext, 'after'> | { after(fn: () => Promise<void>): void }

const uniqueName = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const fixtureText = (fixture: string, dialect: DialectName) => readFileSync(new URL(`../fixtures/${fixture}.${dialect}.sql`, import.meta.url), 'utf8')

export async function createPgDatabase(t: Hooks | null, prefix = 'atrium_test'): Promise<TestDatabase> {
  const name = uniqueName(prefix)
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE "${name}"`)
  await admin.end()
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`)
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  // pool.end() resolves once it has asked its connections to close, not once they have: the DROP ... WITH
  // (FORCE) below can still terminate one, and pg-pool re-emits that FATAL as a pool 'error', which without a
  // listener is an uncaught exception in whichever test runs next.
  pool.on('error', () => {})
  const db: TestDatabase = {
    dialect: 'postgres',
    name,
    url,
    query: async (sql, params) => (await pool.query(sql, params as unknown[])).rows,
    load: async (fixture) => { await pool.query(fixtureText(fixture, 'postgres')) },
    drop: async () => {
      await pool.end()
      const c = new pg.Client({ connectionString: PG_ADMIN_URL })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      await c.end()
    },
  }
  t?.after(() => db.drop())
  return db
}

export async function createMysqlDatabase(t: Hooks | null, prefix = 'atrium_test'): Promise<TestDatabase> {
  const name = uniqueName(prefix)
  const admin = await mysql.createConnection({ uri: MYSQL_ADMIN_URL })
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`)
  await admin.end()
  const url = `${MYSQL_ADMIN_URL.replace(/\/$/, '')}/${name}`
  const pool = mysql.createPool({ uri: url, connectionLimit: 2, multipleStatements: true, timezone: 'Z' })
  const db: TestDatabase = {
    dialect: 'mysql',
    name,
    url,
    query: async (sql, params) => {
      const [rows] = await pool.query(sql, params)
      return (Array.isArray(rows) ? rows : []) as never
    },
    load: async (fixture) => { await pool.query(fixtureText(fixture, 'mysql')) },
    drop: async () => {
      await pool.end()
      const c = await mysql.createConnection({ uri: MYSQL_ADMIN_URL })
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``)
      await c.end()
    },
  }
  t?.after(() => db.drop())
  return db
}

export function createDatabase(t: Hooks | null, dialect: DialectName, prefix?: string): Promise<TestDatabase> {
  return dialect === 'postgres' ? createPgDatabase(t, prefix) : createMysqlDatabase(t, prefix)
}

export const DIALECTS: DialectName[] = ['postgres', 'mysql']
