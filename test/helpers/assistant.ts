// Session tokens and requests for the Assistant API (/api): HS256 JWTs signed with the test secret.
import { SignJWT } from 'jose'
import type { TestAtrium, TestResponse } from './atrium.js'

export const JWT_SECRET = 'assistant-test-jwt-secret-0123456789abcdef'

export function sessionToken(sub: string, email = `${sub}@example.test`): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ sub, email, role: 'authenticated' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt(now).setExpirationTime(now + 600).sign(new TextEncoder().encode(JWT_SECRET))
}

/** a request as `token`'s user (no API key) */
export function asUser(atrium: TestAtrium, token: string | null) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
  return <T = any>(method: string, path: string, body?: unknown): Promise<TestResponse<T>> => atrium.request<T>(method, path, { key: null, headers, body })
}

/** the connection config of a test database, as POST /api/connections takes it */
export function connectionConfig(db: { dialect: 'postgres' | 'mysql'; name: string }) {
  return db.dialect === 'postgres'
    ? { provider: 'postgres', config: { host: '127.0.0.1', port: 5432, database: db.name, user: 'postgres' } }
    : { provider: 'mysql', config: { host: '127.0.0.1', port: 3306, database: db.name, user: 'root' } }
}
