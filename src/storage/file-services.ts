// The storage file capability as one value for the composition root: file records, their changes, and their
// multipart uploads, sharing one file store.
import { StorageFileChanges } from './file-changes.js'
import { StorageFiles, type StorageFilesDeps } from './files-service.js'
import { StorageMultipart } from './multipart-service.js'

export interface FileServices {
  files: StorageFiles
  changes: StorageFileChanges
  multipart: StorageMultipart
}

export function createFileServices(deps: StorageFilesDeps): FileServices {
  const files = new StorageFiles(deps)
  return { files, changes: new StorageFileChanges(deps, files), multipart: new StorageMultipart(deps, files) }
}
