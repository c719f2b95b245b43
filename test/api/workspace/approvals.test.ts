// Approvals through HTTP with users of three tenants: a project asks for another tenant's dataset or asks a tenant
// to join; only the other side's Org admins see and review the request; approving shares the dataset into the
// project — readable in its query jobs (private columns NULL), and nowhere else, never writable — rejecting keeps
// the reason; a request expires after its expires_at (the expiry route, with the admin key or the internal token).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { as, signToken, startWorkspace, type Caller } from './workspace-helpers.js'

const INTERNAL_TOKEN = 'approvals-internal-token-0123456789'

test('Workspace approvals and dataset sharing', async (t) => {
  const { call, settle: settlePath, admin, atrium, tenants: [a, b] } = await startWorkspace(t, { env: { ATRIUM_WORKSPACE_APPROVALS_INTERNAL_TOKEN: INTERNAL_TOKEN } })
  // a third tenant, with an Org admin, that is never part of any request
  const c = (await call(admin(), 'POST', '/api/v1/tenants', { name: 'tenant c' })).body
  await call(admin(c.id), 'POST', '/api/v1/users', { email: 'admin@c.example.test', name: 'C admin', role: 'Org admin' })
  const cAdmin: Caller = { token: await signToken({ sub: 'sub-c-admin', email: 'admin@c.example.test' }) }

  // tenant A owns sales.orders (a private e-mail column) in project Shop
  const shop = (await call(as(a, 'Org admin'), 'POST', '/api/v1/projects', { name: 'Shop' })).body
  const sales = (await call(as(a, 'Dataset editor'), 'POST', '/api/v1/datasets', { name: 'sales', project_id: shop.id })).body
  await call(as(a, 'Dataset editor'), 'POST', '/api/v1/tables', { name: 'orders', dataset_id: sales.id, schema: { columns: [
    { name: 'id', type: 'BIGINT' }, { name: 'email', type: 'VARCHAR', private: true }, { name: 'amount', type: 'INTEGER' },
  ] } })
  // tenant B has a project with a table of its own, and a second project that asks for nothing
  const insights = (await call(as(b, 'Org admin'), 'POST', '/api/v1/projects', { name: 'Insights' })).body
  const other = (await call(as(b, 'Org admin'), 'POST', '/api/v1/projects', { name: 'Other' })).body
  const local = (await call(as(b, 'Dataset editor'), 'POST', '/api/v1/datasets', { name: 'local', project_id: insights.id })).body
  await call(as(b, 'Dataset editor'), 'POST', '/api/v1/tables', { name: 'targets', dataset_id: local.id, schema: { columns: [{ name: 'id', type: 'BIGINT' }, { name: 'goal', type: 'INTEGER' }] } })
  const cProject = (await call(cAdmin, 'POST', '/api/v1/projects', { name: 'C project' })).body

  const queries = new Map<string, string>()
  const settle = (who: Caller, jobId: string) => settlePath(who, `/api/v1/query_jobs/${jobId}`)
  /** submits sql in a project; answers the submit response, and the finished job when it was accepted */
  const runIn = async (who: Caller, projectId: string, sql: string) => {
    const key = `${who.token}/${projectId}`
    if (!queries.has(key)) queries.set(key, (await call(who, 'POST', '/api/v1/queries', { query_text: 'SELECT 1', project_id: projectId })).body.id)
    const res = await call(who, 'POST', '/api/v1/queries/run', { query_id: queries.get(key), query_text: sql })
    return { res, job: res.status === 200 ? await settle(who, res.body.job_id) : null }
  }
  const rowsOf = async (who: Caller, projectId: string, sql: string) => {
    const { res, job } = await runIn(who, projectId, sql)
    assert.equal(res.status, 200, res.text)
    assert.equal(job!.status, 'done', JSON.stringify(job!.error_result))
    return { job: job!, rows: (await call(who, 'GET', `/api/v1/query_jobs/${job!.id}/results?page_size=200`)).body.rows }
  }
  await rowsOf(as(a, 'Dataset editor'), shop.id, 'SELECT 1') // warm the worker
  const { job: seeded } = await runIn(as(a, 'Dataset editor'), shop.id, "INSERT INTO sales.orders VALUES (1, 'ada@a.test', 10), (2, 'bo@a.test', 20)")
  assert.equal(seeded!.num_dml_affected_rows, 2)

  let datasetRequest: Record<string, any>

  await t.test('every approvals route refuses a request without a credential', async () => {
    const id = '00000000-0000-4000-8000-000000000000'
    for (const [method, path] of [['POST', '/api/v1/approvals/project-tenant'], ['POST', '/api/v1/approvals/project-dataset'], ['GET', '/api/v1/approvals/pending'],
      ['GET', `/api/v1/approvals/${id}`], ['POST', `/api/v1/approvals/${id}/approve`], ['POST', `/api/v1/approvals/${id}/reject`], ['POST', '/api/v1/approvals/expire']]) {
      const res = await call({ token: null }, method!, path!, method === 'POST' ? {} : undefined)
      assert.equal(res.status, 401, `${method} ${path}: ${res.text}`)
    }
  })

  await t.test('a Dataset editor of B asks for A\'s dataset; a Dataset user may not ask', async () => {
    const refused = await call(as(b, 'Dataset user'), 'POST', '/api/v1/approvals/project-dataset', { project_id: insights.id, dataset_id: sales.id })
    assert.equal(refused.status, 403, refused.text)
    const foreignProject = await call(as(b, 'Dataset editor'), 'POST', '/api/v1/approvals/project-dataset', { project_id: shop.id, dataset_id: sales.id })
    assert.equal(foreignProject.status, 404, 'A\'s project is not B\'s to ask for')
    const before = await runIn(as(b, 'Dataset editor'), insights.id, 'SELECT id FROM sales.orders')
    assert.equal(before.res.status, 422, 'not shared yet')

    const res = await call(as(b, 'Dataset editor'), 'POST', '/api/v1/approvals/project-dataset', { project_id: insights.id, dataset_id: sales.id })
    assert.equal(res.status, 201, res.text)
    datasetRequest = res.body
    assert.equal(res.body.status, 'pending')
    assert.equal(res.body.type, 'project_dataset')
    assert.equal(res.body.tenant_id, a.id, 'addressed to the dataset\'s tenant')
    assert.equal(res.body.dataset_name, 'sales')
    assert.equal(res.body.project_name, 'Insights')
    assert.equal(res.body.requested_by, b.users['Dataset editor'].id)
    assert.equal(res.body.requester_email, b.users['Dataset editor'].email)
    const days = (Date.parse(res.body.expires_at) - Date.parse(res.body.created_at)) / 86_400_000
    assert.ok(Math.abs(days - 15) < 0.001, `expires 15 days after it was made (${days})`)
    const again = await call(as(b, 'Org admin'), 'POST', '/api/v1/approvals/project-dataset', { project_id: insights.id, dataset_id: sales.id })
    assert.equal(again.status, 409, 'the same request is already pending')
  })

  await t.test('only the Org admins of the dataset\'s tenant see it pending; both sides see its details; another tenant gets 404', async () => {
    const pending = await call(as(a, 'Org admin'), 'GET', '/api/v1/approvals/pending')
    assert.equal(pending.status, 200, pending.text)
    assert.deepEqual(pending.body.project_dataset_approvals.map((r: { id: string }) => r.id), [datasetRequest.id])
    assert.deepEqual(pending.body.project_tenant_approvals, [])
    assert.deepEqual((await call(as(b, 'Org admin'), 'GET', '/api/v1/approvals/pending')).body.project_dataset_approvals, [], 'not addressed to B')
    for (const role of ['Dataset user', 'Dataset editor'] as const) {
      assert.equal((await call(as(a, role), 'GET', '/api/v1/approvals/pending')).status, 403, role)
      assert.equal((await call(as(a, role), 'GET', `/api/v1/approvals/${datasetRequest.id}`)).status, 403, role)
    }
    const details = await call(as(a, 'Org admin'), 'GET', `/api/v1/approvals/${datasetRequest.id}`)
    assert.equal(details.status, 200, details.text)
    assert.equal(details.body.approval.id, datasetRequest.id)
    assert.equal(details.body.project_dataset_details.dataset_tenant_id, a.id)
    assert.equal(details.body.project_dataset_details.project_tenant_id, b.id)
    assert.equal(details.body.project_tenant_details, null)
    assert.equal((await call(as(b, 'Org admin'), 'GET', `/api/v1/approvals/${datasetRequest.id}`)).status, 200, 'the requesting side follows its request')
    assert.equal((await call(cAdmin, 'GET', `/api/v1/approvals/${datasetRequest.id}`)).status, 404)
    assert.equal((await call(cAdmin, 'POST', `/api/v1/approvals/${datasetRequest.id}/approve`)).status, 404)
  })

  await t.test('the requesting side and roles below Org admin cannot approve; A\'s Org admin approves once', async () => {
    const wrongSide = await call(as(b, 'Org admin'), 'POST', `/api/v1/approvals/${datasetRequest.id}/approve`)
    assert.equal(wrongSide.status, 403, wrongSide.text)
    assert.match(wrongSide.body.detail, /addressed to/)
    assert.equal((await call(as(a, 'Dataset editor'), 'POST', `/api/v1/approvals/${datasetRequest.id}/approve`)).status, 403)
    const approved = await call(as(a, 'Org admin'), 'POST', `/api/v1/approvals/${datasetRequest.id}/approve`)
    assert.equal(approved.status, 200, approved.text)
    assert.equal(approved.body.status, 'approved')
    assert.equal(approved.body.reviewed_by, a.users['Org admin'].id)
    assert.ok(approved.body.reviewed_at)
    const twice = await call(as(a, 'Org admin'), 'POST', `/api/v1/approvals/${datasetRequest.id}/approve`)
    assert.equal(twice.status, 409, twice.text)
    assert.match(twice.body.detail, /approved/)
    assert.equal((await call(as(a, 'Org admin'), 'GET', '/api/v1/approvals/pending')).body.project_dataset_approvals.length, 0)
  })

  await t.test('the shared dataset is readable in B\'s project, with private columns NULL for every role, and joins B\'s own tables', async () => {
    for (const role of ['Dataset user', 'Dataset editor', 'Org admin'] as const) {
      const { job, rows } = await rowsOf(as(b, role), insights.id, 'SELECT id, email, amount FROM sales.orders ORDER BY id')
      assert.deepEqual(rows, [{ id: 1, email: null, amount: 10 }, { id: 2, email: null, amount: 20 }], role)
      assert.deepEqual(job.column_privacy, { email: 'masked' }, role)
    }
    await runIn(as(b, 'Dataset editor'), insights.id, 'INSERT INTO local.targets VALUES (1, 15), (2, 15)')
    const { rows } = await rowsOf(as(b, 'Dataset user'), insights.id, 'SELECT o.id, o.amount >= t.goal AS met FROM sales.orders o JOIN local.targets t ON t.id = o.id ORDER BY o.id')
    assert.deepEqual(rows, [{ id: 1, met: false }, { id: 2, met: true }])
  })

  await t.test('the reader sees the owner\'s later changes, and may not change the shared table', async () => {
    await runIn(as(a, 'Dataset editor'), shop.id, 'UPDATE sales.orders SET amount = amount * 10')
    const { rows } = await rowsOf(as(b, 'Dataset user'), insights.id, 'SELECT sum(amount) AS total FROM sales.orders')
    assert.deepEqual(rows, [{ total: 300 }])
    const write = await runIn(as(b, 'Org admin'), insights.id, 'DELETE FROM sales.orders')
    assert.equal(write.res.status, 422, write.res.text)
    assert.match(write.res.body.detail[0].msg, /shared into this project: it may be read, not changed/)
    assert.deepEqual((await rowsOf(as(a, 'Dataset editor'), shop.id, 'SELECT count(*) AS n FROM sales.orders')).rows, [{ n: 2 }])
  })

  await t.test('only that project reads it: B\'s other project and a third tenant still cannot', async () => {
    const otherProject = await runIn(as(b, 'Org admin'), other.id, 'SELECT id FROM sales.orders')
    assert.equal(otherProject.res.status, 422, otherProject.res.text)
    assert.match(otherProject.res.body.detail[0].msg, /not a table of a dataset this project may read/)
    const third = await runIn(cAdmin, cProject.id, 'SELECT id FROM sales.orders')
    assert.equal(third.res.status, 422)
    // and B's catalog views of A's objects stay 404
    assert.equal((await call(as(b, 'Org admin'), 'GET', `/api/v1/datasets/${sales.id}`)).status, 404)
  })

  await t.test('a project asks a tenant to join; that tenant\'s Org admin rejects it with a reason', async () => {
    const res = await call(as(a, 'Dataset editor'), 'POST', '/api/v1/approvals/project-tenant', { project_id: shop.id, tenant_id: b.id })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.type, 'project_tenant')
    assert.equal((await call(as(a, 'Dataset editor'), 'POST', '/api/v1/approvals/project-tenant', { project_id: shop.id, tenant_id: a.id })).status, 422, 'its own tenant')
    assert.equal((await call(as(a, 'Dataset editor'), 'POST', '/api/v1/approvals/project-tenant', { project_id: shop.id, tenant_id: '00000000-0000-4000-8000-000000000000' })).status, 404)
    const pending = await call(as(b, 'Org admin'), 'GET', '/api/v1/approvals/pending')
    assert.deepEqual(pending.body.project_tenant_approvals.map((r: { id: string }) => r.id), [res.body.id])
    const details = await call(as(b, 'Org admin'), 'GET', `/api/v1/approvals/${res.body.id}`)
    assert.equal(details.body.project_tenant_details.tenant_id, b.id)
    assert.equal(details.body.project_tenant_details.project_tenant_id, a.id)
    const rejected = await call(as(b, 'Org admin'), 'POST', `/api/v1/approvals/${res.body.id}/reject`, { rejection_reason: 'not this quarter' })
    assert.equal(rejected.status, 200, rejected.text)
    assert.equal(rejected.body.status, 'rejected')
    assert.equal(rejected.body.rejection_reason, 'not this quarter')
    const late = await call(as(b, 'Org admin'), 'POST', `/api/v1/approvals/${res.body.id}/approve`)
    assert.equal(late.status, 409, 'a rejected request cannot be approved')
    assert.match(late.body.detail, /rejected/)
    // a new request may be made once the earlier one is no longer pending; approving it records the membership
    const second = await call(as(a, 'Org admin'), 'POST', '/api/v1/approvals/project-tenant', { project_id: shop.id, tenant_id: b.id })
    assert.equal(second.status, 201, second.text)
    assert.equal((await call(as(b, 'Org admin'), 'POST', `/api/v1/approvals/${second.body.id}/approve`)).body.status, 'approved')
    const member = await atrium.catalog.query('SELECT tenant_id FROM atrium.ws_project_tenants WHERE project_id = $1', [shop.id])
    assert.deepEqual(member.map((r) => r.tenant_id), [b.id])
    assert.equal((await call(as(a, 'Dataset editor'), 'POST', '/api/v1/approvals/project-tenant', { project_id: shop.id, tenant_id: b.id })).status, 409, 'already joined')
  })

  await t.test('within one tenant, the requester cannot approve its own request; another reviewer can', async () => {
    const hrProject = (await call(as(a, 'Org admin'), 'POST', '/api/v1/projects', { name: 'HR' })).body
    const res = await call(as(a, 'Org admin'), 'POST', '/api/v1/approvals/project-dataset', { project_id: hrProject.id, dataset_id: sales.id })
    assert.equal(res.status, 201, res.text)
    const own = await call(as(a, 'Org admin'), 'POST', `/api/v1/approvals/${res.body.id}/approve`)
    assert.equal(own.status, 403, own.text)
    assert.match(own.body.detail, /you made this request/)
    const byAdminKey = await call(admin(a.id), 'POST', `/api/v1/approvals/${res.body.id}/approve`)
    assert.equal(byAdminKey.status, 200, byAdminKey.text)
    // shared inside the tenant: read from the same database, masked by role as usual
    const { rows: editorRows } = await rowsOf(as(a, 'Dataset editor'), hrProject.id, 'SELECT email FROM sales.orders ORDER BY id')
    assert.deepEqual(editorRows, [{ email: 'ada@a.test' }, { email: 'bo@a.test' }])
    const { rows: userRows } = await rowsOf(as(a, 'Dataset user'), hrProject.id, 'SELECT email FROM sales.orders ORDER BY id')
    assert.deepEqual(userRows, [{ email: null }, { email: null }])
    const write = await runIn(as(a, 'Org admin'), hrProject.id, 'DELETE FROM sales.orders')
    assert.equal(write.res.status, 422, 'shared, so read only even in the owner\'s tenant')
  })

  await t.test('a request past its expires_at cannot be approved, and the expiry marks it', async () => {
    const res = await call(as(b, 'Dataset editor'), 'POST', '/api/v1/approvals/project-tenant', { project_id: other.id, tenant_id: c.id })
    assert.equal(res.status, 201, res.text)
    // the clock moves through the record: 16 days have passed
    await atrium.catalog.query(`UPDATE atrium.ws_approvals SET created_at = now() - interval '16 days', expires_at = now() - interval '1 day' WHERE id = $1`, [res.body.id])
    assert.deepEqual((await call(cAdmin, 'GET', '/api/v1/approvals/pending')).body.project_tenant_approvals, [], 'no longer pending')
    const late = await call(cAdmin, 'POST', `/api/v1/approvals/${res.body.id}/approve`)
    assert.equal(late.status, 409, late.text)
    assert.match(late.body.detail, /expired/)

    assert.equal((await call({ token: null }, 'POST', '/api/v1/approvals/expire')).status, 401)
    assert.equal((await call({ token: null }, 'POST', '/api/v1/approvals/expire?internal_token=wrong-token')).status, 401)
    assert.equal((await call(as(a, 'Org admin'), 'POST', '/api/v1/approvals/expire')).status, 401, 'a user\'s session is not the scheduler\'s credential')
    const expired = await call({ token: null }, 'POST', `/api/v1/approvals/expire?internal_token=${INTERNAL_TOKEN}`)
    assert.equal(expired.status, 200, expired.text)
    assert.equal(expired.body.expired, 1)
    const [row] = await atrium.catalog.query<{ status: string }>('SELECT status FROM atrium.ws_approvals WHERE id = $1', [res.body.id])
    assert.equal(row!.status, 'expired')
    assert.equal((await call(admin(), 'POST', '/api/v1/approvals/expire')).body.expired, 0, 'the admin key may call it too; nothing is left')
    // the same expiry runs hourly as a scheduled job
    const schedules = await atrium.catalog.query<{ cron: string }>(`SELECT cron FROM atrium_jobs.schedule WHERE name = 'workspace.approvals-expiry'`)
    assert.deepEqual(schedules.map((s) => s.cron), ['17 * * * *'])
  })
})
