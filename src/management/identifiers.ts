// Names in management DDL: validated against one plain-identifier grammar, then quoted by code per dialect.
import { AppError } from '../errors/app-error.js'
import type { Dialect } from '../sources/dialects.js'

// Letters, digits and "_", not starting with a digit, at most 63 (PostgreSQL's limit; MySQL allows 64).
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** columns every managed table has; Atrium defines them and refuses to change or drop them */
export const RESERVED_COLUMNS: readonly string[] = ['id', 'created_at']

/** the audit table itself is out of reach of the API it audits */
export const AUDIT_TABLE = 'database_audit_log'

export function assertIdentifier(value: unknown, what: string): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value
    throw new AppError('invalid_identifier', `${what} ${shown} is not a valid identifier`, {
      hint: 'use 1-63 letters, digits or "_", not starting with a digit',
      data: { field: what },
    })
  }
  return value
}

/** quotes a validated identifier; the doubling is a second wall, the grammar already excludes quotes */
export function quoteIdent(dialect: Dialect, name: string): string {
  return dialect === 'mysql' ? `\`${name.replaceAll('`', '``')}\`` : `"${name.replaceAll('"', '""')}"`
}

export function assertNotReserved(column: string, action: string): void {
  if (RESERVED_COLUMNS.includes(column.toLowerCase())) {
    throw new AppError('reserved_column', `column "${column}" is reserved: Atrium manages ${RESERVED_COLUMNS.join(' and ')} and they cannot be ${action}`, {
      data: { column, reserved_columns: [...RESERVED_COLUMNS] },
    })
  }
}

export function assertNotAuditTable(table: string): void {
  if (table.toLowerCase() === AUDIT_TABLE) {
    throw new AppError('invalid_request', `"${AUDIT_TABLE}" is the audit log of the management API and cannot be changed through it`)
  }
}
