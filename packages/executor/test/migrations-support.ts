/** Helpers for the migration tests: a fresh database per test, migration folders in temp dirs. */
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { AuditRecord } from '@ddl/audit'
import type { RunMigrationsOptions } from '@ddl/executor'
import { afterAll, inject } from 'vitest'
import { withClient, withDatabase } from '../../../test/support/database.js'

const created: string[] = []

afterAll(async () => {
  const admin = inject('databaseUrl')
  for (const name of created) {
    await withClient(admin, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  }
})

/** A new, empty database on the suite's server (dropped when the file ends). */
export async function freshDatabase(prefix = 'mig'): Promise<string> {
  const admin = inject('databaseUrl')
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  await withClient(admin, (c) => c.query(`CREATE DATABASE ${name}`))
  created.push(name)
  return withDatabase(admin, name)
}

/** A temp dir holding `files` (path → SQL); nested paths create folders. */
export function migrationDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ddl-migrations-'))
  writeFiles(dir, files)
  return dir
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, sql] of Object.entries(files)) {
    const absolute = join(dir, path)
    mkdirSync(dirname(absolute), { recursive: true })
    writeFileSync(absolute, sql)
  }
}

/** Options for a run on `url`: empty environment, the audit log in its own temp dir. */
export function runOptions(
  url: string,
  extra: RunMigrationsOptions = {},
): RunMigrationsOptions & { auditPath: string } {
  const auditDir = mkdtempSync(join(tmpdir(), 'ddl-migrations-audit-'))
  return { url, env: {}, cwd: auditDir, auditPath: join(auditDir, 'audit.jsonl'), actor: 'tester', ...extra }
}

/** Every record of an audit log (none when it does not exist). */
export function auditRecords(path: string): AuditRecord[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as AuditRecord)
  } catch {
    return []
  }
}

/** Runs SQL on `url` directly (not through safe-ddl). */
export async function sql<R = Record<string, unknown>>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  return withClient(url, async (c) => (await c.query(text, values)).rows as R[])
}

/** The tracking rows, oldest first. */
export async function trackingRows(
  url: string,
): Promise<{ name: string; checksum: string; transactional: boolean; tier: string; applied_by: string }[]> {
  return sql(
    url,
    'SELECT name, checksum, transactional, tier, applied_by FROM public.ddl_migrations ORDER BY applied_at, name',
  )
}

/** True when a table exists in `public`. */
export async function tableExists(url: string, table: string): Promise<boolean> {
  const rows = await sql<{ exists: boolean }>(url, 'SELECT to_regclass($1) IS NOT NULL AS exists', [`public.${table}`])
  return rows[0]?.exists === true
}
