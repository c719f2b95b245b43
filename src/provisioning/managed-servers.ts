// The servers databases are created on: one PostgreSQL and one MySQL/MariaDB admin URL per region, from
// configuration. Region `local` is always present; its PostgreSQL is the catalog's server unless configured.
import type { Config } from '../config/schema.js'

export const ENGINES = ['postgres', 'mysql'] as const
export type Engine = (typeof ENGINES)[number]

export const LOCAL_REGION = 'local'

export interface ManagedServer {
  region: string
  engine: Engine
  /** a role that may create databases and roles (users) on the server; never shown */
  adminUrl: string
  /** what connection strings name: the server's host and port as the admin URL reaches them */
  host: string
  port: number
}

export interface RegionInfo {
  code: string
  label: string
}

const DEFAULT_PORTS: Record<Engine, number> = { postgres: 5432, mysql: 3306 }
const LABELS: Record<Engine, string> = { postgres: 'PostgreSQL', mysql: 'MySQL' }

export class ManagedServers {
  private readonly servers = new Map<string, ManagedServer>()
  private readonly labels = new Map<string, string>()

  constructor(settings: Config['provisioning'], catalogUrl: string) {
    this.addRegion(LOCAL_REGION, 'Local', { postgres: settings.postgresUrl ?? catalogUrl, mysql: settings.mysqlUrl })
    for (const [code, region] of Object.entries(settings.regions)) {
      this.addRegion(code, region.label ?? code, { postgres: region.postgresUrl, mysql: region.mysqlUrl })
    }
  }

  /** the server of an engine in a region, if one is configured */
  get(region: string, engine: Engine): ManagedServer | undefined {
    return this.servers.get(`${region}/${engine}`)
  }

  /** the regions where an engine has a server */
  regionsOf(engine: Engine): RegionInfo[] {
    return [...this.servers.values()].filter((s) => s.engine === engine).map((s) => ({ code: s.region, label: this.labels.get(s.region) ?? s.region }))
  }

  label(engine: Engine): string {
    return LABELS[engine]
  }

  private addRegion(code: string, label: string, urls: Partial<Record<Engine, string>>): void {
    this.labels.set(code, label)
    for (const engine of ENGINES) {
      const url = urls[engine]
      if (!url) continue
      const parsed = new URL(url)
      this.servers.set(`${code}/${engine}`, { region: code, engine, adminUrl: url, host: parsed.hostname, port: Number(parsed.port) || DEFAULT_PORTS[engine] })
    }
  }
}
