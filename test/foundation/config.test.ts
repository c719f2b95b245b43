import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { TObject } from '@sinclair/typebox'
import { ConfigError, loadConfig } from '../../src/config/load.js'
import { ConfigSchema } from '../../src/config/schema.js'

test('configuration', async (t) => {
  const dirs: string[] = []
  t.after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })
  await t.test('defaults need no configuration at all', () => {
    const config = loadConfig({})
    assert.equal(config.server.port, 8000)
    assert.equal(config.dataDir, './.atrium')
    assert.equal(config.catalog.url, undefined)
    assert.equal(config.rest.envelope, 'none')
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.server))
  })

  await t.test('the contract variables work exactly as written', () => {
    const config = loadConfig({
      PORT: '9100', HOST: '0.0.0.0', DATABASE_URL: 'postgres://u@db:5432/catalog', ATRIUM_DATA_DIR: '/var/lib/atrium',
      ATHENA_KEY_12: 'static-admin-key-0001', REDIS_URL: 'redis://127.0.0.1:6379',
      ATRIUM_CLIENT_SHOP: 'postgres://u@db/shop', ATRIUM_CLIENT_Legacy_Db: 'mysql://root@db/legacy',
    })
    assert.equal(config.server.port, 9100)
    assert.equal(config.server.host, '0.0.0.0')
    assert.equal(config.catalog.url, 'postgres://u@db:5432/catalog')
    assert.equal(config.dataDir, '/var/lib/atrium')
    assert.equal(config.adminKey, 'static-admin-key-0001')
    assert.equal(config.redisUrl, 'redis://127.0.0.1:6379')
    assert.deepEqual(Object.keys(config.sources).sort(), ['legacy_db', 'shop'])
    assert.equal(config.sources.legacy_db.url, 'mysql://root@db/legacy')
  })

  await t.test('ATRIUM_ADMIN_KEY is an alias; ATHENA_KEY_12 wins when both are set', () => {
    assert.equal(loadConfig({ ATRIUM_ADMIN_KEY: 'alias-admin-key-0001' }).adminKey, 'alias-admin-key-0001')
    assert.equal(loadConfig({ ATRIUM_ADMIN_KEY: 'alias-admin-key-0001', ATHENA_KEY_12: 'spec-admin-key-00001' }).adminKey, 'spec-admin-key-00001')
  })

  await t.test('atrium.yaml is read from ATRIUM_CONFIG and the environment overrides it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atrium-config-'))
    dirs.push(dir)
    const file = join(dir, 'atrium.yaml')
    writeFileSync(file, 'server:\n  port: 9200\nrest:\n  envelope: data\nsources:\n  shop:\n    url: postgres://u@db/shop\n    pool: { max: 3 }\n')
    const config = loadConfig({ ATRIUM_CONFIG: file, PORT: '9300' })
    assert.equal(config.server.port, 9300)
    assert.equal(config.rest.envelope, 'data')
    assert.equal(config.sources.shop.pool?.max, 3)
  })

  const invalid: Array<[string, Record<string, string>, RegExp]> = [
    ['a non-numeric PORT', { PORT: 'eighty' }, /PORT/],
    ['a port out of range', { PORT: '70000' }, /server\.port.*PORT/],
    ['an unknown URL scheme for a client', { ATRIUM_CLIENT_SHOP: 'oracle://db/shop' }, /sources\.shop\.url.*oracle/],
    ['a DATABASE_URL that is not PostgreSQL', { DATABASE_URL: 'mysql://db/catalog' }, /DATABASE_URL/],
    ['an admin key too short to be safe', { ATHENA_KEY_12: 'short' }, /adminKey.*ATHENA_KEY_12/],
    ['a bad boolean', { ATRIUM_REQUIRE_TENANT_HEADERS: 'maybe' }, /ATRIUM_REQUIRE_TENANT_HEADERS/],
    ['a bad rest envelope', { ATRIUM_REST_ENVELOPE: 'wrapped' }, /rest\.envelope/],
    // 0 would make every forwarded call time out at once
    ['an upstream timeout of 0', { ATRIUM_UPSTREAM_TIMEOUT_MS: '0' }, /gateway\.upstreamTimeoutMs \(env ATRIUM_UPSTREAM_TIMEOUT_MS\).*greater or equal to 1/],
  ]
  for (const [what, env, pattern] of invalid) {
    await t.test(`invalid: ${what}`, () => {
      assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && pattern.test(err.message))
    })
  }

  await t.test('invalid: unknown settings in atrium.yaml are named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atrium-config-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'bad.yaml'), 'server:\n  prot: 80\n')
    assert.throws(() => loadConfig({ ATRIUM_CONFIG: join(dir, 'bad.yaml') }), /server\.prot.*not a known setting/)
    writeFileSync(join(dir, 'broken.yaml'), 'server: [unclosed\n')
    assert.throws(() => loadConfig({ ATRIUM_CONFIG: join(dir, 'broken.yaml') }), /not valid YAML/)
  })

  await t.test('invalid: source names and source settings are checked, never skipped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atrium-config-'))
    dirs.push(dir)
    const load = (yaml: string) => {
      writeFileSync(join(dir, 'sources.yaml'), yaml)
      return () => loadConfig({ ATRIUM_CONFIG: join(dir, 'sources.yaml') })
    }
    // a name that does not match the pattern used to be skipped silently, unknown keys and all
    assert.throws(load('sources:\n  Other Shop:\n    url: postgres://u@db/other\n    colour: blue\n'),
      (err: unknown) => err instanceof ConfigError && /^invalid setting sources\.Other Shop .*"Other Shop" is not a valid client name/.test(err.message))
    assert.throws(load('sources:\n  Shop:\n    url: postgres://u@db/shop\n'), /sources\.Shop .*not a valid client name/)
    assert.throws(load('sources:\n  -shop:\n    url: postgres://u@db/shop\n'), /sources\.-shop .*not a valid client name/)
    assert.throws(load('sources:\n  shop:\n    url: postgres://u@db/shop\n    colour: blue\n'), /invalid setting sources\.shop\.colour \(atrium\.yaml\): is not a known setting$/)
    assert.throws(load('sources:\n  shop:\n    url: postgres://u@db/shop\n    pool: { maxx: 3 }\n'), /sources\.shop\.pool\.maxx.*not a known setting/)
    assert.throws(load('sources:\n  shop:\n    description: no url\n'), /sources\.shop\.url/)
    assert.doesNotThrow(load('sources:\n  shop_2-eu:\n    url: postgres://u@db/shop\n'))
  })

  await t.test('a source pool override carries no defaults of its own: unset fields come from pool', () => {
    const config = loadConfig({ ATRIUM_POOL_IDLE_TIMEOUT_MS: '1234' }, { sources: { shop: { url: 'postgres://u@db/shop', pool: { max: 3 } } } })
    assert.deepEqual(config.sources.shop.pool, { max: 3 })
    assert.equal(config.pool.idleTimeoutMs, 1234)
    // the schema says so too: no default that the loader would never apply
    const source = Object.values((ConfigSchema.properties.sources as unknown as { patternProperties: Record<string, TObject> }).patternProperties)[0]
    for (const [name, field] of Object.entries((source.properties.pool as TObject).properties)) assert.ok(!('default' in field), `sources.<name>.pool.${name} has no default`)
  })

  await t.test('invalid: timeouts that would fail every call at once', () => {
    assert.throws(() => loadConfig({}, { 'cluster.probeTimeoutMs': 0 }), /cluster\.probeTimeoutMs.*greater or equal to 1/)
    assert.throws(() => loadConfig({}, { 'gateway.upstreamTimeoutMs': 0 }), /gateway\.upstreamTimeoutMs/)
    assert.equal(loadConfig({}, { 'cluster.probeTimeoutMs': 1, 'gateway.upstreamTimeoutMs': 1 }).cluster.probeTimeoutMs, 1)
  })

  await t.test('invalid configuration stops the process with one clear message', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { PATH: process.env.PATH, PORT: 'eighty' }, encoding: 'utf8', timeout: 30_000 })
    assert.equal(run.status, 2)
    assert.match(run.stderr, /^atrium: invalid setting server\.port \(env PORT\)|PORT must be an integer/m)
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr)
  })
})
