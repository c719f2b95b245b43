import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parsePostgrestQuery, queryPairs } from '../../src/query/parse/postgrest.js'
import { serializeQuery } from '../../src/query/serialize/postgrest.js'

// What Atrium forwards to a PostgREST upstream must mean what the caller asked: parsing the serialized
// form gives back the same AST.
const queries = [
  'select=id,total,buyer:customers!inner(name,orders(id))&status=eq.paid&order=id.desc.nullslast&limit=5&offset=10',
  'select=*&or=(status.eq.paid,and(total.gt.5,note.not.is.null))&name=ilike.*da*',
  'select=id&id=in.(1,2,"a,b")&tags=cs.{home,light}&attrs->>color=eq.red&not.and=(id.gt.1,id.lt.3)',
  'select=id,price::text&name=like(any).{A*,B*}&body=wfts(english).tea%20time&total=gte.10.5',
  'select=name&note=eq.has%20"quotes",commas(and)parens',
  'select=id&or=(note.eq."a,b",note.eq."say%20\\"hi\\"",note.like."v1.2:(x)*")&status=in.("a,b",c)',
  'select=status,count(),n:total.sum(),total::int.avg()::text&status=neq.x',
  'select=title,authors()&authors=is.null',
  'select=title,writers:authors(name)&writers=not.is.null',
]

test('PostgREST queries survive serialize → parse', async (t) => {
  for (const q of queries) {
    await t.test(q, () => {
      const first = parsePostgrestQuery(queryPairs(`/x?${q}`))
      const again = parsePostgrestQuery(queryPairs(`/x?${serializeQuery(first)}`))
      assert.deepEqual(again, first)
    })
  }
})

// queryPairs splits undecoded query strings by hand: it must give exactly what URLSearchParams gives.
test('query strings split into the pairs URLSearchParams reads', () => {
  const strings = [
    ...queries,
    '', '&', '&&a=1&&', 'a', 'a=', '=b', 'a==b', 'a=b=c&a=d', 'select=id&id=eq.1&id=eq.2',
    'name=eq.Ünïcode', 'name=eq.\u00e9t\u00e9', 'k=v;w', 'x=a+b', 'x=a%2Bb%26c', 'x=%zz', 'x=50%', '%3D=1',
  ]
  for (const q of strings) assert.deepEqual(queryPairs(`/rest/v1/t?${q}`), [...new URLSearchParams(q).entries()], JSON.stringify(q))
  assert.deepEqual(queryPairs('/rest/v1/t'), [])
})
