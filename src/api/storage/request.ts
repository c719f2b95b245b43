// What every /storage route reads from its JSON body the same way: the storage connection (s3_id, or the SDK's
// camelCase s3Id), the bucket, and the reply envelope.
import { Type, type TObject, type TProperties } from '@sinclair/typebox'
import { AppError } from '../../errors/app-error.js'

/** the connection selector every SDK request carries; other fields the SDK may add are accepted and ignored */
export const Selector = {
  s3_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'storage connection; "default" is Atrium\'s own object store (GET /storage/catalogs)' })),
  s3Id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'the same, as the SDK may spell it' })),
}
export const BucketName = Type.String({ minLength: 1, maxLength: 63, description: 'bucket name: 2–63 lower-case letters, digits, ".", "_" and "-"' })
export const Key = Type.String({ minLength: 1, maxLength: 1024, description: 'object key: "/"-separated, no "." or ".." segment, no control characters' })

/** a body with the selector and these fields; extra fields (inline credentials, SSE options) are not refused */
export const body = (props: TProperties): TObject => Type.Object({ ...Selector, ...props } as TProperties)

export interface SelectorBody {
  s3_id?: string
  s3Id?: string
  access_key_id?: string
  endpoint?: string
}

/** the s3_id of a request; inline S3 credentials (the SDK's deprecated selector) are refused with a hint */
export function s3IdOf(b: SelectorBody | undefined): string {
  const id = b?.s3_id ?? b?.s3Id
  if (id !== undefined) return id
  if (b?.access_key_id !== undefined || b?.endpoint !== undefined) {
    throw new AppError('invalid_request', 'inline S3 credentials are not accepted', { hint: 'send s3_id naming a storage connection; GET /storage/catalogs lists them ("default" is Atrium\'s own store)' })
  }
  throw new AppError('invalid_request', 'body/s3_id is required', { hint: 'send s3_id naming a storage connection; GET /storage/catalogs lists them ("default" is Atrium\'s own store)' })
}
