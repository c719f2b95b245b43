import assert from 'node:assert/strict'
import { test } from 'node:test'
import { maskUrl } from '../../src/auth/secret-box.js'
import { translateMysqlError } from '../../src/errors/translate-mysql.js'
import { translatePgError } from '../../src/errors/translate-pg.js'
import { messageFor } from '../../src/errors/app-error.js'

test('maskUrl hides passwords in userinfo and query parameters, and all of an unparsable URL', () => {
  assert.equal(maskUrl('postgres://u:pw@h:5432/db?sslmode=require&password=x'), 'postgres://u:****@h:5432/db?sslmode=require&password=****')
  assert.equal(maskUrl('mysql://root@h/db?PWD=x&pass=y'), 'mysql://root@h/db?PWD=****&pass=****')
  assert.equal(maskUrl('postgres://h/db'), 'postgres://h/db')
  assert.equal(maskUrl('postgres://u:p@ss@h/db'.replace('p@ss', 'p%40ss')), 'postgres://u:****@h/db')
  assert.equal(maskUrl('::not a url::'), '****')
})

// the texts the servers send, with a role, account or host in them
test('connection failures name role and host only in the admin message', () => {
  const pgAuth = Object.assign(new Error('password authentication failed for user "shop_app"'), { code: '28P01' })
  const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' })
  const myAuth = Object.assign(new Error("Access denied for user 'shop_app'@'10.0.0.9' (using password: YES)"), { errno: 1045, sqlMessage: "Access denied for user 'shop_app'@'10.0.0.9' (using password: YES)" })
  const myDenied = Object.assign(new Error("SELECT command denied to user 'shop_app'@'10.0.0.9' for table 'x'"), { errno: 1142, sqlMessage: "SELECT command denied to user 'shop_app'@'10.0.0.9' for table 'x'" })
  for (const [err, secret] of [
    [translatePgError(pgAuth, 'shop'), /shop_app/],
    [translatePgError(refused, 'shop'), /10\.0\.0\.5/],
    [translateMysqlError(myAuth, 'shop'), /shop_app|10\.0\.0\.9/],
    [translateMysqlError(myDenied, 'shop'), /shop_app|10\.0\.0\.9/],
  ] as const) {
    assert.doesNotMatch(messageFor(err, false), secret)
    assert.match(messageFor(err, true), secret)
  }
  assert.equal(translatePgError(pgAuth, 'shop').code, 'source_unavailable')
  assert.equal(translateMysqlError(myDenied, 'shop').code, 'insufficient_privilege')
})
