// Backup tests: a database with several tables of awkward types on either dialect, a per-table checksum taken
// directly on the database (row count + sha256 of every row in key order), and waiting for a backup job.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TestAtrium } from './atrium.js'
import type { TestDatabase } from './databases.js'

export const BACKUP_TABLES = ['customers', 'orders', 'events']

const FIXTURE = {
  postgres: `
    CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text, created_at timestamptz NOT NULL DEFAULT '2024-01-02 03:04:05.678+00');
    CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int REFERENCES customers (id), total numeric(12, 2), meta jsonb, shipped_at timestamp, note text);
    CREATE TABLE events (id int PRIMARY KEY, payload jsonb, tags text[], happened_at timestamptz, flag boolean);
    INSERT INTO customers (name, email) SELECT 'customer ' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'c' || g || '@example.com' END FROM generate_series(1, 50) g;
    INSERT INTO orders (customer_id, total, meta, shipped_at, note)
      SELECT 1 + g % 50, g * 1.25, jsonb_build_object('n', g, 'tags', jsonb_build_array('a', g), 'nested', jsonb_build_object('ok', g % 2 = 0)),
             CASE WHEN g % 4 = 0 THEN NULL ELSE timestamp '2024-05-01 10:00:00' + g * interval '1 hour' END,
             CASE WHEN g % 5 = 0 THEN NULL ELSE E'line\\nwith ''quotes'' and ünïcödé ' || g END
      FROM generate_series(1, 300) g;
    INSERT INTO events SELECT g, CASE WHEN g % 2 = 0 THEN NULL ELSE '{"k": [1, 2, {"x": null}]}'::jsonb END, ARRAY['t' || g, NULL], now() - g * interval '1 minute', g % 3 = 0 FROM generate_series(1, 120) g;
  `,
  mysql: `
    CREATE TABLE customers (id int AUTO_INCREMENT PRIMARY KEY, name varchar(100) NOT NULL, email varchar(200) NULL, created_at datetime(3) NOT NULL DEFAULT '2024-01-02 03:04:05.678');
    CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer_id int NULL, total decimal(12, 2) NULL, meta json NULL, shipped_at datetime NULL, note text NULL, blob_col varbinary(16) NULL,
      FOREIGN KEY (customer_id) REFERENCES customers (id));
    CREATE TABLE events (id int PRIMARY KEY, payload json NULL, happened_at timestamp(6) NULL, flag boolean NULL);
    INSERT INTO customers (name, email) WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 50)
      SELECT CONCAT('customer ', n), IF(n % 3 = 0, NULL, CONCAT('c', n, '@example.com')) FROM g;
    INSERT INTO orders (customer_id, total, meta, shipped_at, note, blob_col) WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 300)
      SELECT 1 + n % 50, n * 1.25, JSON_OBJECT('n', n, 'tags', JSON_ARRAY('a', n), 'nested', JSON_OBJECT('ok', n % 2 = 0)),
             IF(n % 4 = 0, NULL, '2024-05-01 10:00:00' + INTERVAL n HOUR), IF(n % 5 = 0, NULL, CONCAT('line\\nwith ''quotes'' and ünïcödé ', n)),
             IF(n % 2 = 0, NULL, UNHEX(CONCAT('00FF', LPAD(HEX(n), 4, '0'))))
      FROM g;
    INSERT INTO events WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 120)
      SELECT n, IF(n % 2 = 0, NULL, '{"k": [1, 2, {"x": null}]}'), TIMESTAMP('2024-06-01 00:00:00') + INTERVAL n MINUTE, n % 3 = 0 FROM g;
  `,
}

export async function loadBackupFixture(db: TestDatabase): Promise<void> {
  if (db.dialect === 'postgres') await db.query(FIXTURE.postgres)
  else await db.query(FIXTURE.mysql)
}

/** table → {rows, sha256 of the rows in key order}, read directly from the database */
export async function tableChecksums(db: TestDatabase): Promise<Record<string, { rows: number; sha256: string }>> {
  const out: Record<string, { rows: number; sha256: string }> = {}
  for (const table of BACKUP_TABLES) {
    const q = db.dialect === 'postgres' ? `"${table}"` : `\`${table}\``
    const rows = await db.query(`SELECT * FROM ${q} ORDER BY id`)
    const text = JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? String(v) : v))
    out[table] = { rows: rows.length, sha256: createHash('sha256').update(text).digest('hex') }
  }
  return out
}

/** polls GET /admin/backups/jobs/{id} (bounded) until the job has finished; returns it */
export async function waitForBackupJob(atrium: TestAtrium, id: number, tries = 900): Promise<any> {
  for (let i = 0; i < tries; i++) {
    const res = await atrium.get(`/admin/backups/jobs/${id}`)
    assert.equal(res.status, 200, res.text)
    if (['succeeded', 'failed', 'cancelled'].includes(res.body.status)) return res.body
    await sleep(100)
  }
  assert.fail(`backup job ${id} did not finish`)
}

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')
