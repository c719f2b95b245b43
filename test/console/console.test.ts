// The web console in a real chromium against a real Atrium: sign in, browse and edit a table, run SQL, a read
// key's refused write, a key created (its secret shown once), edited and revoked, a backup job watched to the end.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { ADMIN_KEY, startTestAtrium, type TestAtrium } from '../helpers/atrium.js'
import { asUser, connectionConfig, JWT_SECRET, sessionToken } from '../helpers/assistant.js'
import { createKey } from '../helpers/auth-grid.js'
import { ensureConsoleBuilt, launchBrowser, step } from '../helpers/browser.js'
import { createPgDatabase } from '../helpers/databases.js'

const WAIT = { timeout: 15_000 }

async function signedIn(browser: Browser, atrium: TestAtrium, credential: string): Promise<Page> {
  const context = await browser.newContext()
  const page = await context.newPage()
  page.setDefaultTimeout(WAIT.timeout)
  await page.goto(`${atrium.url}/console/`)
  await page.getByLabel(/Admin key, API key/).fill(credential)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: 'Sign out' }).waitFor()
  return page
}

/** every form control on the page has a label a screen reader announces */
async function assertLabelled(page: Page) {
  // runs in the page: its DOM types are not the server's
  const unlabelled = await page.evaluate(() => {
    const doc = (globalThis as any).document
    return [...doc.querySelectorAll('input, select, textarea')]
      .filter((el: any) => el.labels?.length === 0 && !el.getAttribute('aria-label') && el.type !== 'hidden')
      .map((el: any) => String(el.outerHTML).slice(0, 80))
  })
  assert.deepEqual(unlabelled, [])
}

const navTo = (page: Page, view: string) => page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: view }).click()

test('the console in a browser', { timeout: 240_000 }, async (t) => {
  ensureConsoleBuilt()
  const browser = await launchBrowser(t)
  if (!browser) return
  const db = await createPgDatabase(t)
  await db.query(`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(8,2));
    CREATE TABLE orders (id serial PRIMARY KEY, item_id int NOT NULL REFERENCES items (id), qty int);
    INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 30) g;
    INSERT INTO orders (item_id, qty) VALUES (1, 3)`)
  // sessions on, for chat; the webhook receiver below and the test database is on this machine, so Assistant connections may be private
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_JWT_SECRET: JWT_SECRET, ATRIUM_WEBHOOKS_ALLOW_PRIVATE: 'true' }, settings: { 'assistant.allowPrivateConnections': true } })
  const admin = await signedIn(browser, atrium, ADMIN_KEY)

  await t.test('a wrong credential is refused with a message; the admin key sees every view', async () => {
    const page = await (await browser.newContext()).newPage()
    await step(page, 'sign-in refused', async () => {
      await page.goto(`${atrium.url}/console/sql`)
      await page.getByLabel(/Admin key, API key/).fill('not-a-key')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('alert').filter({ hasText: 'not the admin key' }).waitFor(WAIT)
      await assertLabelled(page)
    })
    await step(admin, 'admin views', async () => {
      const links = await admin.getByRole('navigation', { name: 'Views' }).getByRole('link').allTextContents()
      assert.deepEqual(links, ['Sources', 'Tables', 'SQL', 'Chat', 'Jobs', 'Keys and webhooks', 'Health'])
    })
  })

  await t.test('sources and the schema browser: engine, status, keys and relationships', async () => {
    await step(admin, 'sources', async () => {
      await navTo(admin, 'Sources')
      const sources = admin.getByRole('region', { name: 'Data sources' })
      await sources.getByRole('cell', { name: 'shop', exact: true }).waitFor()
      assert.match(await sources.locator('tr', { hasText: 'shop' }).innerText(), /postgresql.*active, connected/s)
      await admin.getByLabel('Data source', { exact: true }).selectOption('shop')
      await admin.getByRole('button', { name: 'public.orders' }).click()
      await admin.getByText('Primary key:').filter({ hasText: 'id' }).waitFor()
      await admin.getByText('references: item_id → public.items (id)').waitFor()
      await assertLabelled(admin)
      await admin.getByRole('button', { name: 'Browse rows' }).click()
      await admin.getByRole('heading', { name: 'Tables', level: 1 }).waitFor()
      assert.equal(new URL(admin.url()).pathname, '/console/tables')
    })
  })

  await t.test('browse a table: pages, sort, filter; edit a cell and insert a row', async () => {
    await step(admin, 'browse', async () => {
      await admin.getByLabel('Table', { exact: true }).selectOption('items')
      await admin.getByText('Page 1 of 2 · 30 rows').waitFor()
      await admin.getByRole('button', { name: 'Next page' }).click()
      await admin.getByText('Page 2 of 2 · 30 rows').waitFor()
      await admin.getByRole('button', { name: 'Previous page' }).click()
      const grid = admin.getByRole('region', { name: 'Rows of items' })
      await grid.getByRole('button', { name: 'id', exact: true }).click()
      await grid.getByRole('button', { name: 'id ▲' }).click()
      await grid.getByRole('button', { name: 'id ▼' }).waitFor()
      assert.equal(await grid.locator('tbody tr').first().locator('td').first().innerText(), '30')
      await admin.getByRole('button', { name: 'Add filter' }).click()
      await admin.getByLabel('Column', { exact: true }).selectOption('name')
      await admin.getByLabel('Value', { exact: true }).fill('item 7')
      await admin.getByText('Page 1 of 1 · 1 rows').waitFor()
      await assertLabelled(admin)
    })
    await step(admin, 'edit and insert', async () => {
      await admin.getByRole('button', { name: 'Edit name = item 7' }).click()
      await admin.getByLabel('New value of name').fill('seven')
      await admin.getByRole('button', { name: 'Save' }).click()
      await admin.getByText('Saved name.').waitFor()
      assert.deepEqual(await db.query('SELECT name FROM items WHERE id = 7'), [{ name: 'seven' }])
      await admin.getByRole('button', { name: 'Remove filter' }).click()
      await admin.getByRole('button', { name: 'Insert a row' }).click()
      const form = admin.getByRole('form', { name: 'New row' })
      await form.getByLabel(/^id/).fill('31')
      await form.getByLabel(/^name/).fill('thirty-one')
      await form.getByLabel(/^price/).fill('2.25')
      await form.getByRole('button', { name: 'Insert' }).click()
      await admin.getByText('Row inserted.').waitFor()
      assert.deepEqual(await db.query('SELECT name, price::text FROM items WHERE id = 31'), [{ name: 'thirty-one', price: '2.25' }])
    })
  })

  await t.test('SQL: the class before running, results, CSV export, an error with its position', async () => {
    await step(admin, 'sql', async () => {
      await navTo(admin, 'SQL')
      await admin.getByLabel('Data source', { exact: true }).selectOption('shop')
      await admin.getByRole('textbox', { name: /^SQL/ }).fill('select id, name from items where id <= 3 order by id')
      await admin.locator('#sql-class').filter({ hasText: 'Statement class: read — you may run it' }).waitFor()
      await admin.getByRole('button', { name: 'Run' }).click()
      await admin.getByText('3 rows returned').waitFor()
      const results = admin.getByRole('region', { name: 'Query results' })
      assert.equal(await results.locator('tbody tr').count(), 3)
      const [download] = await Promise.all([admin.waitForEvent('download'), admin.getByRole('button', { name: 'Export CSV' }).click()])
      const csv = readFileSync((await download.path())!, 'utf8')
      assert.equal(csv, 'id,name\r\n1,item 1\r\n2,item 2\r\n3,item 3\r\n')
      await admin.getByRole('textbox', { name: /^SQL/ }).fill('delete from orders')
      await admin.locator('#sql-class').filter({ hasText: 'Statement class: write' }).waitFor()
      await admin.getByRole('textbox', { name: /^SQL/ }).fill('select id,\n  nme from items')
      await admin.getByRole('button', { name: 'Run' }).click()
      const error = admin.getByRole('alert').filter({ hasText: 'nme' })
      await error.waitFor()
      assert.match(await error.innerText(), /line 2, column 3:\n\s*nme from items\n\s*\^/)
      assert.equal((await db.query('SELECT count(*)::int AS n FROM orders'))[0].n, 1)
    })
  })

  await t.test('a read key sees only what it may do, and its write is refused', async () => {
    const reader = await createKey(atrium, { name: 'reader', rights: ['gateway.read', 'sql.read', 'schema.read'] })
    const page = await signedIn(browser, atrium, reader.key)
    await step(page, 'read key', async () => {
      const links = await page.getByRole('navigation', { name: 'Views' }).getByRole('link').allTextContents()
      assert.deepEqual(links, ['Sources', 'Tables', 'SQL', 'Chat', 'Jobs', 'Health'])
      await navTo(page, 'Tables')
      await page.getByLabel('Data source', { exact: true }).selectOption('shop')
      await page.getByLabel('Table', { exact: true }).selectOption('items')
      await page.getByText('Page 1 of 2 · 31 rows').waitFor()
      await page.getByRole('button', { name: 'Edit name = item 1', exact: true }).click()
      await page.getByLabel('New value of name').fill('hacked')
      await page.getByRole('button', { name: 'Save' }).click()
      const refused = page.getByRole('alert').filter({ hasText: 'Write refused (HTTP 403' })
      await refused.waitFor()
      assert.match(await refused.innerText(), /gateway\.update/)
      assert.equal(await page.locator('button.cell').count(), 0, 'the edit controls are put away')
      assert.equal(await page.getByRole('button', { name: 'Insert a row' }).count(), 0)
      assert.deepEqual(await db.query('SELECT name FROM items WHERE id = 1'), [{ name: 'item 1' }])
      await navTo(page, 'SQL')
      await page.getByLabel('Data source', { exact: true }).selectOption('shop')
      await page.getByRole('textbox', { name: /^SQL/ }).fill('delete from items')
      await page.locator('#sql-class').filter({ hasText: 'not allowed for this credential (needs sql.write)' }).waitFor()
      await page.getByRole('button', { name: 'Run' }).click()
      await page.getByRole('alert').filter({ hasText: 'Refused (HTTP 403, missing_right)' }).waitFor()
      assert.equal((await db.query('SELECT count(*)::int AS n FROM items'))[0].n, 31)
    })
  })

  await t.test('create a key (its secret shown once) and revoke it', async () => {
    await step(admin, 'keys', async () => {
      await navTo(admin, 'Keys and webhooks')
      await admin.getByLabel('Name', { exact: true }).fill('console made')
      await admin.getByRole('button', { name: 'Create key' }).click()
      const secret = await admin.getByLabel('The new secret').inputValue()
      assert.match(secret, /^ath_[^.]+\..+/)
      const works = await atrium.get('/rest/v1/items?select=id&limit=1', { client: 'shop', key: secret })
      assert.equal(works.status, 200)
      const row = admin.getByRole('region', { name: 'API keys' }).locator('tr', { hasText: 'console made' })
      await row.waitFor()
      assert.ok(!(await row.innerText()).includes(secret.split('.')[1]), 'the list never shows the secret')
      await admin.getByRole('button', { name: 'I have stored it' }).click()
      assert.equal(await admin.getByLabel('The new secret').count(), 0)
      await admin.reload()
      await row.waitFor()
      assert.equal(await admin.getByLabel('The new secret').count(), 0, 'the secret is not shown again')
      admin.once('dialog', (dialog) => dialog.accept())
      await admin.getByRole('button', { name: 'Revoke console made' }).click()
      await row.waitFor({ state: 'detached' })
      const revoked = await atrium.get('/rest/v1/items?select=id&limit=1', { client: 'shop', key: secret })
      assert.equal(revoked.status, 401)
    })
  })

  await t.test("edit a key's rights, deactivate it; a refused edit shows the API's message", async () => {
    const made = await createKey(atrium, { name: 'editable', rights: ['gateway.read'] })
    const insert = (id: number) => atrium.request('POST', '/rest/v1/items', { client: 'shop', key: made.key, body: { id, name: `edited ${id}` } })
    const rightsInCatalog = async () => (await atrium.get('/admin/api-keys')).body.api_keys.find((k: any) => k.id === made.id)
    assert.equal((await insert(40)).status, 403, 'gateway.read alone may not insert')
    await step(admin, 'edit key', async () => {
      await navTo(admin, 'Keys and webhooks')
      await admin.reload() // the list was loaded before this key was made
      await admin.getByRole('button', { name: 'Edit editable' }).click()
      const form = admin.getByRole('form', { name: 'Edit API key editable' })
      assert.equal(await form.getByRole('checkbox', { name: 'gateway.read' }).isChecked(), true)
      await form.getByRole('checkbox', { name: 'gateway.insert' }).check()
      await form.getByRole('button', { name: 'Save changes' }).click()
      await admin.getByText('Saved the key "editable".').waitFor()
      assert.equal(await admin.getByLabel('The new secret').count(), 0, 'an edit never shows the secret')
      assert.ok(!(await admin.content()).includes(made.key.split('.')[1]))
      // the list is read again after the save
      await admin.getByRole('region', { name: 'API keys' }).locator('tr', { hasText: 'editable' }).filter({ hasText: 'gateway.insert' }).waitFor()
    })
    const inserted = await insert(41)
    assert.equal(inserted.status, 201, inserted.text)
    assert.deepEqual((await rightsInCatalog()).rights.sort(), ['gateway.insert', 'gateway.read'])
    await step(admin, 'refused edit', async () => {
      await admin.getByRole('button', { name: 'Edit editable' }).click()
      const form = admin.getByRole('form', { name: 'Edit API key editable' })
      await form.getByLabel(/^Expires/).fill('2030-02-30')
      await form.getByRole('button', { name: 'Save changes' }).click()
      const refused = form.getByRole('alert')
      await refused.filter({ hasText: 'expires_at: "2030-02-30" is not a date-time' }).waitFor()
      assert.match(await refused.innerText(), /Not saved \(HTTP 400, invalid_request\)/)
      assert.equal((await rightsInCatalog()).expires_at, null, 'nothing was changed')
    })
    await step(admin, 'deactivate key', async () => {
      const form = admin.getByRole('form', { name: 'Edit API key editable' })
      await form.getByLabel(/^Expires/).fill('')
      await form.getByRole('checkbox', { name: /^Active/ }).uncheck()
      await form.getByRole('button', { name: 'Save changes' }).click()
      await admin.getByText('Saved the key "editable".').waitFor()
      await admin.getByRole('region', { name: 'API keys' }).locator('tr', { hasText: 'editable' }).getByRole('cell', { name: 'no', exact: true }).waitFor()
    })
    assert.equal((await rightsInCatalog()).is_active, false)
    const refused = await atrium.get('/rest/v1/items?select=id&limit=1', { client: 'shop', key: made.key })
    assert.ok([401, 403].includes(refused.status), `an inactive key is refused, got ${refused.status}`)
    assert.ok([401, 403].includes((await insert(42)).status))
    await db.query('DELETE FROM items WHERE id >= 40')
  })

  await t.test('add a webhook endpoint (its secret shown once), send it a test event, see the delivery', async () => {
    const received: string[] = []
    const receiver = createServer((req, res) => {
      req.resume()
      req.on('end', () => { received.push(String(req.headers['webhook-signature'])); res.end('ok') })
    })
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done))
    t.after(() => new Promise<void>((done) => receiver.close(() => done())))
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
    await step(admin, 'webhooks', async () => {
      await admin.getByLabel('Endpoint URL').fill(url)
      await admin.getByRole('button', { name: 'Add endpoint' }).click()
      assert.match(await admin.getByLabel('The new secret').inputValue(), /^whsec_/)
      await admin.getByRole('button', { name: 'I have stored it' }).click()
      await admin.getByRole('button', { name: `Send a test event to ${url}` }).click()
      const deliveries = admin.getByRole('region', { name: 'Deliveries' })
      // the delivery is a job: refresh (bounded) until it has reached the receiver; other events (admission
      // refusals) may be delivered to the same endpoint first, so wait for the test event's own row
      const delivered = /webhook\.test\s+succeeded/
      for (let i = 0; i < 60 && !delivered.test(await deliveries.innerText()); i++) {
        await admin.waitForTimeout(500)
        await admin.getByRole('button', { name: 'Refresh' }).click()
      }
      assert.match(await deliveries.innerText(), delivered)
      assert.match(received[0], /^v1,/)
    })
  })

  await t.test('watch a backup job finish', async () => {
    await step(admin, 'jobs', async () => {
      await navTo(admin, 'Jobs')
      await admin.getByLabel('Data source', { exact: true }).selectOption('shop')
      await admin.getByRole('button', { name: 'Back up this source' }).click()
      const queued = await admin.getByText(/Backup of shop queued as job/).innerText()
      const uuid = /job (\S+)\./.exec(queued)![1]
      const row = admin.getByRole('region', { name: 'Jobs' }).locator('tr', { hasText: uuid })
      await row.filter({ hasText: 'succeeded' }).waitFor({ timeout: 120_000 })
      assert.match(await row.innerText(), /100%/)
    })
  })

  await t.test('chat as a session: a question becomes SQL, edited, then run', async () => {
    const token = await sessionToken('ada')
    const made = await asUser(atrium, token)('POST', '/api/connections', { name: 'shop', ...connectionConfig(db) })
    assert.equal(made.status, 201, made.text)
    const page = await signedIn(browser, atrium, token)
    await step(page, 'chat', async () => {
      const links = await page.getByRole('navigation', { name: 'Views' }).getByRole('link').allTextContents()
      assert.deepEqual(links, ['Sources', 'Tables', 'SQL', 'Chat', 'Jobs', 'Health'])
      await navTo(page, 'Chat')
      await page.getByLabel('Connection', { exact: true }).fill('shop')
      await page.getByLabel('Provider').selectOption('builtin')
      await page.getByLabel('Question').fill('how many items')
      await page.getByRole('button', { name: 'Ask' }).click()
      const sql = page.getByRole('textbox', { name: /^SQL from builtin/ })
      assert.match(await sql.inputValue(), /COUNT\(\*\)/i)
      await sql.fill('SELECT count(*) AS n FROM items WHERE id <= 5')
      await page.getByRole('button', { name: 'Run' }).click()
      await page.getByText('1 rows').waitFor()
      assert.equal(await page.getByRole('region', { name: 'Chat results' }).locator('tbody td').innerText(), '5')
      await assertLabelled(page)
    })
  })

  await t.test('a platform key sees its team\'s databases and its own key, not the data views', async () => {
    const made = await atrium.post('/admin/platform-keys', { body: { email: 'grace@example.com', name: 'console' } })
    assert.equal(made.status, 201, made.text)
    const page = await signedIn(browser, atrium, made.body.data.key)
    await step(page, 'platform key', async () => {
      const links = await page.getByRole('navigation', { name: 'Views' }).getByRole('link').allTextContents()
      assert.deepEqual(links, ['Sources', 'Jobs', 'Keys and webhooks', 'Health'])
      await page.getByRole('heading', { name: 'Databases of your team' }).waitFor()
      await navTo(page, 'Keys and webhooks')
      await page.getByRole('heading', { name: 'This platform key' }).waitFor()
      assert.match(await page.locator('dl.facts').innerText(), /databases:read/)
      await page.getByRole('region', { name: 'Webhook endpoints' }).waitFor()
      assert.equal(await page.getByRole('alert').count(), 0, 'nothing it shows is refused')
    })
  })

  await t.test('health charts from /metrics', async () => {
    await step(admin, 'health', async () => {
      await navTo(admin, 'Health')
      await admin.getByRole('img', { name: /^Requests, last/ }).waitFor()
      await admin.getByRole('img', { name: /^Mean latency/ }).waitFor()
      await admin.getByRole('img', { name: /^Server errors/ }).waitFor()
    })
  })
})
