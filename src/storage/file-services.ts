// The storage file capability as one value for the composition root: file records, their changes, links and
// versions, folders, and multipart uploads, sharing one file store.
import { StorageFileChanges } from './file-changes.js'
import { StorageFileFolders } from './file-folders.js'
import { StorageFileLinks } from './file-links.js'
import { StorageFiles, type StorageFilesDeps } from './files-service.js'
import { StorageMultipart } from './multipart-service.js'

export interface FileServices {
  files: StorageFiles
  changes: StorageFileChanges
  links: StorageFileLinks
  folders: StorageFileFolders
  multipart: StorageMultipart
}

export function createFileServices(deps: StorageFilesDeps): FileServices {
  const files = new StorageFiles(deps)
  const changes = new StorageFileChanges(deps, files)
  return {
    files,
    changes,
    links: new StorageFileLinks(deps, files),
    folders: new StorageFileFolders(deps, files, changes),
    multipart: new StorageMultipart(deps, files),
  }
}
