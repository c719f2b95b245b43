// JSON with integers beyond 2^53 kept exact: DuckDB's serialized SQL carries them (constants, query locations),
// and a round trip through JSON.parse would silently change them. Framework-free, no I/O.

const MARK = '$exact_integer'

/** JSON.parse, with every integer literal of 16 or more digits kept as {"$exact_integer": "<digits>"} */
export function parseExact(text: string): unknown {
  let out = ''
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === '"') {
      // copy a string literal whole, escapes included
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      out += text.slice(i, j + 1)
      i = j + 1
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i + 1
      while (j < text.length && /[0-9.eE+-]/.test(text[j]!)) j++
      const literal = text.slice(i, j)
      out += /^-?\d{16,}$/.test(literal) ? `{"${MARK}":"${literal}"}` : literal
      i = j
    } else {
      out += c
      i++
    }
  }
  return JSON.parse(out)
}

/** JSON.stringify that writes the kept integers back as the literals they were */
export function stringifyExact(value: unknown): string {
  // inside a JSON string a quote is always escaped, so this pattern only matches the markers themselves
  return JSON.stringify(value).replace(new RegExp(`\\{"\\${MARK}":"(-?\\d+)"\\}`, 'g'), '$1')
}
