// The one table of rights: every operation a service performs for a caller, by dotted id, with the right a key
// or session must hold for it and what the refusal says it was for. Services check through requireOperation;
// nothing else names a right. (The admin key, and anonymous callers where key enforcement is off, hold every
// right: see hasRight.)
import { requireRight, type Principal } from './principal.js'

export interface OperationRight {
  right: string
  /** completes "lacks the right needed to …" */
  purpose: string
}

export const operationRights = {
  // rows, on /gateway and /rest/v1 alike
  'rows.read': { right: 'gateway.read', purpose: 'read rows' },
  'rows.count': { right: 'gateway.read', purpose: 'count rows' },
  'rows.insert': { right: 'gateway.insert', purpose: 'insert rows' },
  'rows.upsert': { right: 'gateway.update', purpose: 'update rows on conflict (upsert)' },
  'rows.update': { right: 'gateway.update', purpose: 'update rows' },
  'rows.delete': { right: 'gateway.delete', purpose: 'delete rows' },
  'functions.call': { right: 'gateway.rpc', purpose: 'call database functions' },
  // raw SQL, by the class the classifier gives the statement
  'sql.read': { right: 'sql.read', purpose: 'run read-only SQL' },
  'sql.write': { right: 'sql.write', purpose: 'run SQL that writes rows' },
  'sql.ddl': { right: 'sql.ddl', purpose: 'run SQL that changes the schema' },
  // metadata: schema introspection, route lists, client names, the OpenAPI document, metrics
  'schema.read': { right: 'schema.read', purpose: 'read schema metadata' },
  // management DDL (the caller must also be the admin key or a key bound to the client: management-access.ts)
  'management.read': { right: 'management.read', purpose: 'read management capabilities' },
  'management.tables.create': { right: 'management.tables.write', purpose: 'create tables' },
  'management.tables.alter': { right: 'management.tables.write', purpose: 'alter tables' },
  'management.tables.drop': { right: 'management.tables.drop', purpose: 'drop tables' },
  'management.columns.drop': { right: 'management.columns.drop', purpose: 'drop columns' },
  'management.indexes.create': { right: 'management.indexes.write', purpose: 'create indexes' },
  'management.indexes.drop': { right: 'management.indexes.drop', purpose: 'drop indexes' },
  'management.extensions.install': { right: 'management.extensions.write', purpose: 'install extensions' },
  // storage (/storage/*): buckets, objects and their URLs
  'storage.read': { right: 'storage.read', purpose: 'read storage buckets and objects' },
  'storage.write': { right: 'storage.write', purpose: 'change storage buckets and objects' },
} as const satisfies Record<string, OperationRight>

export type Operation = keyof typeof operationRights

/** throws 403 missing_right unless the principal holds the operation's right */
export function requireOperation(principal: Principal, operation: Operation, purpose?: string): void {
  const { right, purpose: what } = operationRights[operation]
  requireRight(principal, right, purpose ?? what)
}
