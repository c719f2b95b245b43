// Nodes killed (SIGKILL) while they move captured changes into the outbox, at each point where a cursor kept
// apart from its events would lose or repeat changes: while writing a batch's events, while advancing the
// cursor, and after the catalog commit but before trimming the source. Rows are written directly on the
// database (pg / mysql2) before, during and after the kills; the next node publishes each change exactly once,
// in commit order, and empties the capture table.
//
// A cursor committed apart from its events fails here: committed before them, the node killed at the first
// gate loses the batch; committed after them, the node killed at the second publishes it again.
//
// A gate is a lock the test holds and a trigger that waits for it: a node that reaches the gated statement
// stays there until it is killed. The server ends a dead client's session only when it next talks to the
// closed socket, so the test ends the killed node's waiting sessions itself (rolling back what they had not
// committed) before it opens the gate.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase, type TestDatabase } from '../../helpers/databases.js'
import { forEachDialect } from '../../helpers/dialects.js'
import { spawnAtrium, type AtriumProcess } from '../../helpers/process.js'
import { until } from '../../helpers/until.js'

const CLIENT = 'plant'
const WRITERS = 2
const ROWS_PER_TX = 50
/** transactions written (by all writers together) while each killed node runs, and after the last kill */
const TX_PER_KILL = 12
const TX_AFTER = 4
const KILLS = 3
const WRITTEN = (KILLS * TX_PER_KILL + TX_AFTER) * ROWS_PER_TX
/** writer w's rows have ids from w * ID_SPAN + 1, increasing in the order it commits them */
const ID_SPAN = 1_000_000

/** PostgreSQL trigger function: waits for the advisory lock named by its argument (a no-op when nobody holds it) */
const PG_GATE_FUNCTION = `CREATE FUNCTION public.crash_gate() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_advisory_xact_lock_shared(TG_ARGV[0]::bigint);
    RETURN NULL;
  END $$`

interface Gate {
  /** from now on, the gated statement waits */
  close(): Promise<void>
  open(): Promise<void>
  /** the sessions waiting at the gate (backend pids, MySQL connection ids) */
  waiting(): Promise<number[]>
  /** ends those sessions (their open transactions roll back) and waits until they are gone */
  cut(ids: number[]): Promise<void>
  end(): Promise<void>
}

/** a gate on a PostgreSQL database: an advisory lock held by a session of the test */
async function pgGate(url: string, key: number): Promise<Gate> {
  const holder = new pg.Client({ connectionString: url })
  // the database may be dropped (WITH FORCE) before this session ends
  holder.on('error', () => {})
  await holder.connect()
  const ids = async (sql: string, params: unknown[]) => (await holder.query(sql, params)).rows.map((r) => Number(r.pid))
  return {
    close: async () => { await holder.query('SELECT pg_advisory_lock($1)', [key]) },
    open: async () => { await holder.query('SELECT pg_advisory_unlock($1)', [key]) },
    waiting: () => ids(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1
                        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, [key]),
    cut: async (pids) => {
      await holder.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids])
      await until('the killed node\'s sessions end', async () =>
        (await ids('SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[])', [pids])).length ? undefined : true)
    },
    end: () => holder.end().catch(() => {}),
  }
}

/** the trim gate on MySQL/MariaDB: a row of crash_gate locked by a transaction of the test */
async function mysqlTrimGate(db: TestDatabase): Promise<Gate> {
  await db.query('CREATE TABLE crash_gate (id int NOT NULL PRIMARY KEY) ENGINE=InnoDB')
  await db.query('INSERT INTO crash_gate (id) VALUES (1)')
  await db.query(`CREATE TRIGGER crash_gate BEFORE DELETE ON atrium_realtime_changes FOR EACH ROW
                  BEGIN
                    DECLARE held int;
                    SELECT id INTO held FROM crash_gate WHERE id = 1 LOCK IN SHARE MODE;
                  END`)
  const holder = await mysql.createConnection({ uri: db.url })
  const ids = async (sql: string, params: unknown[]) => ((await holder.query(sql, params))[0] as any[]).map((r) => Number(r.id))
  return {
    close: async () => {
      await holder.query('START TRANSACTION')
      await holder.query('SELECT id FROM crash_gate WHERE id = 1 FOR UPDATE')
    },
    open: async () => { await holder.query('ROLLBACK') },
    // the statement shown is the trim (MySQL) or the trigger's wait within it (MariaDB)
    waiting: () => ids(`SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()
                        AND (info LIKE 'DELETE FROM atrium_realtime_changes%' OR info LIKE 'SELECT id INTO held FROM crash_gate%')`, []),
    cut: async (conns) => {
      for (const id of conns) await holder.query(`KILL ${Number(id)}`).catch(() => {})
      await until('the killed node\'s sessions end', async () =>
        (await ids('SELECT id FROM information_schema.processlist WHERE id IN (?)', [conns])).length ? undefined : true)
    },
    end: () => holder.end().catch(() => {}),
  }
}

/** one connection that commits transactions of ROWS_PER_TX rows of its own, ids increasing */
async function openWriter(db: TestDatabase, w: number) {
  let seq = 0
  const values = () => Array.from({ length: ROWS_PER_TX }, () => { seq++; return `(${w * ID_SPAN + seq}, ${w}, ${seq})` }).join(', ')
  if (db.dialect === 'postgres') {
    const c = new pg.Client({ connectionString: db.url })
    c.on('error', () => {})
    await c.connect()
    return {
      tx: async () => { await c.query('BEGIN'); await c.query(`INSERT INTO readings (id, writer, seq) VALUES ${values()}`); await c.query('COMMIT') },
      end: () => c.end().catch(() => {}),
    }
  }
  const c = await mysql.createConnection({ uri: db.url })
  return {
    tx: async () => { await c.query('START TRANSACTION'); await c.query(`INSERT INTO readings (id, writer, seq) VALUES ${values()}`); await c.query('COMMIT') },
    end: () => c.end().catch(() => {}),
  }
}

forEachDialect('captured changes are published exactly once when draining nodes are killed', async (t, db) => {
  await db.query('CREATE TABLE readings (id bigint NOT NULL PRIMARY KEY, writer int NOT NULL, seq int NOT NULL)')
  const catalog = await createPgDatabase(null, 'atrium_catalog')
  const dataDir = mkdtempSync(join(tmpdir(), 'atrium-capture-crash-'))
  const config = join(dataDir, 'atrium.yaml')
  writeFileSync(config, 'realtime:\n  capturePollMs: 100\n')
  const env = {
    DATABASE_URL: catalog.url, ATHENA_KEY_12: ADMIN_KEY, ATRIUM_DATA_DIR: dataDir, ATRIUM_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789',
    [`ATRIUM_CLIENT_${CLIENT.toUpperCase()}`]: db.url, ATRIUM_WORKERS: '0', ATRIUM_CONFIG: config,
  }
  // the catalog goes after the survivor closes (its hook is added once it starts); before that, here
  let survivorStarted = false
  const cleanUp = async () => {
    await catalog.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
  t.after(async () => { if (!survivorStarted) await cleanUp() })

  const nodes: AtriumProcess[] = []
  const spawnNode = async () => {
    const node = await spawnAtrium(env)
    nodes.push(node)
    return node
  }
  const writers = await Promise.all(Array.from({ length: WRITERS }, (_, w) => openWriter(db, w)))
  const gates: Gate[] = []
  // the source's connections end here, not in after-hooks: the source database is dropped by an earlier one
  try {
    const first = await spawnNode()
    const enabled = await fetch(`${first.url}/admin/clients/${CLIENT}/realtime/tables`, {
      method: 'POST', headers: { apikey: ADMIN_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ table: 'readings' }),
    })
    assert.equal(enabled.status, 201, await enabled.text())

    // the gates: the events of captured changes, the capture cursor (both in the catalog), the trim on the source
    await catalog.query(PG_GATE_FUNCTION)
    await catalog.query(`CREATE TRIGGER crash_gate AFTER INSERT ON atrium.events FOR EACH ROW
                         WHEN (NEW.payload->>'origin' = 'database') EXECUTE FUNCTION public.crash_gate('4201')`)
    await catalog.query(`CREATE TRIGGER crash_gate AFTER UPDATE ON atrium.realtime_capture_cursors FOR EACH ROW
                         EXECUTE FUNCTION public.crash_gate('4202')`)
    gates.push(await pgGate(catalog.url, 4201), await pgGate(catalog.url, 4202))
    if (db.dialect === 'postgres') {
      await db.query(PG_GATE_FUNCTION)
      await db.query('CREATE TRIGGER crash_gate BEFORE DELETE ON atrium_realtime.changes FOR EACH STATEMENT EXECUTE FUNCTION public.crash_gate(\'4203\')')
      gates.push(await pgGate(db.url, 4203))
    } else {
      gates.push(await mysqlTrimGate(db))
    }

    /** `transactions` transactions, spread over the writers, each committing its own in turn */
    const write = (transactions: number) => Promise.all(writers.map(async (writer) => {
      for (let i = 0; i < transactions / WRITERS; i++) {
        await writer.tx()
        await sleep(5)
      }
    }))
    const cursor = async () => Number((await catalog.query<{ last_id: string }>('SELECT last_id FROM atrium.realtime_capture_cursors WHERE client_name = $1', [CLIENT]))[0]?.last_id ?? 0)
    const captureTable = db.dialect === 'postgres' ? 'atrium_realtime.changes' : 'atrium_realtime_changes'
    const captured = async () => {
      const [row] = await db.query<any>(`SELECT count(*) AS n, max(id) AS top FROM ${captureTable}`)
      return { count: Number(row.n), top: Number(row.top ?? 0) }
    }
    const published = async () => (await catalog.query<{ event_id: string; type: string; row_id: string }>(
      `SELECT e.id AS event_id, e.type, r.row->>'id' AS row_id
       FROM atrium.events e, jsonb_array_elements(e.payload->'rows') WITH ORDINALITY AS r(row, n)
       WHERE e.payload->>'origin' = 'database' AND e.payload->>'source' = $1 AND e.payload->>'table' = 'readings'
       ORDER BY e.id, r.n`, [CLIENT])).map((r) => ({ event: Number(r.event_id), type: r.type, id: Number(r.row_id) }))

    const gated = ['writing a batch\'s events', 'advancing the cursor', 'trimming the source after the catalog commit']
    for (const [k, gate] of gates.entries()) {
      await gate.close()
      const node = k === 0 ? first : await spawnNode()
      const writing = write(TX_PER_KILL)
      const stuck = await until(`node ${k + 1} to wait while ${gated[k]}`, async () => {
        const ids = await gate.waiting()
        return ids.length ? ids : undefined
      })
      await node.stop('SIGKILL')
      assert.equal(node.child.signalCode, 'SIGKILL')
      if (k === KILLS - 1) {
        // the last node died after the catalog commit of a batch and before trimming the source
        const upto = await cursor()
        assert.ok(upto > 0, 'the killed node committed a batch')
        assert.ok((await published()).length > 0, 'the batch\'s events are in the catalog')
        const [row] = await db.query<any>(`SELECT count(*) AS n FROM ${captureTable} WHERE id <= ${upto}`)
        assert.ok(Number(row.n) > 0, 'the batch\'s changes are still on the source')
      }
      await writing
      await gate.cut(stuck)
      await gate.open()
    }
    // more changes after the last kill, while no node runs
    await write(TX_AFTER)
    await catalog.query('DROP TRIGGER crash_gate ON atrium.events; DROP TRIGGER crash_gate ON atrium.realtime_capture_cursors')
    await db.query(db.dialect === 'postgres' ? 'DROP TRIGGER crash_gate ON atrium_realtime.changes' : 'DROP TRIGGER crash_gate')
    const before = await captured()
    assert.equal(before.count, WRITTEN, 'no killed node trimmed the source: it holds every change')

    await startTestAtrium(t, { catalog, sources: { [CLIENT]: db.url }, settings: { 'realtime.capturePollMs': 100 } })
    survivorStarted = true
    t.after(cleanUp)
    // done when the cursor has reached the last change and the source is trimmed: what was published by then is
    // all there will be (a lost or repeated change shows below, not as a timeout)
    await until('the survivor drains to the last change and trims the source', async () =>
      (await cursor()) === before.top && (await captured()).count === 0 ? true : undefined, 900)

    const rows = await published()
    assert.ok(rows.every((r) => r.type === 'change.inserted'))
    const times = new Map<number, number>()
    for (const r of rows) times.set(r.id, (times.get(r.id) ?? 0) + 1)
    const repeated = [...times].filter(([, n]) => n > 1).map(([id]) => id)
    assert.deepEqual(repeated, [], 'no change is published twice')
    const written = new Set(Array.from({ length: WRITERS }, (_, w) => Array.from({ length: WRITTEN / WRITERS }, (_, i) => w * ID_SPAN + i + 1)).flat())
    assert.deepEqual([...written].filter((id) => !times.has(id)), [], 'every written row is published')
    assert.deepEqual([...times.keys()].filter((id) => !written.has(id)), [], 'nothing else is published')
    assert.equal(rows.length, WRITTEN)
    for (let w = 0; w < WRITERS; w++) {
      const own = rows.filter((r) => Math.floor((r.id - 1) / ID_SPAN) === w).map((r) => r.id)
      assert.deepEqual(own, [...own].sort((a, b) => a - b), `writer ${w}'s changes are published in the order it committed them`)
    }
  } finally {
    for (const node of nodes) await node.stop('SIGKILL')
    for (const gate of gates) await gate.end()
    for (const writer of writers) await writer.end()
  }
})
