// Small shared pieces: the results grid, error and notice boxes, the client picker.
import type { ComponentChildren } from 'preact'
import { errorOf, type Reply } from './api'

export function display(value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

export interface GridProps {
  columns: string[]
  rows: Record<string, unknown>[]
  caption: string
  /** column headers become sort buttons */
  sort?: { column: string; ascending: boolean } | null
  onSort?: (column: string) => void
  /** a cell is editable: shown as a button that opens an editor */
  renderCell?: (row: Record<string, unknown>, column: string, index: number) => ComponentChildren
  extraHeader?: ComponentChildren
  renderExtra?: (row: Record<string, unknown>, index: number) => ComponentChildren
}

export function Grid({ columns, rows, caption, sort, onSort, renderCell, extraHeader, renderExtra }: GridProps) {
  return (
    <div class="grid-wrap" tabIndex={0} role="region" aria-label={caption}>
      <table class="grid">
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => {
              const sorted = sort?.column === c
              return (
                <th scope="col" key={c} aria-sort={sorted ? (sort!.ascending ? 'ascending' : 'descending') : undefined}>
                  {onSort ? <button type="button" class="link" onClick={() => onSort(c)}>{c}{sorted ? (sort!.ascending ? ' ▲' : ' ▼') : ''}</button> : c}
                </th>
              )
            })}
            {extraHeader && <th scope="col">{extraHeader}</th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              {columns.map((c) => <td key={c}>{renderCell ? renderCell(row, c, i) : <span class={row[c] === null ? 'null' : ''}>{display(row[c])}</span>}</td>)}
              {renderExtra && <td>{renderExtra(row, i)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <p class="muted">No rows.</p>}
    </div>
  )
}

export function ErrorNote({ reply, title, children }: { reply?: Reply | null; title?: string; children?: ComponentChildren }) {
  if (!reply && !children) return null
  const e = reply ? errorOf(reply) : null
  return (
    <div class="error" role="alert">
      <strong>{title ?? (reply?.status === 403 ? 'Refused' : 'Error')}{reply ? ` (HTTP ${reply.status}${e?.code ? `, ${e.code}` : ''})` : ''}: </strong>
      {e?.message}
      {e?.right && <> — needs the <code>{e.right}</code> right</>}
      {e?.hint && <div class="hint">{e.hint}</div>}
      {children}
    </div>
  )
}

export function Notice({ children }: { children: ComponentChildren }) {
  return <div class="notice" role="status">{children}</div>
}

export function ClientPicker({ clients, value, onChange, id = 'client' }: { clients: string[]; value: string; onChange: (v: string) => void; id?: string }) {
  // a credential that may not list clients types the name of the one it is bound to
  return (
    <div class="field"><label for={id}>Data source</label>
      {clients.length > 0 ? (
        <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
          {clients.map((c) => <option key={c} value={c}>{c}</option>)}
        </select>
      ) : (
        <input id={id} value={value} placeholder="client name" onChange={(e) => onChange((e.target as HTMLInputElement).value)} />
      )}
    </div>
  )
}

/** triggers a download of text made in the page */
export function download(name: string, type: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.click()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
