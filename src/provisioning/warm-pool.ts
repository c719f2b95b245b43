// The warm pool: databases with their logins made ahead of demand, per region and engine
// (provisioning.warmPool), so a create takes a ready one instead of waiting for CREATE DATABASE. A create
// claims a ready row in its own transaction (SKIP LOCKED: concurrent creates take different ones); a job
// refills the pool after each claim and on a schedule.
import { randomBytes, randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { open, seal } from '../auth/secret-box.js'
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import type { JobQueue } from '../jobs/job-queue.js'
import type { Executor } from '../sources/driver.js'
import { withDatabaseLock } from './database-lock.js'
import { ENGINES, type Engine, type ManagedServer, type ManagedServers } from './managed-servers.js'
import { createAccount } from './server-accounts.js'

export const REFILL_JOB = 'database.warm-pool-refill'

export interface WarmPoolDeps {
  catalog: Catalog
  jobs: JobQueue
  servers: ManagedServers
  settings: Pick<Config['provisioning'], 'warmPool' | 'regions'>
  namePrefix: string
  secretKey: Buffer
  logger: Logger
}

/** a new database's generated names and password: lower-case, a valid client name, unique on the server */
export function generateAccount(namePrefix: string): { dbName: string; username: string; password: string } {
  const suffix = randomBytes(6).toString('hex')
  return { dbName: `${namePrefix}${suffix}`, username: `${namePrefix}u_${suffix}`, password: randomBytes(24).toString('base64url') }
}

export interface ClaimedDatabase {
  db_name: string
  db_username: string
  password_sealed: string
}

export class WarmPool {
  constructor(private readonly deps: WarmPoolDeps) {}

  async start(): Promise<void> {
    await this.deps.jobs.define(REFILL_JOB, () => this.refill(), { retryLimit: 0, expireIn: 600 })
    if (!this.servers().length) return
    await this.deps.jobs.schedule(REFILL_JOB, '* * * * *')
    await this.deps.jobs.send(REFILL_JOB)
  }

  /** the ready database a create in `tx` takes, if the pool has one (the caller asks for a refill after commit) */
  async claim(tx: Executor, region: string, engine: Engine): Promise<ClaimedDatabase | undefined> {
    if (this.target(region, engine) === 0) return undefined
    const res = await tx.query({
      sql: `DELETE FROM atrium.warm_databases WHERE id = (
              SELECT id FROM atrium.warm_databases WHERE region = $1 AND db_type = $2 AND ready ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING db_name, db_username, password_sealed`,
      params: [region, engine],
    })
    return res.rows[0] as unknown as ClaimedDatabase | undefined
  }

  /** asks a worker to top the pool up (after a claim commits) */
  async requestRefill(): Promise<void> {
    await this.deps.jobs.send(REFILL_JOB).catch((err: unknown) => this.deps.logger.warn({ err: (err as Error).message }, 'could not request a warm pool refill'))
  }

  /** tops up every (region, engine) to its target; one process at a time per pool */
  async refill(): Promise<{ made: number }> {
    let made = 0
    for (const server of this.servers()) {
      made += await withDatabaseLock(this.deps.catalog.url, `warm-pool:${server.region}/${server.engine}`, () => this.refillOne(server))
        .catch((err: unknown) => {
          this.deps.logger.warn({ region: server.region, engine: server.engine, err: (err as Error).message }, 'warm pool refill failed')
          return 0
        })
    }
    return { made }
  }

  private async refillOne(server: ManagedServer): Promise<number> {
    const target = this.target(server.region, server.engine)
    const rows = await this.deps.catalog.rows<{ id: string; db_name: string; db_username: string; password_sealed: string; ready: boolean }>(
      'SELECT id, db_name, db_username, password_sealed, ready FROM atrium.warm_databases WHERE region = $1 AND db_type = $2 ORDER BY created_at', [server.region, server.engine])
    let made = 0
    // rows an interrupted refill wrote but did not finish are finished first (createAccount is idempotent)
    for (const row of rows.filter((r) => !r.ready)) {
      await this.make(server, row.id, { dbName: row.db_name, username: row.db_username, password: open(this.deps.secretKey, row.password_sealed) })
      made++
    }
    for (let n = rows.length; n < target; n++) {
      const account = generateAccount(this.deps.namePrefix)
      const id = randomUUID()
      await this.deps.catalog.query({
        sql: 'INSERT INTO atrium.warm_databases (id, region, db_type, db_name, db_username, password_sealed, host, port) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        params: [id, server.region, server.engine, account.dbName, account.username, seal(this.deps.secretKey, account.password), server.host, server.port],
      })
      await this.make(server, id, account)
      made++
    }
    return made
  }

  private async make(server: ManagedServer, id: string, account: { dbName: string; username: string; password: string }): Promise<void> {
    await createAccount(server, { ...account, connectionLimit: null })
    await this.deps.catalog.query({ sql: 'UPDATE atrium.warm_databases SET ready = true WHERE id = $1', params: [id] })
  }

  private target(region: string, engine: Engine): number {
    return this.deps.settings.regions[region]?.warmPool?.[engine] ?? this.deps.settings.warmPool[engine]
  }

  private servers(): ManagedServer[] {
    const out: ManagedServer[] = []
    for (const engine of ENGINES) {
      for (const { code } of this.deps.servers.regionsOf(engine)) {
        const server = this.deps.servers.get(code, engine)
        if (server && this.target(code, engine) > 0) out.push(server)
      }
    }
    return out
  }
}
