// The Avro schema of an export (pure): DuckDB types map to Avro types and logical types as BigQuery's Avro
// exports do, every field is nullable, and column names that are not Avro names are rewritten, keeping the original.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import avro from 'avsc'
import { avroSchemaOf } from '../../src/warehouse/exports/avro-file.js'
import { exportLayout } from '../../src/warehouse/exports/export-formats.js'

test('DuckDB types map to Avro types', () => {
  const schema = avroSchemaOf([
    { name: 'id', type: 'BIGINT' }, { name: 'n', type: 'INTEGER' }, { name: 'price', type: 'DECIMAL(18,4)' },
    { name: 'day', type: 'DATE' }, { name: 'at', type: 'TIMESTAMP' }, { name: 'at_tz', type: 'TIMESTAMP WITH TIME ZONE' },
    { name: 'tags', type: 'VARCHAR[]' }, { name: 'count_star()', type: 'BIGINT' }, { name: 'count_star__', type: 'VARCHAR' }, { name: '1st', type: 'BOOLEAN' },
  ]) as { fields: Array<{ name: string; type: unknown[]; doc?: string }> }
  assert.deepEqual(schema.fields.map((f) => [f.name, f.type[1], f.doc]), [
    ['id', 'long', undefined], ['n', 'int', undefined],
    ['price', { type: 'bytes', logicalType: 'decimal', precision: 18, scale: 4 }, undefined],
    ['day', { type: 'int', logicalType: 'date' }, undefined],
    ['at', { type: 'long', logicalType: 'local-timestamp-micros' }, undefined],
    ['at_tz', { type: 'long', logicalType: 'timestamp-micros' }, undefined],
    ['tags', 'string', undefined], ['count_star__', 'long', 'count_star()'], ['count_star___2', 'string', 'count_star__'], ['_1st', 'boolean', '1st'],
  ])
  assert.ok(schema.fields.every((f) => f.type[0] === 'null'))
  // a schema every Avro library accepts
  assert.doesNotThrow(() => avro.Type.forSchema(schema as avro.Schema))
})

test('where each compression goes', () => {
  assert.deepEqual(exportLayout('AVRO', 'GZIP'), { extension: 'avro.gz', contentType: 'application/avro', wholeFile: 'gzip', avroCodec: 'null' })
  assert.equal(exportLayout('AVRO', 'DEFLATE').avroCodec, 'deflate')
  assert.equal(exportLayout('PARQUET', 'DEFLATE').parquetCodec, 'gzip')
  assert.equal(exportLayout('CSV', 'DEFLATE').extension, 'csv.deflate')
  assert.equal(exportLayout('JSON', 'NONE').wholeFile, null)
})
