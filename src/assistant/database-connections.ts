// Provisioned databases as Assistant connections: a database of the Databases API is named by its uuid and is
// reached by a signed-in user whose token's e-mail is a platform user in the database's team. Its source is the
// one the provisioning registered (client name = db_name). It has no allow_writes, so it is read-only; for
// everyone else it does not exist (the caller answers the same 404 as for an unknown connection).
import type { Executor } from '../sources/driver.js'

/** who asks: the session token's subject, its e-mail claim, and its claims (for email_verified) */
export interface ConnectionUser {
  sub: string
  email: string | null
  claims?: Readonly<Record<string, unknown>>
}

export interface DatabaseConnection {
  id: string
  name: string
  provider: 'postgres' | 'mysql'
  /** the client name of its source in the registry */
  client_name: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** the token's e-mail, unless the token itself says it is not verified */
function emailOf(user: ConnectionUser): string | null {
  if (!user.email || user.claims?.email_verified === false) return null
  return user.email
}

/** the active, not deleted database `id` of a team the user's e-mail belongs to, or undefined */
export async function findDatabaseConnection(db: Executor, user: ConnectionUser, id: string): Promise<DatabaseConnection | undefined> {
  const email = emailOf(user)
  if (!email || !UUID.test(id)) return undefined
  const res = await db.query({
    sql: `SELECT d.id, d.name, d.db_type AS provider, d.db_name AS client_name
            FROM atrium.managed_databases d
           WHERE d.id = $1::uuid AND d.status = 'active' AND d.deleted_at IS NULL
             AND EXISTS (SELECT 1 FROM atrium.platform_team_members m JOIN atrium.platform_users u ON u.id = m.user_id
                          WHERE m.team_id = d.team_id AND lower(u.email) = lower($2))`,
    params: [id, email],
  })
  return res.rows[0] as unknown as DatabaseConnection | undefined
}
