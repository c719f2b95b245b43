// TypeBox schemas the Workspace routes share: ids, skip/limit windows, roles, and route metadata.
import { Type } from '@sinclair/typebox'
import { ROLES } from '../../tenancy/roles.js'

export const Window = Type.Object({
  skip: Type.Integer({ minimum: 0, default: 0 }),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
}, { additionalProperties: true })

export const Role = Type.Union(ROLES.map((r) => Type.Literal(r)))

export const Name = Type.String({ minLength: 1, maxLength: 200 })
export const Description = Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()])
export const Email = Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' })

export const idParam = (name: string) => Type.Object({ [name]: Type.String({ minLength: 1, maxLength: 100 }) })

/** a Workspace route's options: its operation id (workspace.<operation>), and its schema with tag and summary */
export const routeOptions = (operation: string, tag: string, summary: string, schema: Record<string, unknown> = {}) => ({
  config: { operation: `workspace.${operation}` },
  schema: { tags: [tag], summary, security: [{ bearer: [] }], ...schema },
})
