// A small scanner over blueprint SQL that knows only where quoted text and comments start and end, so that
// `{{name}}` placeholders and statement-ending semicolons are found in code and never inside a string, a quoted
// identifier, a comment or (PostgreSQL) a dollar-quoted body. The engine's real parser judges the SQL itself.
import type { Engine } from '../provisioning/managed-servers.js'

export interface Placeholder {
  name: string
  /** offsets of `{{` and just after `}}` in the text */
  start: number
  end: number
}

export interface Scan {
  /** placeholders in code, in order */
  placeholders: Placeholder[]
  /** placeholders written inside quoted text or comments: left as they are */
  quoted: Placeholder[]
  /** offsets of the semicolons that end statements */
  semicolons: number[]
}

const PLACEHOLDER = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,62})\s*\}\}/
const DOLLAR_TAG = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/

export function scanSql(text: string, engine: Engine): Scan {
  const scan: Scan = { placeholders: [], quoted: [], semicolons: [] }
  const notePlaceholdersIn = (from: number, to: number) => {
    for (let i = text.indexOf('{{', from); i !== -1 && i < to; i = text.indexOf('{{', i + 2)) {
      const m = PLACEHOLDER.exec(text.slice(i, to))
      if (m) scan.quoted.push({ name: m[1]!, start: i, end: i + m[0].length })
    }
  }
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    const next = text[i + 1]
    let end = -1
    if (c === '{' && next === '{') {
      const m = PLACEHOLDER.exec(text.slice(i, i + 80))
      if (m) {
        scan.placeholders.push({ name: m[1]!, start: i, end: i + m[0].length })
        i += m[0].length
        continue
      }
    } else if (c === ';') {
      scan.semicolons.push(i)
    } else if (c === "'" || c === '"' || (c === '`' && engine === 'mysql')) {
      end = closeQuote(text, i, c, engine === 'mysql' && c !== '`')
    } else if ((c === '-' && next === '-') || (c === '#' && engine === 'mysql')) {
      const nl = text.indexOf('\n', i)
      end = nl === -1 ? text.length : nl
    } else if (c === '/' && next === '*') {
      const close = text.indexOf('*/', i + 2)
      end = close === -1 ? text.length : close + 2
    } else if (c === '$' && engine === 'postgres') {
      const m = DOLLAR_TAG.exec(text.slice(i, i + 70))
      // $1 and identifiers ending in $ are not dollar quotes; a tag directly after a word character is not one either
      if (m && !(i > 0 && /[A-Za-z0-9_]/.test(text[i - 1]!))) {
        const close = text.indexOf(m[0], i + m[0].length)
        end = close === -1 ? text.length : close + m[0].length
      }
    }
    if (end !== -1) {
      notePlaceholdersIn(i, end)
      i = end
      continue
    }
    i++
  }
  return scan
}

/** the offset just past a quoted run starting at `start`; doubled quotes (and in MySQL strings, backslashes) escape */
function closeQuote(text: string, start: number, quote: string, backslashes: boolean): number {
  let i = start + 1
  while (i < text.length) {
    const c = text[i]!
    if (backslashes && c === '\\') { i += 2; continue }
    if (c === quote) {
      if (text[i + 1] === quote) { i += 2; continue }
      return i + 1
    }
    i++
  }
  return text.length
}

/** 1-based line and column of an offset */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)))
  const line = before.split('\n').length
  return { line, column: offset - before.lastIndexOf('\n') }
}
