// Change capture on MySQL/MariaDB: three row triggers per enabled table record each change (old and new row as a
// JSON object of the table's columns, listed when the table is enabled: re-enable it after altering its columns)
// in atrium_realtime_changes, in the client's database. Nothing notifies: the drainers poll.
//
// Ordering, as on PostgreSQL: AUTO_INCREMENT ids are drawn in trigger order, not commit order, so every capturing
// transaction holds a shared lock on the one row of atrium_realtime_lock until it ends, and a read takes it
// exclusively (NOWAIT: with a writer open, it reads again at the next poll).
import { createHash } from 'node:crypto'
import { quoteIdent } from '../../management/identifiers.js'
import type { TableInfo } from '../../sources/schema.js'
import { asRow, type CaptureDialect, type CaptureOp, type CapturedChange } from './captured-change.js'

const SETUP = [
  `CREATE TABLE IF NOT EXISTS atrium_realtime_changes (
     id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
     writer bigint unsigned NOT NULL,
     table_name varchar(64) NOT NULL,
     op varchar(6) NOT NULL,
     old_row longtext,
     new_row longtext,
     at timestamp(6) NOT NULL DEFAULT current_timestamp(6)) ENGINE=InnoDB`,
  'CREATE TABLE IF NOT EXISTS atrium_realtime_lock (id int NOT NULL PRIMARY KEY) ENGINE=InnoDB',
  'INSERT IGNORE INTO atrium_realtime_lock (id) VALUES (1)',
]

const OPS: Array<{ op: CaptureOp; tag: string }> = [{ op: 'INSERT', tag: 'ins' }, { op: 'UPDATE', tag: 'upd' }, { op: 'DELETE', tag: 'del' }]

/** a string literal of a name read from the schema (backslashes and quotes escaped) */
const literal = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll('\'', '\'\'')}'`
const q = (name: string) => quoteIdent('mysql', name)

/** trigger names are at most 64 characters: a long table name is shortened with a hash of it */
function triggerName(table: string, tag: string): string {
  const base = `atrium_rt_${tag}_${table}`
  return base.length <= 64 ? base : `atrium_rt_${tag}_${createHash('sha256').update(table).digest('hex').slice(0, 40)}`
}

function rowJson(table: TableInfo, alias: 'OLD' | 'NEW'): string {
  return `JSON_OBJECT(${table.columns.map((c) => `${literal(c.name)}, ${alias}.${q(c.name)}`).join(', ')})`
}

export const mysqlCapture: CaptureDialect = {
  async install(db, table) {
    for (const sql of SETUP) await db.query({ sql, params: [] })
    for (const { op, tag } of OPS) {
      const name = triggerName(table.name, tag)
      const oldRow = op === 'INSERT' ? 'NULL' : rowJson(table, 'OLD')
      const newRow = op === 'DELETE' ? 'NULL' : rowJson(table, 'NEW')
      await db.query({ sql: `DROP TRIGGER IF EXISTS ${q(name)}`, params: [] })
      await db.query({
        sql: `CREATE TRIGGER ${q(name)} AFTER ${op} ON ${q(table.name)} FOR EACH ROW
              BEGIN
                DECLARE held int;
                SELECT id INTO held FROM atrium_realtime_lock WHERE id = 1 LOCK IN SHARE MODE;
                INSERT INTO atrium_realtime_changes (writer, table_name, op, old_row, new_row)
                VALUES (CONNECTION_ID(), ${literal(table.name)}, '${op}', ${oldRow}, ${newRow});
              END`,
        params: [],
      })
    }
  },

  async uninstall(db, table) {
    for (const { tag } of OPS) await db.query({ sql: `DROP TRIGGER IF EXISTS ${q(triggerName(table.name, tag))}`, params: [] })
  },

  read(db, afterId, limit) {
    return db.transaction('read write', async (tx) => {
      try {
        await tx.query({ sql: 'SELECT id FROM atrium_realtime_lock WHERE id = 1 FOR UPDATE NOWAIT', params: [] })
      } catch {
        return null
      }
      // the next AUTO_INCREMENT value at or below the cursor means the table was recreated or TRUNCATEd. Only on
      // MariaDB, which reads it live: MySQL 8 serves information_schema.TABLES from statistics that can be a day old,
      // and a stale value would replay delivered changes.
      const next = await tx.query({
        sql: "SELECT AUTO_INCREMENT AS next, VERSION() AS version FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'atrium_realtime_changes'",
        params: [],
      })
      const row = next.rows[0]
      const restarted = row !== undefined && /mariadb/i.test(String(row.version)) && row.next !== null && Number(row.next) - 1 < afterId
      const res = await tx.query({
        sql: 'SELECT id, writer, table_name, op, old_row, new_row FROM atrium_realtime_changes WHERE id > ? ORDER BY id LIMIT ?',
        params: [restarted ? 0 : afterId, limit],
      })
      const changes = res.rows.map((r): CapturedChange => ({
        id: Number(r.id), writer: String(r.writer), table: String(r.table_name), op: r.op as CaptureOp, oldRow: asRow(r.old_row), newRow: asRow(r.new_row),
      }))
      return { changes, restarted }
    })
  },

  async trim(db, uptoId) {
    await db.query({ sql: 'DELETE FROM atrium_realtime_changes WHERE id <= ?', params: [uptoId] })
  },
}
