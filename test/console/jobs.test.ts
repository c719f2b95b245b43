// The console's Jobs view for the credentials other than the admin key, in a real chromium: a session (a
// Workspace user) sees its tenant's query jobs and not another tenant's; a platform key sees its team's
// databases (their provisioning) and not another team's; an API key sees the gateway calls it deferred, not
// another key's.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import type { Browser, Page } from 'playwright-core'
import { startTestAtrium, type TestAtrium } from '../helpers/atrium.js'
import { ensureConsoleBuilt, launchBrowser, step } from '../helpers/browser.js'
import { createKey } from '../helpers/auth-grid.js'
import { createPgDatabase, PG_ADMIN_URL } from '../helpers/databases.js'
import { MANAGED_SERVERS_ENV } from '../api/databases/helpers.js'
import { JWT_SECRET, signToken } from '../api/workspace/workspace-helpers.js'

const WAIT = { timeout: 15_000 }

async function signedIn(browser: Browser, atrium: TestAtrium, credential: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage()
  page.setDefaultTimeout(WAIT.timeout)
  await page.goto(`${atrium.url}/console/`)
  await page.getByLabel(/Admin key, API key/).fill(credential)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: 'Sign out' }).waitFor()
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Jobs' }).click()
  return page
}

/** a tenant with one Org admin, signed in, who saved a query and ran it to the end; the job's id */
async function tenantWithAJob(atrium: TestAtrium, label: string): Promise<{ token: string; jobId: string }> {
  const tenant = await atrium.post('/api/v1/tenants', { body: { name: `console ${label}` } })
  assert.equal(tenant.status, 201, tenant.text)
  const email = `admin@${label}.example.test`
  const user = await atrium.post('/api/v1/users', { body: { email, name: `admin of ${label}`, role: 'Org admin' }, headers: { 'x-tenant-id': tenant.body.id } })
  assert.equal(user.status, 201, user.text)
  const token = await signToken({ sub: `sub-${label}`, email })
  const as = (method: string, path: string, body?: unknown) => atrium.request(method, path, { key: null, headers: { authorization: `Bearer ${token}` }, body })
  const project = await as('POST', '/api/v1/projects', { name: `project ${label}` })
  assert.equal(project.status, 201, project.text)
  const query = await as('POST', '/api/v1/queries', { query_text: 'SELECT 1', project_id: project.body.id })
  assert.equal(query.status, 201, query.text)
  const run = await as('POST', '/api/v1/queries/run', { query_id: query.body.id, query_text: `SELECT '${label}' AS tenant` })
  assert.equal(run.status, 200, run.text)
  const jobId = run.body.job_id as string
  for (let i = 0; i < 300; i++) { // bounded: 30 s at most
    const job = await as('GET', `/api/v1/query_jobs/${jobId}`)
    assert.equal(job.status, 200, job.text)
    if (job.body.status === 'done') return { token, jobId }
    assert.ok(['pending', 'running'].includes(job.body.status), job.text)
    await sleep(100)
  }
  throw new Error(`query job ${jobId} did not finish`)
}

/** a platform key (its own team) that created one PostgreSQL database and waited for it */
async function teamWithADatabase(atrium: TestAtrium, label: string, made: Array<{ db_name: string; db_username: string }>) {
  const key = await atrium.post('/admin/platform-keys', { body: { email: `${label}@example.test`, name: label, requests_per_minute: 100_000 } })
  assert.equal(key.status, 201, key.text)
  const created = await atrium.request('POST', '/api/v1/databases?wait=true&timeout=30', {
    key: null, headers: { authorization: `Bearer ${key.body.data.key}` }, body: { name: `${label}-db`, db_type: 'postgres' },
  })
  if (created.body?.data?.db_name) made.push(created.body.data)
  assert.equal(created.status, 201, created.text)
  return { key: key.body.data.key as string, name: created.body.data.name as string }
}

test('the Jobs view shows a session and a platform key their own jobs only', { timeout: 240_000 }, async (t) => {
  ensureConsoleBuilt()
  const browser = await launchBrowser(t)
  if (!browser) return
  const made: Array<{ db_name: string; db_username: string }> = []
  const atrium = await startTestAtrium(t, { env: { ATRIUM_JWT_SECRET: JWT_SECRET, ...MANAGED_SERVERS_ENV }, settings: { 'jobs.pollIntervalMs': 200 } })
  // the databases made are dropped even when an assertion failed first; added after the server's own hooks, so it
  // runs once the server is closed and no provisioning job can recreate them
  t.after(async () => {
    if (!made.length) return
    const c = new pg.Client({ connectionString: PG_ADMIN_URL })
    await c.connect()
    try {
      for (const d of made) {
        await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(d.db_name)} WITH (FORCE)`)
        await c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(d.db_username)}`)
      }
    } finally { await c.end() }
  })

  await t.test("a session sees its tenant's query jobs, not another tenant's", async () => {
    const [mine, theirs] = [await tenantWithAJob(atrium, 'alpha'), await tenantWithAJob(atrium, 'beta')]
    const page = await signedIn(browser, atrium, mine.token)
    await step(page, 'session jobs', async () => {
      const grid = page.getByRole('region', { name: 'Query jobs' }).last()
      const row = grid.locator('tr', { hasText: mine.jobId })
      await row.filter({ hasText: 'done' }).waitFor()
      assert.match(await row.innerText(), /SELECT 'alpha' AS tenant/)
      assert.equal(await grid.locator('tbody tr').count(), 1, 'exactly its own job')
      assert.ok(!(await page.content()).includes(theirs.jobId), "another tenant's job is not shown")
      assert.equal(await page.getByRole('alert').count(), 0)
    })
  })

  await t.test("a platform key sees its team's databases being provisioned, not another team's", async () => {
    const mine = await teamWithADatabase(atrium, 'console-pk-a', made)
    const theirs = await teamWithADatabase(atrium, 'console-pk-b', made)
    const page = await signedIn(browser, atrium, mine.key)
    await step(page, 'platform key jobs', async () => {
      const grid = page.getByRole('region', { name: 'Databases' })
      await grid.locator('tr', { hasText: mine.name }).filter({ hasText: 'active' }).waitFor()
      assert.equal(await grid.locator('tbody tr').count(), 1, 'exactly its team\'s database')
      assert.ok(!(await page.content()).includes(theirs.name), "another team's database is not shown")
      assert.equal(await page.getByRole('alert').count(), 0)
    })
  })
})

test("the Jobs view shows an API key its deferred gateway requests, not another key's", { timeout: 240_000 }, async (t) => {
  ensureConsoleBuilt()
  const browser = await launchBrowser(t)
  if (!browser) return
  const db = await createPgDatabase(t)
  await db.query(`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL); INSERT INTO items VALUES (1, 'one'), (2, 'two')`)
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const [mine, theirs] = [await createKey(atrium, { name: 'deferring', rights: ['gateway.read'] }), await createKey(atrium, { name: 'other', rights: ['gateway.read'] })]
  const defer = async (key: string, id: number) => {
    const res = await atrium.post('/gateway/fetch', {
      client: 'shop', key, headers: { prefer: 'respond-async' }, body: { table_name: 'items', columns: 'id,name', conditions: [{ eq_column: 'id', eq_value: String(id) }] },
    })
    assert.equal(res.status, 202, res.text)
    return res.body.data.request_id as string
  }
  const myIds = [await defer(mine.key, 1), await defer(mine.key, 2)]
  const theirId = await defer(theirs.key, 1)

  await t.test('the key that deferred two calls sees exactly those two', async () => {
    const page = await signedIn(browser, atrium, mine.key)
    await step(page, 'key deferred requests', async () => {
      const grid = page.getByRole('region', { name: 'Deferred requests' }).last()
      for (const id of myIds) await grid.locator('tr', { hasText: id }).filter({ hasText: 'succeeded' }).waitFor()
      assert.equal(await grid.locator('tbody tr').count(), 2, 'exactly its own two')
      assert.match(await grid.locator('tr', { hasText: myIds[0] }).innerText(), /gateway\.fetch\s+shop\s+succeeded/)
      assert.ok(!(await page.content()).includes(theirId), "another key's request is not shown")
      assert.equal(await page.getByRole('alert').count(), 0)
    })
  })

  await t.test('another key sees none of them', async () => {
    const page = await signedIn(browser, atrium, theirs.key)
    await step(page, 'other key deferred requests', async () => {
      const grid = page.getByRole('region', { name: 'Deferred requests' }).last()
      await grid.locator('tr', { hasText: theirId }).waitFor()
      assert.equal(await grid.locator('tbody tr').count(), 1, 'only its own')
      const html = await page.content()
      for (const id of myIds) assert.ok(!html.includes(id), `${id} belongs to another key`)
    })
  })
})
