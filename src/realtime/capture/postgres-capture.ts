// Change capture on PostgreSQL without logical decoding (which needs wal_level=logical): a row trigger records
// each change of an enabled table (old and new row as jsonb) in atrium_realtime.changes and wakes the drainers
// with a NOTIFY that carries nothing (a row can be far larger than NOTIFY's 8000 bytes).
//
// Ordering: ids come from a sequence, drawn in trigger order, not commit order. So every capturing transaction
// holds a shared advisory lock until it ends, and a read takes it exclusively: while it reads, every id drawn so
// far belongs to a finished transaction, and a smaller id can never commit after a larger one was read. The read
// waits at most LOCK_WAIT for open writers (a long transaction delays capture, not the other writers for long).
import { quoteIdent } from '../../management/identifiers.js'
import { asRow, type CaptureDialect, type CapturedChange } from './captured-change.js'

/** the advisory lock key of capture on a source database (any constant, the same for writers and readers) */
const CAPTURE_LOCK = 727_274_030
const LOCK_WAIT = '100ms'
export const CAPTURE_CHANNEL = 'atrium_realtime_capture'
const TRIGGER = 'atrium_realtime_capture'

const SETUP = [
  'CREATE SCHEMA IF NOT EXISTS atrium_realtime',
  `CREATE TABLE IF NOT EXISTS atrium_realtime.changes (
     id bigserial PRIMARY KEY,
     writer text NOT NULL DEFAULT pg_current_xact_id()::text,
     table_schema text NOT NULL,
     table_name text NOT NULL,
     op text NOT NULL,
     old_row jsonb,
     new_row jsonb,
     at timestamptz NOT NULL DEFAULT now())`,
  `CREATE OR REPLACE FUNCTION atrium_realtime.capture() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM pg_advisory_xact_lock_shared(${CAPTURE_LOCK});
     INSERT INTO atrium_realtime.changes (table_schema, table_name, op, old_row, new_row)
     VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP,
             CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
             CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);
     -- identical notifications of one transaction are sent once, on commit
     PERFORM pg_notify('${CAPTURE_CHANNEL}', '');
     RETURN NULL;
   END $$`,
]

const tableRef = (t: { schema: string; name: string }) => `${quoteIdent('postgres', t.schema)}.${quoteIdent('postgres', t.name)}`

export const postgresCapture: CaptureDialect = {
  async install(db, table) {
    await db.transaction('read write', async (tx) => {
      for (const sql of SETUP) await tx.query({ sql, params: [] })
      await tx.query({ sql: `DROP TRIGGER IF EXISTS ${TRIGGER} ON ${tableRef(table)}`, params: [] })
      await tx.query({ sql: `CREATE TRIGGER ${TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON ${tableRef(table)} FOR EACH ROW EXECUTE FUNCTION atrium_realtime.capture()`, params: [] })
    })
  },

  async uninstall(db, table) {
    await db.query({ sql: `DROP TRIGGER IF EXISTS ${TRIGGER} ON ${tableRef(table)}`, params: [] })
  },

  read(db, afterId, limit) {
    return db.transaction('read write', async (tx) => {
      // READ COMMITTED whatever the database's default: under REPEATABLE READ (or SERIALIZABLE) the lock's SELECT
      // takes the snapshot before it waits, so a change committed during the wait stays unseen while a later id
      // committed before it is read, and the cursor moves past the unseen change for good
      await tx.query({ sql: 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED', params: [] })
      await tx.query({ sql: `SET LOCAL lock_timeout = '${LOCK_WAIT}'`, params: [] })
      try {
        await tx.query({ sql: 'SELECT pg_advisory_xact_lock($1)', params: [CAPTURE_LOCK] })
      } catch {
        return null
      }
      // a sequence never goes back by itself: the highest id it gave out below the cursor means a new table
      const seq = await tx.query({ sql: 'SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS drawn FROM atrium_realtime.changes_id_seq', params: [] })
      const restarted = Number(seq.rows[0].drawn) < afterId
      const res = await tx.query({
        sql: 'SELECT id, writer, table_name, op, old_row, new_row FROM atrium_realtime.changes WHERE id > $1 ORDER BY id LIMIT $2',
        params: [restarted ? 0 : afterId, limit],
      })
      const changes = res.rows.map((r): CapturedChange => ({
        id: Number(r.id), writer: String(r.writer), table: String(r.table_name), op: r.op as CapturedChange['op'], oldRow: asRow(r.old_row), newRow: asRow(r.new_row),
      }))
      return { changes, restarted }
    })
  },

  async trim(db, uptoId) {
    await db.query({ sql: 'DELETE FROM atrium_realtime.changes WHERE id <= $1', params: [uptoId] })
  },
}
