// CSV cells show numbers as the database printed them (`30.00`, not `30`): PostgreSQL's JSON keeps a numeric's
// scale in the number's text, which JSON.parse would drop. Numbers that are cells (values of a row's keys, or
// the rows themselves for scalar results) are read as their text; numbers inside JSON values stay numbers.
//   parseKeepingNumberText('[{"total":30.00,"attrs":{"w":40}}]', 2) → [{ total: '30.00', attrs: { w: 40 } }]

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y

/**
 * JSON.parse, except that a number whose enclosing arrays/objects are at most `cellDepth` deep is read as its
 * text. The text is a database's JSON, so it is valid; the scan only tells strings from the rest.
 */
export function parseKeepingNumberText(text: string, cellDepth: number): unknown {
  let out = ''
  let depth = 0
  let from = 0
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (ch === '"') {
      // skip the string, escapes included
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++
    } else if (ch === '[' || ch === '{') depth++
    else if (ch === ']' || ch === '}') depth--
    else if (depth <= cellDepth && (ch === '-' || (ch >= '0' && ch <= '9'))) {
      NUMBER.lastIndex = i
      const m = NUMBER.exec(text)
      if (!m) continue
      out += `${text.slice(from, i)}"${m[0]}"`
      i += m[0].length - 1
      from = i + 1
    }
  }
  return JSON.parse(from === 0 ? text : out + text.slice(from))
}
