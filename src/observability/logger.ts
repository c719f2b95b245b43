// The process logger: structured pino output with every credential-bearing field redacted.
import pino, { type Logger } from 'pino'

/** header and field names whose values are secrets wherever they appear */
export const SECRET_FIELDS = ['apikey', 'authorization', 'x-api-key', 'x-athena-key', 'x-supabase-key', 'cookie', 'set-cookie', 'password', 'api_key', 'pg_uri', 'url', 'secret', 'auth_headers']

const redactPaths = [
  ...SECRET_FIELDS.map((f) => `req.headers["${f}"]`),
  ...SECRET_FIELDS.map((f) => `headers["${f}"]`),
  ...SECRET_FIELDS.map((f) => `*["${f}"]`),
]

/** removes `api_key=...` (and similar) from a URL before it is logged */
export function maskUrl(url: string): string {
  return url.replace(/([?&](?:api_key|apikey|key|token)=)[^&]*/gi, '$1[redacted]')
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'atrium' },
      redact: { paths: redactPaths, censor: '[redacted]' },
      serializers: {
        req: (req: { id?: string; method?: string; url?: string; ip?: string }) => ({ id: req.id, method: req.method, url: maskUrl(req.url ?? ''), ip: req.ip }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  )
}
