// A published storage read: the objects of one bucket under a fixed key prefix, callable without a key. `get`
// streams one object (or one byte range of it), `list` pages the keys. A caller names keys and sub-prefixes
// inside the published prefix only; the bucket, its client and its storage connection are the route's, never
// the caller's, so nothing a call sends reaches another bucket. No Fastify here.
import { AppError } from '../errors/app-error.js'
import { validateListPrefix, validateObjectKey, type ByteRange, type GetResult, type ObjectStore } from '../objects/object-store.js'
import type { QueryPairs } from '../query/parse/postgrest.js'
import { objectRefOf, type Bucket, type BucketStore } from '../storage/bucket-store.js'
import { FOLDER_PLACEHOLDER } from '../storage/object-folders.js'
import type { ObjectService } from '../storage/object-service.js'
import type { StorageReadRoute } from './public-route-store.js'

export type StorageCall = 'get' | 'list'
export const STORAGE_CALLS: readonly StorageCall[] = ['get', 'list']

export interface StorageReadDeps {
  buckets: BucketStore
  objects: ObjectStore
  objectService: ObjectService
}

export type StorageListPage = Awaited<ReturnType<ObjectService['listIn']>>

/** the query parameters each call takes; anything else is refused, so a call cannot name a bucket or connection */
const PARAMETERS: Record<StorageCall, readonly string[]> = { get: ['key'], list: ['prefix', 'delimiter', 'continuation_token', 'limit'] }

const refuse = (message: string, hint: string) => new AppError('public_parameter_not_allowed', message, { hint })
/** one answer for a key outside the prefix, a folder placeholder and a missing object: a caller cannot tell them apart */
const noSuchObject = () => new AppError('object_not_found', 'no such object under this public route')

function parameters(call: StorageCall, pairs: QueryPairs): Map<string, string> {
  const allowed = PARAMETERS[call]
  const out = new Map<string, string>()
  for (const [name, value] of pairs) {
    if (!allowed.includes(name)) throw refuse(`"${name}" is not a parameter of this public route`, `${call} takes ${allowed.join(', ')}`)
    if (out.has(name)) throw refuse(`"${name}" is sent more than once`, `send ${name} once`)
    out.set(name, value)
  }
  return out
}

/** the published bucket of the route's client; the route was checked when published, so a miss means it was deleted since */
function publishedBucket(deps: StorageReadDeps, route: StorageReadRoute): Promise<Bucket> {
  return deps.buckets.resolve({ client: route.client_name, s3Id: route.s3_id }, route.bucket)
}

/** GET …/get?key=<key>: the object (or the asked range), when its key is under the published prefix */
export async function getPublishedObject(deps: StorageReadDeps, route: StorageReadRoute, pairs: QueryPairs, range: ByteRange | undefined): Promise<GetResult> {
  const key = parameters('get', pairs).get('key')
  if (!key) throw new AppError('invalid_request', 'key is required', { hint: `GET /public/${route.route_key}/get?key=<key>; …/list names the keys` })
  // a malformed key (.., //, control characters) is a 400 before anything else
  validateObjectKey(key)
  if (!key.startsWith(route.prefix) || key === FOLDER_PLACEHOLDER || key.endsWith(`/${FOLDER_PLACEHOLDER}`)) throw noSuchObject()
  const bucket = await publishedBucket(deps, route)
  try {
    return await deps.objects.get(objectRefOf(bucket, key), { range })
  } catch (err) {
    // the store's own message names its internal namespace of the bucket; a public caller is told less
    if (err instanceof AppError && err.code === 'object_not_found') throw noSuchObject()
    throw err
  }
}

/** GET …/list?prefix=&delimiter=&limit=&continuation_token=: one page of keys under the published prefix */
export async function listPublishedObjects(deps: StorageReadDeps, route: StorageReadRoute, pairs: QueryPairs): Promise<StorageListPage> {
  const params = parameters('list', pairs)
  const published = route.prefix
  const prefix = params.get('prefix') ?? published
  if (!prefix.startsWith(published)) {
    throw refuse(`prefix "${prefix.slice(0, 200)}" is outside this route's prefix "${published}"`, `send a prefix that starts with "${published}", or none`)
  }
  validateListPrefix(prefix)
  const limitText = params.get('limit')
  if (limitText !== undefined && !/^[1-9]\d{0,5}$/.test(limitText)) throw new AppError('invalid_request', `limit must be a whole number from 1 to ${route.limit}`)
  const bucket = await publishedBucket(deps, route)
  const page = await deps.objectService.listIn(bucket, {
    prefix: prefix || undefined,
    delimiter: params.get('delimiter'),
    continuationToken: params.get('continuation_token'),
    // a larger limit is cut to the published one, as a fetch's is
    maxKeys: Math.min(limitText === undefined ? route.limit : Number(limitText), route.limit),
  })
  // the store listed under `prefix`, which starts with the published one; checked again so no key can slip out
  const objects = page.objects.filter((o) => o.key.startsWith(published))
  const commonPrefixes = page.common_prefixes.filter((p) => p.startsWith(published))
  return { ...page, objects, common_prefixes: commonPrefixes, key_count: objects.length + commonPrefixes.length }
}

/** what a storage read publishes, checked: the client's bucket exists on the connection, the prefix is a valid one */
export async function checkStorageRead(deps: StorageReadDeps, r: { client: string; bucket: unknown; s3Id: unknown; prefix: unknown }) {
  if (typeof r.prefix !== 'string') throw new AppError('invalid_request', 'prefix must be a string ("" publishes the whole bucket)')
  validateListPrefix(r.prefix)
  const bucket = await deps.buckets.resolve({ client: r.client, s3Id: r.s3Id as string }, r.bucket)
  return { bucket: bucket.name, s3Id: bucket.s3Id, prefix: r.prefix }
}
