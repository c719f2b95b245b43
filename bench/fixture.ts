// Creates the benchmark databases (PostgreSQL and MariaDB) with generated data, reusing them when they
// already hold the expected row counts.
import mysql from 'mysql2/promise'
import pg from 'pg'

export interface FixtureSizes {
  items: number
  customers: number
  orders: number
  big: number
}

export const PG_ADMIN = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const MYSQL_ADMIN = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/'
// BENCH_DB: another name lets a second run share the database servers without touching this one's data
export const DB_NAME = process.env.BENCH_DB ?? 'atrium_bench'

export const pgUrl = (db = DB_NAME) => PG_ADMIN.replace(/\/[^/]*$/, `/${db}`)
export const mysqlUrl = () => `${MYSQL_ADMIN.replace(/\/$/, '')}/${DB_NAME}`

async function pgReady(sizes: FixtureSizes): Promise<boolean> {
  const c = new pg.Client({ connectionString: pgUrl() })
  try {
    await c.connect()
    const r = await c.query(`SELECT (SELECT count(*) FROM items)::int AS items, (SELECT count(*) FROM big)::int AS big,
      (SELECT count(*) FROM orders)::int AS orders, (SELECT count(*) FROM customers)::int AS customers`)
    const row = r.rows[0]
    return row.items === sizes.items && row.big === sizes.big && row.orders === sizes.orders && row.customers === sizes.customers
  } catch {
    return false
  } finally {
    await c.end().catch(() => {})
  }
}

export async function preparePostgres(sizes: FixtureSizes): Promise<void> {
  if (await pgReady(sizes)) {
    // the insert target starts every run empty: reused as it was, it grew by every earlier run's inserts
    // (millions of rows), and autovacuum's insert-triggered passes over it ran in the middle of measurements
    const c = new pg.Client({ connectionString: pgUrl() })
    await c.connect()
    await c.query('TRUNCATE items_ins')
    await c.end()
    return
  }
  const admin = new pg.Client({ connectionString: PG_ADMIN })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${DB_NAME}`)
  await admin.end()
  const c = new pg.Client({ connectionString: pgUrl() })
  await c.connect()
  await c.query(`
    CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, category text NOT NULL, price numeric(10,2) NOT NULL,
      in_stock boolean NOT NULL, created_at timestamptz NOT NULL);
    INSERT INTO items SELECT g, 'item ' || g, 'cat' || (g % 20), ((g * 7919) % 100000) / 100.0, g % 3 <> 0,
      '2024-01-01T00:00:00Z'::timestamptz + g * interval '1 minute' FROM generate_series(1, ${sizes.items}) g;
    CREATE INDEX items_category ON items (category);
    CREATE TABLE items_ins (id bigint, name text, category text, price numeric(10,2), in_stock boolean, created_at timestamptz);
    CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL, tier text);
    INSERT INTO customers SELECT g, 'customer ' || g, 'c' || g || '@example.com', CASE WHEN g % 4 = 0 THEN NULL ELSE 'tier' || (g % 3) END
      FROM generate_series(1, ${sizes.customers}) g;
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers(id), total numeric(12,2) NOT NULL,
      status text NOT NULL, placed_at timestamptz NOT NULL);
    INSERT INTO orders SELECT g, 1 + (g % ${sizes.customers}), (g % 5000) / 10.0, CASE g % 3 WHEN 0 THEN 'paid' WHEN 1 THEN 'pending' ELSE 'sent' END,
      '2024-01-01T00:00:00Z'::timestamptz + g * interval '1 second' FROM generate_series(1, ${sizes.orders}) g;
    CREATE INDEX orders_customer ON orders (customer_id);
    CREATE TABLE big (id bigint PRIMARY KEY, label text NOT NULL, amount numeric(12,2) NOT NULL, flag boolean NOT NULL);
    INSERT INTO big SELECT g, 'row ' || g, (g % 100000) / 100.0, g % 2 = 0 FROM generate_series(1, ${sizes.big}) g;
    ANALYZE;`)
  await c.end()
}

export async function prepareMysql(sizes: FixtureSizes): Promise<void> {
  const admin = await mysql.createConnection({ uri: MYSQL_ADMIN, multipleStatements: true })
  try {
    const [rows] = await admin.query(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'items'`, [DB_NAME])
    if (Number((rows as Array<{ n: number }>)[0].n) === 1) {
      const [count] = await admin.query(`SELECT COUNT(*) AS n FROM \`${DB_NAME}\`.items`)
      if (Number((count as Array<{ n: number }>)[0].n) === sizes.items) return
    }
    await admin.query(`DROP DATABASE IF EXISTS \`${DB_NAME}\`; CREATE DATABASE \`${DB_NAME}\`; USE \`${DB_NAME}\`;
      CREATE TABLE items (id bigint PRIMARY KEY, name varchar(100) NOT NULL, category varchar(20) NOT NULL, price decimal(10,2) NOT NULL,
        in_stock boolean NOT NULL, created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP, KEY items_category (category));
      SET time_zone = '+00:00';
      INSERT INTO items SELECT seq, CONCAT('item ', seq), CONCAT('cat', seq % 20), ((seq * 7919) % 100000) / 100, seq % 3 <> 0,
        TIMESTAMPADD(MINUTE, seq, '2024-01-01 00:00:00') FROM seq_1_to_${sizes.items};
      ANALYZE TABLE items;`)
  } finally {
    await admin.end()
  }
}
