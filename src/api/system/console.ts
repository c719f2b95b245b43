// GET /console and /console/*: the web console's static files (built by `npm run build` into dist/console).
// Public, since the page holds no data: everything it shows comes from the public APIs with the credential the
// user signs in with. Paths without a file extension are the console's own client-side routes and get its
// index.html; hashed assets are cached for good; a missing build answers 503 console_not_built.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { createReadStream, existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { dirname, extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Config } from '../../config/schema.js'
import { AppError } from '../../errors/app-error.js'
import { routeNotFound } from '../family.js'

export interface ConsoleDeps {
  config: { console: Config['console'] }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

// The console talks only to this origin and runs only its own files: no inline script, no third party, no framing.
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
}

/** dist/console of this installation: the folder above the nearest package.json (src/ under tsx, dist/ when built) */
export function defaultConsoleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir) break
    dir = up
  }
  return join(dir, 'dist', 'console')
}

const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Atrium console not built</title></head>
<body><main><h1>The Atrium console is not built</h1><p>Run <code>npm run build</code> on the server (it builds the console into
<code>dist/console</code>), or set <code>console.dir</code> to the folder holding it. The APIs work without it.</p></main></body></html>`

export function consoleRoutes(app: FastifyInstance, { config }: ConsoleDeps): void {
  const root = resolve(config.console.dir ?? defaultConsoleDir())
  const route = { config: { operation: 'system.console', access: 'public' as const } }

  const serve = async (req: FastifyRequest, reply: FastifyReply) => {
    reply.headers(SECURITY_HEADERS)
    const rel = (req.params as { '*'?: string })['*'] ?? ''
    const index = join(root, 'index.html')
    const page = await readFile(index).catch(() => undefined)
    if (!page) {
      // a person opening the page reads a page; a script gets the family's JSON error
      if ((req.headers.accept ?? '').includes('text/html')) return reply.code(503).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(NOT_BUILT_PAGE)
      throw new AppError('console_not_built', 'the web console is not built on this server', { hint: 'run `npm run build`, or set console.dir (ATRIUM_CONSOLE_DIR) to the built console' })
    }
    // a path with an extension names a file; anything else is one of the console's own views
    if (!extname(rel)) return reply.header('cache-control', 'no-cache').type(TYPES['.html']).send(page)
    const file = resolve(root, rel)
    if (!file.startsWith(root + sep)) throw routeNotFound(req)
    const info = await stat(file).catch(() => undefined)
    if (!info?.isFile()) throw routeNotFound(req)
    // Vite names every file under assets/ by its content's hash: a changed file has a new name
    const immutable = rel.startsWith('assets/')
    reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    reply.header('content-length', info.size)
    reply.header('last-modified', info.mtime.toUTCString())
    return reply.type(TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream').send(createReadStream(file))
  }

  app.get('/console', { ...route, schema: { summary: 'The web console (sign in with a key or a session token)', tags: ['system'] } }, serve)
  // hidden like the other wildcard routes: a wildcard path has no OpenAPI form (docs/console.md describes it)
  app.get('/console/*', { ...route, schema: { summary: 'The web console\'s files and views', tags: ['system'], hide: true } }, serve)
}
