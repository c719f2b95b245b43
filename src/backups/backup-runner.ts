// The bytes of a backup: a dump program's output → (gzip) → sha256 and size → the object store, and back:
// the object → (gunzip) → the restore program. Streams all the way; no archive is ever held in memory.
import { createHash } from 'node:crypto'
import { PassThrough, Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import { AppError } from '../errors/app-error.js'
import type { ObjectRef, ObjectStore } from '../objects/object-store.js'
import type { Source } from '../sources/source.js'
import type { BackupEngine } from './backup-engines.js'

/** counts and hashes what flows through */
class Digest extends Transform {
  readonly sha256 = createHash('sha256')
  bytes = 0
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length
    this.sha256.update(chunk)
    done(null, chunk)
  }
}

export interface StoredArchive {
  size_bytes: number
  sha256: string
}

/**
 * Dumps `source` into `ref`. The object is written whole or not at all by the store; when the dump program fails
 * after its output was stored, the object is deleted again, so what remains at `ref` is always a complete dump.
 */
export async function dumpToStore(o: { engine: BackupEngine; source: Source; objects: ObjectStore; ref: ObjectRef; metadata: Record<string, string>; signal: AbortSignal }): Promise<StoredArchive> {
  const run = o.engine.dump(o.source, o.signal)
  const digest = new Digest()
  const body = new PassThrough()
  const stages = o.engine.gzip ? [run.stdout, createGzip({ level: 6 }), digest, body] as const : [run.stdout, digest, body] as const
  const flowing = pipeline(...(stages as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream]))
  // a failed program ends the body with its error, so the store's upload fails instead of storing a short dump
  run.done.catch((err: unknown) => body.destroy(err as Error))
  try {
    await Promise.all([
      o.objects.put(o.ref, body, { contentType: o.engine.contentType, metadata: o.metadata }),
      flowing,
      run.done,
    ])
  } catch (err) {
    run.child.kill('SIGKILL')
    await o.objects.delete(o.ref).catch(() => {})
    throw o.signal.aborted ? o.signal.reason : err
  }
  return { size_bytes: digest.bytes, sha256: digest.sha256.digest('hex') }
}

/** reads the whole object and compares its sha256 with the recorded one (500 backup_checksum_mismatch) */
export async function verifyArchive(objects: ObjectStore, ref: ObjectRef, expected: { sha256: string; size_bytes: number }, signal: AbortSignal): Promise<void> {
  const { body } = await objects.get(ref)
  const digest = new Digest()
  await pipeline(body, digest, async function* (chunks) { for await (const _ of chunks) { /* drained */ } }, { signal })
  const actual = digest.sha256.digest('hex')
  if (actual !== expected.sha256 || digest.bytes !== expected.size_bytes) {
    throw new AppError('backup_checksum_mismatch', `the archive ${ref.key} has changed since it was written: sha256 ${actual} (${digest.bytes} bytes), recorded ${expected.sha256} (${expected.size_bytes} bytes); nothing was restored`)
  }
}

/** feeds the object at `ref` to the engine's restore program on `target` */
export async function restoreFromStore(o: { engine: BackupEngine; target: Source; objects: ObjectStore; ref: ObjectRef; signal: AbortSignal }): Promise<void> {
  const { body } = await o.objects.get(o.ref)
  const run = o.engine.restore(o.target, o.signal)
  const stages = o.engine.gzip ? [body, createGunzip(), run.stdin] : [body, run.stdin]
  const flowing = pipeline(...(stages as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream]))
  try {
    // the program's exit status is the verdict; a pipe it closed early shows there too
    await Promise.all([flowing.catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EPIPE') throw err }), run.done])
  } catch (err) {
    run.child.kill('SIGKILL')
    body.destroy()
    throw o.signal.aborted ? o.signal.reason : err
  }
}
