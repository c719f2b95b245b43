// memberText cuts one member's value out of a JSON object's text; whatever it returns must be exactly what
// JSON.parse gives for that member, and when it cannot be sure it must say so (undefined), never guess.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { memberText } from '../../src/query/parse/json-member.js'

const agrees = (text: string, name: string) => {
  const cut = memberText(text, name)
  assert.notEqual(cut, undefined, `found ${name} in ${text}`)
  assert.deepEqual(JSON.parse(cut!), JSON.parse(text)[name], text)
}

test('the member is cut out exactly, wherever it stands and whatever surrounds it', () => {
  agrees('{"table_name":"t","insert_body":[{"a":1},{"a":2}]}', 'insert_body')
  agrees('{"insert_body":[{"a":"x"}],"table_name":"t"}', 'insert_body')
  agrees(' \n{ "table_name" : "t" ,\t"insert_body" :\r\n [ {"a" : 1} ] , "columns":"a" } ', 'insert_body')
  // strings holding brackets, braces, quotes, escaped backslashes and the member's own name
  agrees('{"note":"] } \\" {[","insert_body":[{"s":"a\\\\","t":"\\"]}","u":"insert_body"}],"x":"\\\\"}', 'insert_body')
  agrees('{"a":{"insert_body":[1]},"insert_body":[{"deep":{"x":[1,[2,{"y":"}"}]]}}],"b":[true,false,null,-1.5e3]}', 'insert_body')
  agrees('{"insert_body":[]}', 'insert_body')
  agrees('{"n":12,"t":true,"insert_body":[{"é":"ü😀"}],"z":null}', 'insert_body')
})

test('a repeated member is the last one, as JSON.parse keeps', () => {
  agrees('{"insert_body":[{"a":1}],"insert_body":[{"a":2}]}', 'insert_body')
})

test('undefined when it cannot be sure: absent, not an object, or an escaped key', () => {
  assert.equal(memberText('{"table_name":"t"}', 'insert_body'), undefined)
  assert.equal(memberText('{}', 'insert_body'), undefined)
  assert.equal(memberText('[{"insert_body":[]}]', 'insert_body'), undefined)
  // the escaped key decodes to insert_body: JSON.parse would take it, so the scanner must not pick the earlier one
  assert.equal(memberText('{"insert_body":[{"a":1}],"insert\\u005fbody":[{"a":2}]}', 'insert_body'), undefined)
  assert.equal(memberText('{"a\\"b":1,"insert_body":[]}', 'insert_body'), undefined)
})
