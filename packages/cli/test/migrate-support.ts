/** Helpers for the `ddl migrate` tests: a fresh database per test, `ddl` run in-process. */
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, inject } from 'vitest'
import { withClient, withDatabase } from '../../../test/support/database.js'
import { registerMigrate } from '../src/commands/migrate.js'
import type { Io } from '../src/io.js'
import { run } from '../src/program.js'

const created: string[] = []

afterAll(async () => {
  const admin = inject('databaseUrl')
  for (const name of created) await withClient(admin, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
})

/** A new, empty database on the suite's server (dropped when the file ends). */
export async function freshDatabase(): Promise<string> {
  const admin = inject('databaseUrl')
  const name = `climig_${randomBytes(6).toString('hex')}`
  await withClient(admin, (c) => c.query(`CREATE DATABASE ${name}`))
  created.push(name)
  return withDatabase(admin, name)
}

/** A temp dir holding `files` (relative path → text). */
export function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ddl-cli-migrate-'))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

export interface Outcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `ddl migrate ...argv` in-process on `url`, in `cwd`, the audit log in `cwd`. */
export async function ddlMigrate(url: string, cwd: string, argv: readonly string[]): Promise<Outcome> {
  const out: string[] = []
  const errors: string[] = []
  const io: Io = {
    stdout: (text) => out.push(text),
    stderr: (text) => errors.push(text),
    readStdin: async () => '',
    env: { DDL_DATABASE_URL: url, DDL_AUDIT_LOG: join(cwd, 'audit.jsonl'), DDL_ACTOR: 'ci' },
    cwd,
    color: false,
  }
  const code = await run(['migrate', ...argv], { io, exitCode: 0 }, [registerMigrate])
  return { code, stdout: out.join(''), stderr: errors.join('') }
}

/** Runs SQL on `url` directly. */
export async function sql<R = Record<string, unknown>>(url: string, text: string): Promise<R[]> {
  return withClient(url, async (c) => (await c.query(text)).rows as R[])
}
