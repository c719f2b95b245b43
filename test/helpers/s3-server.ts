// Starts a local S3 server (s3rver, path-style, on 127.0.0.1 and a free port) in a temp directory for one test file.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { TestContext } from 'node:test'

export interface TestS3 {
  endpoint: string
  bucket: string
  accessKeyId: string
  secretAccessKey: string
  /** the settings that select this server, for startTestAtrium's env */
  env: Record<string, string>
}

export async function startS3Server(t: Pick<TestContext, 'after'>, bucket = 'atrium-test'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'atrium-s3rver-'))
  const script = new URL('./s3-server-process.cjs', import.meta.url).pathname
  const child = spawn(process.execPath, ['--openssl-legacy-provider', script, directory, bucket], { stdio: ['pipe', 'pipe', 'inherit'] })
  t.after(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.stdin.end()
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))])
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    rmSync(directory, { recursive: true, force: true })
  })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('s3rver did not start within 20 s')), 20_000)
    child.once('exit', (code) => reject(new Error(`s3rver exited with status ${code}`)))
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer)
      resolve(JSON.parse(line).port)
    })
  })
  const endpoint = `http://127.0.0.1:${port}`
  // s3rver's one built-in account
  const accessKeyId = 'S3RVER'
  const secretAccessKey = 'S3RVER'
  return {
    endpoint,
    bucket,
    accessKeyId,
    secretAccessKey,
    env: { S3_ENDPOINT: endpoint, S3_BUCKET: bucket, S3_REGION: 'us-east-1', S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey },
  }
}
