import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import type { TSchema } from '@sinclair/typebox'
import { parse as parseYaml } from 'yaml'
import { ENV_SETTINGS, loadConfig } from '../../src/config/load.js'
import { ConfigSchema } from '../../src/config/schema.js'

// docs/configuration.md documents exactly the settings and environment variables the code knows:
// one table row per setting (path, env, type, default, meaning), every variable, no stale names.

const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')
const loaderSource = readFileSync(new URL('../../src/config/load.ts', import.meta.url), 'utf8')

/** the variables other tools rely on (the contracts in the architecture notes) */
const CONTRACT_VARIABLES = ['PORT', 'HOST', 'DATABASE_URL', 'ATRIUM_DATA_DIR', 'ATHENA_KEY_12', 'ATRIUM_ADMIN_KEY', 'ATRIUM_CLIENT_<NAME>', 'REDIS_URL', 'ATRIUM_CONFIG', 'ATRIUM_SECRET_KEY']

/** a record's keys are written `<name>` in setting paths: `sources.<name>.url` */
const NAME = '<name>'

interface Setting {
  path: string
  /** the default the loader fills in; Value.Default does not descend into records, so none there */
  default: { value: unknown } | undefined
}

/** every leaf setting of the schema, and every path that leads to one */
function walk(node: TSchema, path: string, inRecord: boolean, leaves: Setting[], paths: Set<string>): void {
  if (path) paths.add(path)
  if (node.type === 'object' && node.properties) {
    for (const [key, child] of Object.entries(node.properties as Record<string, TSchema>)) walk(child, path ? `${path}.${key}` : key, inRecord, leaves, paths)
  } else if (node.type === 'object' && node.patternProperties) {
    for (const child of Object.values(node.patternProperties as Record<string, TSchema>)) walk(child, `${path}.${NAME}`, true, leaves, paths)
  } else {
    leaves.push({ path, default: !inRecord && 'default' in node ? { value: node.default } : undefined })
  }
}

const settings: Setting[] = []
const knownPaths = new Set<string>()
walk(ConfigSchema, '', false, settings, knownPaths)
const leafPaths = new Set(settings.map((s) => s.path))

/** variables the loader reads besides ENV_SETTINGS: env.NAME, and the ATRIUM_CLIENT_<NAME> prefix */
const directVariables = [...loaderSource.matchAll(/\benv\.([A-Z][A-Z0-9_]*)\b/g)].map((m) => m[1])
const clientPrefix = /const CLIENT_PREFIX = '([A-Z0-9_]+)'/.exec(loaderSource)?.[1]
const envNames = new Set(ENV_SETTINGS.map(([name]) => name))
const isKnownVariable = (name: string) => envNames.has(name) || directVariables.includes(name) || (clientPrefix !== undefined && name.startsWith(clientPrefix))

/** table rows `| `path` | env | type | default | meaning |` */
interface Row { env: string; type: string; default: string; meaning: string }
const rows = new Map<string, Row[]>()
for (const line of doc.split('\n')) {
  if (!line.startsWith('| `')) continue
  const cells = line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim())
  const path = /^`([^`]+)`$/.exec(cells[0])?.[1]
  if (cells.length !== 5 || !path) continue
  rows.set(path, [...(rows.get(path) ?? []), { env: cells[1], type: cells[2], default: cells[3], meaning: cells[4] }])
}
const codeSpans = (text: string) => [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1])
/** prose without fenced blocks, so inline code spans pair up */
const prose = doc.replace(/^```[^\n]*\n[\s\S]*?^```\s*$/gm, '')

test('the code has what this test walks', () => {
  assert.ok(settings.length > 20 && leafPaths.has('security.enforceApiKeys') && leafPaths.has(`sources.${NAME}.url`), 'walked the schema')
  assert.ok(clientPrefix, 'found CLIENT_PREFIX in src/config/load.ts')
  assert.ok(directVariables.includes('ATRIUM_CONFIG'), 'found the env.ATRIUM_CONFIG read in src/config/load.ts')
})

test('docs/configuration.md has one row per setting, with its default', () => {
  for (const { path, default: def } of settings) {
    const found = rows.get(path)
    assert.ok(found, `${path} is missing from docs/configuration.md (a table row | \`${path}\` | env | type | default | meaning |)`)
    assert.equal(found.length, 1, `${path} has ${found.length} rows in docs/configuration.md`)
    assert.ok(found[0].meaning.length > 0, `${path}: the row says nothing about what it does`)
    const cell = found[0].default
    if (def) {
      const literal = /^`([^`]+)`/.exec(cell)?.[1]
      assert.ok(literal !== undefined, `${path}: the default cell "${cell}" should start with \`${JSON.stringify(def.value)}\``)
      let documented: unknown
      try {
        documented = JSON.parse(literal)
      } catch {
        assert.fail(`${path}: the default \`${literal}\` is not a JSON/YAML literal; the code says ${JSON.stringify(def.value)}`)
      }
      assert.deepEqual(documented, def.value, `${path}: docs say the default is ${literal}, the code says ${JSON.stringify(def.value)}`)
    } else {
      assert.ok(!cell.startsWith('`'), `${path} has no default the loader fills in, but the doc gives ${cell}`)
    }
  }
  for (const path of rows.keys()) assert.ok(leafPaths.has(path), `docs/configuration.md documents ${path}, which is not a setting`)
})

test('every environment variable is documented in the row of the setting it sets', () => {
  for (const [name, path] of ENV_SETTINGS) {
    assert.ok(leafPaths.has(path), `ENV_SETTINGS maps ${name} to ${path}, which is not a setting of the schema`)
    assert.ok(codeSpans(rows.get(path)?.[0]?.env ?? '').includes(name), `${name} is missing from the env cell of ${path} in docs/configuration.md`)
  }
  for (const [path, [row]] of rows) {
    for (const name of codeSpans(row.env)) {
      const setsThis = ENV_SETTINGS.some(([n, p]) => n === name && p === path) || (path === `sources.${NAME}.url` && name === `${clientPrefix}<NAME>`)
      assert.ok(setsThis, `docs/configuration.md says ${name} sets ${path}; the code does not`)
    }
    if (!ENV_SETTINGS.some(([, p]) => p === path) && path !== `sources.${NAME}.url`) assert.equal(row.env, '—', `${path} has no environment variable; its env cell should be —`)
  }
})

test('every contract variable and every variable the loader reads is documented', () => {
  for (const name of [...CONTRACT_VARIABLES, ...directVariables, `${clientPrefix}<NAME>`]) {
    assert.ok(doc.includes(`\`${name}\``), `${name} is missing from docs/configuration.md`)
    assert.ok(isKnownVariable(name), `${name} is a contract variable, but src/config/load.ts does not read it`)
  }
})

test('docs/configuration.md names no variable the code does not know', () => {
  for (const [name] of doc.matchAll(/\b(?:ATRIUM|ATHENA)_[A-Z0-9_]*/g)) {
    assert.ok(isKnownVariable(name), `docs/configuration.md mentions ${name}, which the code does not read`)
  }
})

test('setting paths mentioned in the prose exist', () => {
  const sections = new Set(Object.keys(ConfigSchema.properties))
  const known = [...knownPaths].map((p) => new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll(NAME, '[^.]+')}$`))
  for (const span of codeSpans(prose)) {
    const path = span.replace(/\.\*$/, '')
    if (!/^[A-Za-z]+(\.[A-Za-z0-9_<>-]+)+$/.test(path) || !sections.has(path.split('.')[0])) continue
    assert.ok(known.some((re) => re.test(path)), `docs/configuration.md mentions \`${span}\`, which is not a setting`)
  }
})

test('the YAML examples in docs/configuration.md are valid configuration', () => {
  const blocks = [...doc.matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map((m) => m[1])
  assert.ok(blocks.length >= 2, 'the doc has a sources example and a complete example')
  for (const block of blocks) {
    const parsed = parseYaml(block) as Record<string, unknown>
    assert.doesNotThrow(() => loadConfig({}, parsed), `this example does not load:\n${block}`)
  }
})
