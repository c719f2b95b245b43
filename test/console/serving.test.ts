// How Atrium serves the console at /console: its page for every view, cached hashed assets, the security
// headers, no file outside the build, and a clear 503 when the console is not built. No browser needed.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startTestAtrium } from '../helpers/atrium.js'
import { ensureConsoleBuilt } from '../helpers/browser.js'

test('GET /console serves the built console without a key', async (t) => {
  ensureConsoleBuilt()
  const atrium = await startTestAtrium(t)

  await t.test('the page, for the root and for any view path (client-side routes), never cached stale', async () => {
    for (const path of ['/console', '/console/', '/console/tables', '/console/sql/deep/link']) {
      const res = await atrium.get(path, { key: null })
      assert.equal(res.status, 200, path)
      assert.match(res.headers.get('content-type')!, /^text\/html/)
      assert.equal(res.headers.get('cache-control'), 'no-cache')
      assert.match(res.text, /<div id="app">/)
      assert.match(res.headers.get('content-security-policy')!, /script-src 'self'/)
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
    }
  })

  await t.test('hashed assets are served with their type and cached for good', async () => {
    const page = (await atrium.get('/console', { key: null })).text
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(page)?.[1]
    const style = /href="(\/console\/assets\/[^"]+\.css)"/.exec(page)?.[1]
    assert.ok(script && style, 'the page links its script and style')
    const js = await atrium.get(script, { key: null })
    assert.equal(js.status, 200)
    assert.match(js.headers.get('content-type')!, /^text\/javascript/)
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable')
    assert.ok(js.text.length > 1000)
    const css = await atrium.get(style, { key: null })
    assert.match(css.headers.get('content-type')!, /^text\/css/)
  })

  await t.test('a missing file is a 404 in the Athena shape, and nothing outside the build is reachable', async () => {
    const missing = await atrium.get('/console/assets/nope-123.js', { key: null })
    assert.equal(missing.status, 404)
    assert.equal(missing.body.code, 'route_not_found')
    for (const path of ['/console/..%2F..%2Fpackage.json', '/console/%2e%2e/%2e%2e/package.json', '/console/assets/..%2F..%2F..%2Fpackage.json']) {
      const res = await atrium.get(path, { key: null })
      assert.notEqual(res.status, 200, path)
      assert.doesNotMatch(res.text, /"devDependencies"/, path)
    }
  })
})

test('GET /console without a built console answers 503 console_not_built, as JSON or as a page', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'atrium-no-console-'))
  t.after(() => rmSync(empty, { recursive: true, force: true }))
  const atrium = await startTestAtrium(t, { env: { ATRIUM_CONSOLE_DIR: empty } })
  const json = await atrium.get('/console/tables', { key: null })
  assert.equal(json.status, 503)
  assert.equal(json.body.code, 'console_not_built')
  assert.match(json.body.hint, /npm run build/)
  const html = await atrium.get('/console', { key: null, headers: { accept: 'text/html' } })
  assert.equal(html.status, 503)
  assert.match(html.headers.get('content-type')!, /^text\/html/)
  assert.match(html.text, /npm run build/)
  // the APIs do not depend on it
  assert.equal((await atrium.get('/ping', { key: null })).status, 200)
})
