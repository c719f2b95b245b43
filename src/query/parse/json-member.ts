// Finds the text of one top-level member's value in a JSON object's text, without parsing the rest. The gateway's
// bulk insert hands PostgreSQL the `insert_body` array as the client wrote it; cutting it out here spares
// PostgreSQL two passes over the whole body (`$1::json -> 'insert_body'` validates the text, then reads it again).
// The text has already been parsed by JSON.parse, so it is valid JSON: the scanner only has to find boundaries.

const QUOTE = 0x22
const BACKSLASH = 0x5c

/**
 * The value text of the top-level member `name` of the JSON object `text` (the last one, as JSON.parse keeps),
 * or undefined when it is absent, `text` is not an object, or a key is written with escapes (then the caller
 * falls back to letting the database find the member).
 */
export function memberText(text: string, name: string): string | undefined {
  let i = skipSpace(text, 0)
  if (text[i] !== '{') return undefined
  i = skipSpace(text, i + 1)
  if (text[i] === '}') return undefined
  let found: string | undefined
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return undefined
    const keyEnd = text.indexOf('"', i + 1)
    if (keyEnd < 0) return undefined
    const key = text.slice(i + 1, keyEnd)
    // an escaped key (`insert\u005fbody`, or one holding `\"`) could equal name once decoded: do not guess
    if (key.includes('\\')) return undefined
    i = skipSpace(text, keyEnd + 1)
    if (text[i] !== ':') return undefined
    const start = skipSpace(text, i + 1)
    i = skipValue(text, start)
    if (key === name) found = text.slice(start, i)
    i = skipSpace(text, i)
    if (text[i] === ',') {
      i = skipSpace(text, i + 1)
      continue
    }
    return text[i] === '}' ? found : undefined
  }
}

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i)
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i
    i++
  }
}

/** the index just past the string that opens at i */
function skipString(text: string, i: number): number {
  let from = i + 1
  for (;;) {
    const q = text.indexOf('"', from)
    if (q < 0) return text.length
    let backslashes = 0
    for (let b = q - 1; text.charCodeAt(b) === BACKSLASH; b--) backslashes++
    if (backslashes % 2 === 0) return q + 1
    from = q + 1
  }
}

/** the index just past the value that starts at i */
function skipValue(text: string, i: number): number {
  const c = text[i]
  if (c === '"') return skipString(text, i)
  if (c === '{' || c === '[') {
    let depth = 0
    while (i < text.length) {
      const ch = text.charCodeAt(i)
      if (ch === QUOTE) {
        i = skipString(text, i)
        continue
      }
      if (ch === 0x7b || ch === 0x5b) depth++
      else if (ch === 0x7d || ch === 0x5d) {
        depth--
        if (depth === 0) return i + 1
      }
      i++
    }
    return i
  }
  // a number, true, false or null: up to the next delimiter
  while (i < text.length && !',}] \n\r\t'.includes(text[i]!)) i++
  return i
}
