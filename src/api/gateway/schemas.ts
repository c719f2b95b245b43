// TypeBox schemas shared by the gateway routes: headers and the Athena request bodies.
import { Type } from '@sinclair/typebox'

export const ClientHeader = Type.Object({
  'x-athena-client': Type.Optional(Type.String({ description: 'selects the data source (client)' })),
})
