// Files a user uploads (into the object store, one folder per user) and profiles (through a private temporary
// copy read by DuckDB). Names, types and sizes are checked before anything is kept.
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Config } from '../config/schema.js'
import { AppError } from '../errors/app-error.js'
import { tooLarge, validateBucketName, validateObjectKey, type ObjectRef, type ObjectStore } from '../objects/object-store.js'
import { formatOf, profileFile, type FileProfile } from './file-profile.js'

export interface FilesDeps {
  objects: ObjectStore
  config: { assistant: Config['assistant'] }
}

export interface IncomingFile {
  filename: string
  mimetype: string
  stream: Readable
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._()-]{0,199}$/
const CONTENT_TYPES = { csv: 'text/csv', json: 'application/json', parquet: 'application/vnd.apache.parquet' } as const

/** a plain file name (no path), and the format its extension says */
function checkFile(fileName: string): ReturnType<typeof formatOf> {
  if (!FILE_NAME.test(fileName) || fileName.includes('..')) {
    throw new AppError('invalid_request', 'the file name must be 1-200 letters, digits, spaces, ".", "_", "(", ")" or "-", starting with a letter or digit')
  }
  return formatOf(fileName)
}

/** each user's uploads live under a folder named from their id, never from text they choose */
const userFolder = (owner: string) => `u-${createHash('sha256').update(owner).digest('hex').slice(0, 24)}`

/** where an upload's storage_path (as uploadFile answered it) lives for its owner: only ever inside their own folder */
export function uploadedObject(config: { assistant: Config['assistant'] }, owner: string, storagePath: string): ObjectRef {
  validateObjectKey(storagePath)
  return { bucket: config.assistant.uploadBucket, key: `${userFolder(owner)}/${storagePath}` }
}

export async function uploadFile(deps: FilesDeps, owner: string, bucket: unknown, file: IncomingFile) {
  validateBucketName(bucket)
  const format = checkFile(file.filename)
  const contentType = format === 'csv' && file.filename.toLowerCase().endsWith('.tsv') ? 'text/tab-separated-values' : CONTENT_TYPES[format]
  const info = await deps.objects.put(
    { bucket: deps.config.assistant.uploadBucket, key: `${userFolder(owner)}/${bucket}/${file.filename}` },
    file.stream,
    { contentType, maxBytes: deps.config.assistant.maxUploadBytes },
  )
  return { file_name: file.filename, storage_path: `${bucket}/${file.filename}`, content_type: contentType, size_bytes: info.size }
}

/** counts bytes through, failing past the limit */
function limit(maxBytes: number): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length
      done(seen > maxBytes ? tooLarge(maxBytes) : null, chunk)
    },
  })
}

export async function profileUpload(deps: FilesDeps, file: IncomingFile): Promise<FileProfile & { file_name: string }> {
  const format = checkFile(file.filename)
  const dir = await mkdtemp(join(tmpdir(), 'atrium-profile-'))
  try {
    // the copy's name is ours; only its extension comes from the caller's name
    const path = join(dir, `${randomBytes(8).toString('hex')}.${file.filename.toLowerCase().split('.').pop()}`)
    await pipeline(file.stream, limit(deps.config.assistant.maxUploadBytes), createWriteStream(path))
    return { file_name: file.filename, ...(await profileFile(dir, path, format, deps.config.assistant.profileMemoryMb)) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
