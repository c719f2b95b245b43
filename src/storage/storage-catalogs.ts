// Storage connections (the SDK's s3_id): which object stores the storage API can reach. Today there is one,
// `default`, Atrium's own object store (filesystem or S3, src/objects/); registering others is not supported yet.
import { requireOperation } from '../auth/operation-rights.js'
import type { Config } from '../config/schema.js'
import { AppError } from '../errors/app-error.js'
import type { ObjectStore } from '../objects/object-store.js'
import type { RequestContext } from '../request-context.js'

export const DEFAULT_S3_ID = 'default'

/** the catalogue entry GET /storage/catalogs lists, in the SDK's S3CatalogItem shape */
export interface StorageCatalogItem {
  id: string
  name: string
  description: string
  provider: 'filesystem' | 's3'
  bucket: string | null
  endpoint: string | null
  region: string | null
  force_path_style: boolean
  public_base_url: string | null
  default_prefix: null
  is_active: boolean
  metadata: Record<string, unknown>
  created_at: string
  updated_at: string
}

/** throws 404 storage_catalog_not_found unless `s3Id` names a connection this server has */
export function requireStorageCatalog(s3Id: unknown): asserts s3Id is string {
  if (s3Id === DEFAULT_S3_ID) return
  const shown = typeof s3Id === 'string' ? JSON.stringify(s3Id.slice(0, 100)) : String(s3Id)
  throw new AppError('storage_catalog_not_found', `no storage connection ${shown}`, {
    hint: `GET /storage/catalogs lists the connections; "${DEFAULT_S3_ID}" is Atrium's own object store`,
  })
}

/** the one connection there is, described from the object store's settings (never its credentials) */
export function listStorageCatalogs(ctx: RequestContext, objects: Pick<ObjectStore, 'kind'>, config: Pick<Config, 'objects'>): StorageCatalogItem[] {
  requireOperation(ctx.principal, 'storage.read')
  const s3 = objects.kind === 's3' ? config.objects.s3 : undefined
  const since = new Date(0).toISOString()
  return [{
    id: DEFAULT_S3_ID,
    name: DEFAULT_S3_ID,
    description: objects.kind === 's3' ? "Atrium's object store (S3)" : "Atrium's object store (filesystem)",
    provider: objects.kind,
    bucket: s3?.bucket ?? null,
    endpoint: s3?.endpoint ?? null,
    region: s3?.region ?? null,
    force_path_style: s3?.forcePathStyle ?? false,
    public_base_url: config.objects.publicBaseUrl ?? null,
    default_prefix: null,
    is_active: true,
    metadata: {},
    created_at: since,
    updated_at: since,
  }]
}
