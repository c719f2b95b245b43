import assert from 'node:assert/strict'
import { test } from 'node:test'
import { dueTick, scheduleFields } from '../../src/backups/backup-schedules.js'
import { libpqConnection, mysqlConnection } from '../../src/backups/backup-engines.js'
import { majorVersion } from '../../src/backups/backup-tools.js'
import { AppError } from '../../src/errors/app-error.js'

// The pure parts of backups: which cron tick is due, the schedule forms, versions, and how a connection URL is
// split so that its password travels only in the environment.

test('dueTick: the latest tick after the last one, ticks missed while down collapse into one', () => {
  const at = (s: string) => new Date(s)
  assert.equal(dueTick('0 3 * * *', at('2026-01-01T03:00:00Z'), at('2026-01-01T10:00:00Z')), null)
  assert.deepEqual(dueTick('0 3 * * *', at('2026-01-01T03:00:00Z'), at('2026-01-02T03:00:00Z')), at('2026-01-02T03:00:00Z'))
  assert.deepEqual(dueTick('0 3 * * *', at('2026-01-01T03:00:00Z'), at('2026-01-05T12:00:00Z')), at('2026-01-05T03:00:00Z'))
  assert.deepEqual(dueTick('*/15 * * * *', at('2026-01-01T00:00:00Z'), at('2026-01-01T00:31:10Z')), at('2026-01-01T00:30:00Z'))
  // a schedule created after this minute's tick waits for the next one
  assert.equal(dueTick('* * * * *', at('2026-01-01T00:00:20Z'), at('2026-01-01T00:00:50Z')), null)
})

test('scheduleFields: cron, or the SDK frequency form; bad input is invalid_request', () => {
  assert.equal(scheduleFields({ client_name: 'a', frequency: 'daily', time_of_day: '03:30' }).cron, '30 3 * * *')
  assert.equal(scheduleFields({ client_name: 'a', frequency: 'weekly', time_of_day: '23:05', day_of_week: 6 }).cron, '5 23 * * 6')
  assert.equal(scheduleFields({ client_name: 'a', frequency: 'monthly' }).cron, '0 0 1 * *')
  assert.equal(scheduleFields({ client_name: 'a', frequency: 'hourly', time_of_day: '00:45' }).cron, '45 * * * *')
  const cron = scheduleFields({ client_name: 'a', cron: '0 */6 * * *', keep_last: 3 })
  assert.equal(cron.cron, '0 */6 * * *')
  assert.equal(cron.frequency, null)
  assert.equal(cron.keep_last, 3)
  // an update with a frequency replaces the cron, and the other way round
  const current = { ...cron, id: 1, last_run_at: null, created_at: '', updated_at: '' }
  assert.equal(scheduleFields({ frequency: 'daily' }, current).cron, '0 0 * * *')
  assert.equal(scheduleFields({ keep_last: null }, current).keep_last, null)
  const daily = { ...scheduleFields({ client_name: 'a', frequency: 'daily', time_of_day: '03:30' }), id: 2, last_run_at: null, created_at: '', updated_at: '' }
  assert.equal(scheduleFields({ time_of_day: '05:15' }, daily).cron, '15 5 * * *')
  assert.equal(scheduleFields({ cron: '0 1 * * *' }, daily).frequency, null)
  for (const bad of [
    { client_name: 'a' },
    { client_name: 'a', cron: '* * * *' },
    { client_name: 'a', cron: '0 0 * * * *' },
    { client_name: 'a', cron: '61 * * * *' },
    { client_name: 'a', frequency: 'yearly' },
    { client_name: 'a', frequency: 'daily', time_of_day: '24:00' },
    { client_name: 'a', frequency: 'monthly', day_of_month: 31 },
    { client_name: 'a', cron: '0 3 * * *', keep_last: 0 },
    { cron: '0 3 * * *' },
  ]) {
    assert.throws(() => scheduleFields(bad), (err: unknown) => err instanceof AppError && err.code === 'invalid_request', JSON.stringify(bad))
  }
})

test('majorVersion reads --version lines and server versions', () => {
  assert.equal(majorVersion('pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)'), 15)
  assert.equal(majorVersion('pg_dump (PostgreSQL) 9.6.24'), 9)
  assert.equal(majorVersion('16.1'), 16)
  assert.equal(majorVersion('no digits'), undefined)
})

test('connection URLs: the password goes to the environment, never into an argument', () => {
  const pg = libpqConnection('postgres://app:s%40cret@db.internal:5433/shop?sslmode=require&max=5')
  assert.equal(pg.env.PGPASSWORD, 's@cret')
  assert.doesNotMatch(pg.dbname, /cret/)
  assert.match(pg.dbname, /^postgresql:\/\/app@db\.internal:5433\/shop\?sslmode=require$/)
  const my = mysqlConnection('mysql://root:p%3Ass@127.0.0.1:3307/shop')
  assert.equal(my.env.MYSQL_PWD, 'p:ss')
  assert.deepEqual(my.args, ['--host=127.0.0.1', '--port=3307', '--user=root'])
  assert.equal(my.database, 'shop')
  assert.ok(!my.args.some((a) => a.includes('ss')))
})
