import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuditEntry, AuditFlags } from '@ddl/audit'
import { afterEach } from 'vitest'

/** No flags passed. */
export const NO_FLAGS: AuditFlags = { confirm: false, iKnowWhatImDoing: false, dryRun: false, rehearse: false }

/** A committed safe entry, with `overrides` applied. */
export function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    project: 'smoothed',
    tier: 'safe',
    statement: 'CREATE TABLE users (id uuid PRIMARY KEY)',
    flags: NO_FLAGS,
    outcome: 'committed',
    ...overrides,
  }
}

/** Gives each test a fresh temp directory, removed after it. */
export function tempDirs(): () => Promise<string> {
  const made: string[] = []
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
  })
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ddl-audit-'))
    made.push(dir)
    return dir
  }
}
