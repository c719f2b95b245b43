// The baseline: a minimal hand-written Fastify server on the same drivers and pool size — one
// parameterised query per route, no validation, no auth. The practical limit for a Node gateway.
import Fastify from 'fastify'
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import mysql from 'mysql2/promise'
import pg from 'pg'

const port = Number(process.env.PORT ?? 8700)
const poolSize = Number(process.env.POOL_MAX ?? 10)
const pool = new pg.Pool({ connectionString: process.env.PG_URL, max: poolSize })
const my = process.env.MYSQL_URL ? mysql.createPool({ uri: process.env.MYSQL_URL, connectionLimit: poolSize }) : undefined
const app = Fastify({ bodyLimit: 64 * 1024 * 1024 })

app.get<{ Params: { id: string } }>('/w1/:id', async (req) => (await pool.query('SELECT * FROM items WHERE id = $1', [req.params.id])).rows)
// the same queries for a request shaped like /gateway/fetch's (a POST with a JSON body), so that route is also
// compared with a baseline that parses the same body
type FetchBody = { conditions: Array<{ eq_value: string }> }
app.post<{ Body: FetchBody }>('/w1', async (req) => (await pool.query('SELECT * FROM items WHERE id = $1', [req.body.conditions[0].eq_value])).rows)
app.post<{ Body: FetchBody }>('/w2', async (req) => (await pool.query('SELECT * FROM items WHERE category = $1 ORDER BY id LIMIT 100', [req.body.conditions[0].eq_value])).rows)
app.post<{ Body: FetchBody }>('/my/w1', async (req) => (await my!.query('SELECT * FROM items WHERE id = ?', [req.body.conditions[0].eq_value]))[0])
app.post<{ Body: FetchBody }>('/my/w2', async (req) => (await my!.query('SELECT * FROM items WHERE category = ? ORDER BY id LIMIT 100', [req.body.conditions[0].eq_value]))[0])
app.get<{ Params: { cat: string } }>('/w2/:cat', async (req) => (await pool.query('SELECT * FROM items WHERE category = $1 ORDER BY id LIMIT 100', [req.params.cat])).rows)
app.post<{ Body: Array<Record<string, unknown>>; Querystring: { returning?: string } }>('/w3', async (req, reply) => {
  // the natural hand-written bulk insert: one multi-row VALUES statement (?returning=1: RETURNING *, sent back)
  const cols = ['id', 'name', 'category', 'price', 'in_stock', 'created_at']
  const values: unknown[] = []
  const tuples = req.body.map((row, i) => `(${cols.map((c, j) => { values.push(row[c]); return `$${i * cols.length + j + 1}` }).join(',')})`)
  const returning = req.query.returning === '1'
  const result = await pool.query(`INSERT INTO items_ins (${cols.join(',')}) VALUES ${tuples.join(',')}${returning ? ' RETURNING *' : ''}`, values)
  return returning ? reply.status(201).send(result.rows) : reply.status(201).send()
})
// W7: the aggregate /rest/v1 compiles, written by hand
app.get<{ Params: { cat: string } }>('/w7/:cat', async (req) => (await pool.query(
  'SELECT in_stock, count(*) AS count, sum(price) AS sum, max(price) AS max FROM items WHERE category = $1 GROUP BY in_stock', [req.params.cat])).rows)
app.get<{ Params: { offset: string } }>('/w4/:offset', async (req) => (await pool.query(
  'SELECT o.*, row_to_json(c) AS customers FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.id LIMIT 50 OFFSET $1', [req.params.offset])).rows)
app.post<{ Body: { query: string } }>('/w6', async (req) => (await pool.query(req.body.query)).rows)
app.get<{ Params: { id: string } }>('/my/w1/:id', async (req) => (await my!.query('SELECT * FROM items WHERE id = ?', [req.params.id]))[0])
app.get<{ Params: { cat: string } }>('/my/w2/:cat', async (req) => (await my!.query('SELECT * FROM items WHERE category = ? ORDER BY id LIMIT 100', [req.params.cat]))[0])
app.get('/ping', async () => 'pong')

// The storage workload's baseline: a PUT body streamed to a file, served back on GET; no auth, no signing, no
// metadata. Keys are the bench's own (obj-N), so a plain file name per key is enough.
if (process.env.STORAGE_DIR) {
  const dir = process.env.STORAGE_DIR
  mkdirSync(dir, { recursive: true })
  const fileOf = (key: string) => join(dir, key.replace(/[^a-zA-Z0-9_-]/g, '_'))
  await app.register(async (scope) => {
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload))
    scope.put<{ Params: { key: string } }>('/objects/:key', async (req, reply) => {
      await pipeline(req.body as Readable, createWriteStream(fileOf(req.params.key)))
      return reply.status(200).send()
    })
    scope.get<{ Params: { key: string } }>('/objects/:key', async (req, reply) => {
      const path = fileOf(req.params.key)
      const { size } = await stat(path)
      return reply.header('content-type', 'application/octet-stream').header('content-length', String(size)).send(createReadStream(path))
    })
  })
}

await app.listen({ port, host: '127.0.0.1' })
