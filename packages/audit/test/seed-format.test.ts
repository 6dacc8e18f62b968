import { type AuditRecord, formatSeedLine, GENESIS_HASH } from '@ddl/audit'
import { describe, expect, it } from 'vitest'
import { NO_FLAGS } from './helpers.js'

function record(overrides: Partial<AuditRecord>): AuditRecord {
  return {
    v: 1,
    seq: 1,
    time: '2026-01-29T10:15:32.000Z',
    actor: 'brent',
    project: 'smoothed',
    tier: 'safe',
    outcome: 'committed',
    statement: 'SELECT 1',
    flags: NO_FLAGS,
    prevHash: GENESIS_HASH,
    hash: GENESIS_HASH,
    ...overrides,
  }
}

describe('formatSeedLine', () => {
  it("renders the seed's three example lines byte for byte", () => {
    const lines = [
      record({ time: '2026-01-29T10:15:32.000Z', statement: 'CREATE TABLE users (id uuid PRIMARY KEY)' }),
      record({
        time: '2026-01-29T10:16:01.250Z',
        tier: 'cautious',
        statement: 'TRUNCATE users',
        flags: { ...NO_FLAGS, confirm: true },
      }),
      record({
        time: '2026-01-29T10:20:45.999Z',
        tier: 'destructive',
        statement: 'DROP TABLE old_users',
        flags: { ...NO_FLAGS, iKnowWhatImDoing: true },
      }),
    ].map(formatSeedLine)
    expect(lines.join('\n')).toBe(
      [
        '2026-01-29 10:15:32 | smoothed | SAFE | CREATE TABLE users (id uuid PRIMARY KEY)',
        '2026-01-29 10:16:01 | smoothed | CAUTIOUS | TRUNCATE users | confirm=True',
        '2026-01-29 10:20:45 | smoothed | DESTRUCTIVE | DROP TABLE old_users | override=True',
      ].join('\n'),
    )
  })

  it('puts a multi-line statement on one line', () => {
    const line = formatSeedLine(record({ statement: '\n  CREATE TABLE t (\n\tid int,\r\n  name text\n)\n' }))
    expect(line).toBe('2026-01-29 10:15:32 | smoothed | SAFE | CREATE TABLE t ( id int, name text )')
  })

  it('ends other outcomes with a marker, after the flags, and a failure with its SQLSTATE', () => {
    const drop = { tier: 'destructive', statement: 'DROP TABLE t' } as const
    const both = { ...NO_FLAGS, confirm: true, iKnowWhatImDoing: true }
    expect(formatSeedLine(record({ ...drop, outcome: 'blocked' }))).toBe(
      '2026-01-29 10:15:32 | smoothed | DESTRUCTIVE | DROP TABLE t | BLOCKED',
    )
    expect(formatSeedLine(record({ ...drop, outcome: 'intent', flags: both }))).toBe(
      '2026-01-29 10:15:32 | smoothed | DESTRUCTIVE | DROP TABLE t | confirm=True | override=True | INTENT',
    )
    expect(formatSeedLine(record({ ...drop, outcome: 'failed', sqlstate: '42P01' }))).toBe(
      '2026-01-29 10:15:32 | smoothed | DESTRUCTIVE | DROP TABLE t | FAILED | sqlstate=42P01',
    )
    expect(formatSeedLine(record({ outcome: 'dry_run' }))).toMatch(/\| SELECT 1 \| DRY RUN$/)
    expect(formatSeedLine(record({ outcome: 'rehearsed' }))).toMatch(/\| REHEARSED$/)
    expect(formatSeedLine(record({ outcome: 'rolled_back' }))).toMatch(/\| ROLLED BACK$/)
  })

  it('shows control characters and bidirectional overrides as escapes, so a line cannot fake another', () => {
    const line = formatSeedLine(record({ project: 'p\u001b[31m', statement: 'SELECT 1 -- \u202e)1(TCELES' }))
    expect(line).toBe('2026-01-29 10:15:32 | p\\u{1b}[31m | SAFE | SELECT 1 -- \\u{202e})1(TCELES')
  })
})
