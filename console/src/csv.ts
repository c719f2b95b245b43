// RFC 4180 CSV of result rows. A cell that a spreadsheet would run as a formula is prefixed with a quote.
import { display } from './ui'

function cell(value: unknown): string {
  let text = value === null || value === undefined ? '' : display(value)
  if (/^[=+\-@\t\r]/.test(text) && typeof value === 'string') text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function toCsv(columns: string[], rows: Record<string, unknown>[]): string {
  return [columns.map(cell).join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n'
}
