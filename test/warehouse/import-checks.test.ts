// The import's column matching (pure): file columns are matched to declared ones ignoring case; columns the table
// does not have and missing NOT NULL columns are reported; only declared names ever reach the generated SQL.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkedRowsSql, matchColumns } from '../../src/warehouse/imports/import-checks.js'

const declared = [
  { name: 'id', type: 'BIGINT', nullable: false, private: false },
  { name: 'Amount', type: 'DECIMAL(10,2)', nullable: true, private: false },
  { name: 'tags', type: 'VARCHAR[]', nullable: true, private: false },
]

test('file columns match declared ones ignoring case; the rest is reported', () => {
  const m = matchColumns(declared, ['ID', 'amount', 'x"; DROP TABLE t; --'])
  assert.deepEqual([...m.sources], [['id', 'ID'], ['Amount', 'amount']])
  assert.deepEqual(m.unknown, ['x"; DROP TABLE t; --'])
  assert.deepEqual(m.missingRequired, [])
  assert.deepEqual(matchColumns(declared, ['amount']).missingRequired, ['id'])
  // a second spelling of the same column is not silently dropped
  assert.deepEqual(matchColumns(declared, ['id', 'Id']).unknown, ['Id'])
})

test('the checking SELECT converts each declared column and names the reasons a row does not fit', () => {
  const m = matchColumns(declared, ['id', 'tags'])
  const sql = checkedRowsSql('JSONL', "/data/it's.jsonl", declared, m.sources)
  assert.match(sql, /read_ndjson_objects\('\/data\/it''s\.jsonl'\)/, 'the path is a quoted literal')
  assert.match(sql, /TRY_CAST\(json_extract_string\(json, '\$\."id"'\) AS BIGINT\) AS c0/)
  assert.match(sql, /TRY_CAST\(NULL AS DECIMAL\(10,2\)\) AS c1/, 'a missing nullable column is NULL')
  assert.match(sql, /TRY_CAST\(json_extract\(json, '\$\."tags"'\) AS VARCHAR\[\]\) AS c2/, 'lists are read as JSON')
  assert.match(sql, /'id: NULL in a NOT NULL column'/)
  assert.match(sql, /'the line is not a JSON object'/)
  const csv = checkedRowsSql('CSV', '/f.csv', declared, m.sources)
  assert.match(csv, /read_csv\('\/f\.csv', header = true, all_varchar = true\)/)
  assert.match(csv, /TRY_CAST\("id" AS BIGINT\)/)
})
