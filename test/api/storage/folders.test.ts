import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BACKENDS, createBucket, startStorageAtrium, uploadFile } from '../../helpers/storage-files.js'

// /storage/folders/list|tree|delete|move: folders (key prefixes) of the client's managed files.

for (const backend of BACKENDS) {
  test(`storage folders: ${backend}`, async (t) => {
    const atrium = await startStorageAtrium(t, backend)
    await createBucket(atrium, 'docs')
    const app = { client: 'app' }
    const ids: Record<string, string> = {}
    for (const key of ['reports/2025/q1.txt', 'reports/2025/q2.txt', 'reports/2026/q1.txt', 'reports/summary.txt', 'drafts/a.txt']) {
      ids[key] = (await uploadFile(atrium, { bucket: 'docs', storage_key: key, content_type: 'text/plain' }, key)).id
    }
    await createBucket(atrium, 'docs', {}, 'other')
    const theirs = await uploadFile(atrium, { bucket: 'docs', storage_key: 'drafts/theirs.txt', content_type: 'text/plain' }, 'x', 'other')

    await t.test('list shows the sub-folders and the files directly in a folder', async () => {
      const res = await atrium.post('/storage/folders/list', { ...app, body: { s3_id: 'default', prefix: 'reports' } })
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.prefix, 'reports/')
      assert.deepEqual(res.body.data.folders, ['reports/2025/', 'reports/2026/'])
      assert.deepEqual(res.body.data.files.map((f: any) => f.storage_key), ['reports/summary.txt'])
      const root = await atrium.post('/storage/folders/list', { ...app, body: { s3_id: 'default' } })
      assert.deepEqual(root.body.data.folders, ['drafts/', 'reports/'])
    })

    await t.test('tree nests every folder with its file count', async () => {
      const res = await atrium.post('/storage/folders/tree', { ...app, body: { s3_id: 'default', prefix: 'reports/' } })
      assert.equal(res.status, 200, res.text)
      const tree = res.body.data.tree
      assert.equal(tree.file_count, 1)
      assert.deepEqual(tree.folders.map((f: any) => [f.prefix, f.file_count]), [['reports/2025/', 2], ['reports/2026/', 1]])
      assert.equal(res.body.data.file_count, 4)
      assert.equal(res.body.data.truncated, false)
    })

    await t.test('move gives every file of a folder a new prefix, bytes included', async () => {
      const res = await atrium.post('/storage/folders/move', { ...app, body: { s3_id: 'default', from_prefix: 'reports/2025/', to_prefix: 'archive/2025/' } })
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.processed_files, 2)
      assert.equal(res.body.data.prefix, 'archive/2025/')
      const moved = (await atrium.get(`/storage/files/${ids['reports/2025/q1.txt']}`, app)).body.data.file
      assert.equal(moved.storage_key, 'archive/2025/q1.txt')
      assert.equal((await atrium.get(`/storage/files/${moved.id}/proxy`, app)).text, 'reports/2025/q1.txt')
      const same = await atrium.post('/storage/folders/move', { ...app, body: { s3_id: 'default', from_prefix: 'archive/', to_prefix: 'archive' } })
      assert.equal(same.status, 400)
    })

    await t.test('delete deletes every file of a folder (restorable); the root and bad prefixes are refused', async () => {
      const res = await atrium.post('/storage/folders/delete', { ...app, body: { s3_id: 'default', prefix: 'archive/' } })
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.processed_files, 2)
      assert.equal((await atrium.get(`/storage/files/${ids['reports/2025/q2.txt']}`, app)).body.data.file.status, 'deleted')
      const root = await atrium.post('/storage/folders/delete', { ...app, body: { s3_id: 'default', prefix: '' } })
      assert.equal(root.status, 400)
      const escape = await atrium.post('/storage/folders/delete', { ...app, body: { s3_id: 'default', prefix: '../' } })
      assert.equal(escape.status, 400)
      const other = await atrium.post('/storage/folders/delete', { client: 'other', body: { s3_id: 'default', prefix: 'drafts/', force: true } })
      assert.equal(other.body.data.processed_files, 1, 'another client\'s folder of the same name is its own')
      assert.equal((await atrium.get(`/storage/files/${theirs.id}`, { client: 'other' })).status, 404, 'purged')
      assert.equal((await atrium.get(`/storage/files/${ids['drafts/a.txt']}`, app)).body.data.file.status, 'uploaded')
    })
  })
}
