import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AuditEntry, AuditLog, type AuditRecord, GENESIS_HASH } from '@ddl/audit'
import { afterEach, describe, expect, it } from 'vitest'
import { registerAudit } from '../src/commands/audit.js'
import type { Io } from '../src/io.js'
import { type CommandContext, run } from '../src/program.js'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ddl-cli-audit-'))
  dirs.push(dir)
  return dir
}

/** Runs `ddl <argv>` in-process with buffers for stdout and stderr. */
async function ddl(argv: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  let stdout = ''
  let stderr = ''
  const io: Io = {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
    readStdin: async () => '',
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    color: false,
  }
  const ctx: CommandContext = { io, exitCode: 0 }
  const code = await run(argv, ctx, [registerAudit])
  return { code, stdout, stderr }
}

const flags = { confirm: false, iKnowWhatImDoing: false, dryRun: false, rehearse: false }

function at(time: string, entry: Partial<AuditEntry>): [string, AuditEntry] {
  return [time, { project: 'smoothed', tier: 'safe', statement: 'SELECT 1', flags, outcome: 'committed', ...entry }]
}

/** Writes entries with the given times and returns the log's path and records. */
async function seedLog(items: ReadonlyArray<[string, AuditEntry]>, dir?: string) {
  const path = join(dir ?? (await tempDir()), 'audit.jsonl')
  const records: AuditRecord[] = []
  for (const [time, entry] of items) {
    const log = AuditLog.open({ path, actor: 'brent', now: () => new Date(time) })
    records.push(...(await log.append(entry))._unsafeUnwrap())
  }
  return { path, records }
}

const seedEntries: ReadonlyArray<[string, AuditEntry]> = [
  at('2026-01-29T10:15:31.000Z', {
    statement: 'CREATE TABLE users (id uuid PRIMARY KEY)',
    outcome: 'intent',
    runId: 'a',
  }),
  at('2026-01-29T10:15:32.000Z', { statement: 'CREATE TABLE users (id uuid PRIMARY KEY)', runId: 'a' }),
  at('2026-01-29T10:16:01.000Z', {
    tier: 'cautious',
    statement: 'TRUNCATE users',
    flags: { ...flags, confirm: true },
    runId: 'b',
  }),
  at('2026-01-29T10:20:45.000Z', {
    tier: 'destructive',
    statement: 'DROP TABLE old_users',
    flags: { ...flags, iKnowWhatImDoing: true },
    runId: 'c',
  }),
  at('2026-01-30T08:00:00.000Z', {
    project: 'scraping',
    tier: 'destructive',
    statement: 'DROP TABLE x',
    outcome: 'blocked',
  }),
  at('2026-01-30T09:00:00.000Z', {
    project: 'scraping',
    statement: 'CREATE INDEX i ON t (c)',
    outcome: 'intent',
    runId: 'd',
  }),
]

describe('ddl audit verify', () => {
  it('prints the record count and head hash, and exits 0', async () => {
    const { path, records } = await seedLog(seedEntries)
    const result = await ddl(['audit', 'verify', '--log', path])
    expect(result).toEqual({ code: 0, stdout: `ok: 6 records, head ${records[5]?.hash}\n`, stderr: '' })
  })

  it('exits 1 and names the first bad line of an edited log', async () => {
    const { path } = await seedLog(seedEntries)
    const text = await readFile(path, 'utf8')
    await writeFile(path, text.replace('DROP TABLE old_users', 'DROP TABLE new_users'))
    const result = await ddl(['audit', 'verify', '--log', path])
    expect(result.code).toBe(1)
    expect(result.stdout).toBe(`broken: line 4: was edited: its hash does not match its content (6 lines in ${path})\n`)
    expect(result.stderr).toContain('Records from line 4 on cannot be trusted.')
  })

  it('prints the report as JSON with --json', async () => {
    const { path, records } = await seedLog(seedEntries.slice(0, 2))
    const result = await ddl(['audit', 'verify', '--log', path, '--json'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({ path, ok: true, records: 2, headHash: records[1]?.hash })
  })

  it('reads DDL_AUDIT_LOG, and takes a relative --log from the working directory', async () => {
    const { path } = await seedLog(seedEntries.slice(0, 1))
    expect((await ddl(['audit', 'verify'], { env: { DDL_AUDIT_LOG: path } })).stdout).toMatch(/^ok: 1 records/)
    const cwd = join(path, '..')
    expect((await ddl(['audit', 'verify', '--log', 'audit.jsonl'], { cwd })).stdout).toMatch(/^ok: 1 records/)
  })

  it('reports an empty log, with a note, when the file does not exist', async () => {
    const path = join(await tempDir(), 'none.jsonl')
    const result = await ddl(['audit', 'verify', '--log', path])
    expect(result).toEqual({
      code: 0,
      stdout: `ok: 0 records, head ${GENESIS_HASH}\n`,
      stderr: `note: there is no audit log at ${path} yet.\n`,
    })
  })

  it('exits 2 with a next step when the log cannot be read', async () => {
    const dir = await tempDir()
    const result = await ddl(['audit', 'verify', '--log', dir])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      `ddl audit verify: cannot read the audit log: ${dir} is a directory. Set DDL_AUDIT_LOG (or pass --log) to a file in a directory this user can write.\n`,
    )
  })
})

describe('ddl audit verify, with a head noted earlier', () => {
  it('passes with --head while a record has it, and fails once the end was cut off', async () => {
    const { path, records } = await seedLog(seedEntries.slice(0, 4))
    const head = records[3]?.hash ?? ''
    expect((await ddl(['audit', 'verify', '--log', path, '--head', head])).code).toBe(0)
    const lines = (await readFile(path, 'utf8')).split('\n')
    await writeFile(path, `${lines.slice(0, 2).join('\n')}\n`)
    await rm(`${path}.head`)
    const cut = await ddl(['audit', 'verify', '--log', path, '--head', head])
    expect(cut.code).toBe(1)
    expect(cut.stdout).toBe(
      `broken: no record has the head hash ${head}: records were removed from the end, or the log was replaced (2 lines in ${path})\n`,
    )
  })

  it('fails when the log ends before the head noted beside it', async () => {
    const { path } = await seedLog(seedEntries.slice(0, 3))
    const lines = (await readFile(path, 'utf8')).split('\n')
    await writeFile(path, `${lines.slice(0, 2).join('\n')}\n`)
    const result = await ddl(['audit', 'verify', '--log', path])
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('its head note names record 3: records were removed from its end')
  })

  it('refuses a --head that is not a hash', async () => {
    const { path } = await seedLog(seedEntries.slice(0, 1))
    const result = await ddl(['audit', 'verify', '--log', path, '--head', 'abc'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('expected a head hash: 64 hex digits')
  })
})

describe('ddl audit show', () => {
  it("prints outcomes in the seed's format and hides intents that have an outcome", async () => {
    const { path } = await seedLog(seedEntries)
    const result = await ddl(['audit', 'show', '--log', path])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      [
        '2026-01-29 10:15:32 | smoothed | SAFE | CREATE TABLE users (id uuid PRIMARY KEY)',
        '2026-01-29 10:16:01 | smoothed | CAUTIOUS | TRUNCATE users | confirm=True',
        '2026-01-29 10:20:45 | smoothed | DESTRUCTIVE | DROP TABLE old_users | override=True',
        '2026-01-30 08:00:00 | scraping | DESTRUCTIVE | DROP TABLE x | BLOCKED',
        '2026-01-30 09:00:00 | scraping | SAFE | CREATE INDEX i ON t (c) | INTENT',
        '',
      ].join('\n'),
    )
  })

  it('shows control characters in recorded SQL escaped, so a record cannot forge another line', async () => {
    const forged = 'SELECT 1 /*\n2026-01-29 10:00:00 | smoothed | SAFE | nothing \u001b[2K\u202e*/'
    const { path } = await seedLog([at('2026-01-29T10:15:32.000Z', { tier: 'destructive', statement: forged })])
    const result = await ddl(['audit', 'show', '--log', path])
    expect(result.stdout.trim().split('\n')).toHaveLength(1)
    expect(result.stdout).toContain('\\u{1b}[2K\\u{202e}')
    expect(result.stdout).not.toContain('\u001b')
  })

  it('shows every record with --all', async () => {
    const { path } = await seedLog(seedEntries)
    const lines = (await ddl(['audit', 'show', '--log', path, '--all'])).stdout.trim().split('\n')
    expect(lines).toHaveLength(6)
    expect(lines[0]).toBe('2026-01-29 10:15:31 | smoothed | SAFE | CREATE TABLE users (id uuid PRIMARY KEY) | INTENT')
  })

  it('filters by --since, --project and --tier', async () => {
    const { path } = await seedLog(seedEntries)
    const show = async (...args: string[]) => (await ddl(['audit', 'show', '--log', path, ...args])).stdout.trim()
    expect(await show('--since', '2026-01-30')).toBe(
      [
        '2026-01-30 08:00:00 | scraping | DESTRUCTIVE | DROP TABLE x | BLOCKED',
        '2026-01-30 09:00:00 | scraping | SAFE | CREATE INDEX i ON t (c) | INTENT',
      ].join('\n'),
    )
    expect(await show('--since', '2026-01-29 10:16:01', '--project', 'smoothed')).toBe(
      [
        '2026-01-29 10:16:01 | smoothed | CAUTIOUS | TRUNCATE users | confirm=True',
        '2026-01-29 10:20:45 | smoothed | DESTRUCTIVE | DROP TABLE old_users | override=True',
      ].join('\n'),
    )
    expect(await show('--tier', 'DESTRUCTIVE', '--project', 'smoothed')).toBe(
      '2026-01-29 10:20:45 | smoothed | DESTRUCTIVE | DROP TABLE old_users | override=True',
    )
    expect(await show('--since', '1d')).toBe('')
  })

  it('prints JSON Lines, one full record per line, with --json', async () => {
    const { path, records } = await seedLog(seedEntries)
    const result = await ddl(['audit', 'show', '--log', path, '--json', '--all'])
    const parsed = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown)
    expect(parsed).toEqual(records)
  })

  it('exits 2 with a usage error for an unknown tier or an unreadable date', async () => {
    const path = join(await tempDir(), 'audit.jsonl')
    const tier = await ddl(['audit', 'show', '--log', path, '--tier', 'risky'])
    expect(tier.code).toBe(2)
    expect(tier.stderr).toContain('Give one of safe, cautious, destructive.')
    const since = await ddl(['audit', 'show', '--log', path, '--since', 'yesterday'])
    expect(since.code).toBe(2)
    expect(since.stderr).toContain('Give a date (2026-01-29)')
  })

  it('exits 2 and points to verify when a line is not a record', async () => {
    const { path } = await seedLog(seedEntries.slice(0, 2))
    await writeFile(path, `${await readFile(path, 'utf8')}oops\n`)
    const result = await ddl(['audit', 'show', '--log', path])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`line 3 of the audit log ${path} is not an audit record`)
    expect(result.stderr).toContain('ddl audit verify')
  })
})

describe('ddl audit --help', () => {
  it('shows examples for each subcommand', async () => {
    for (const sub of ['verify', 'show']) {
      const result = await ddl(['audit', sub, '--help'])
      expect(result.code).toBe(0)
      expect(result.stdout).toContain(`$ ddl audit ${sub}`)
    }
  })

  it('exits 2 and prints help when no subcommand is given', async () => {
    const result = await ddl(['audit'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('verify')
  })
})
