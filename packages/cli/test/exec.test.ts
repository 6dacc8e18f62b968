import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'
import { registerExec } from '../src/commands/exec.js'
import type { Io } from '../src/io.js'
import { run } from '../src/program.js'

const database = testDatabase('cliexec')
let dir = ''
let auditPath = ''

interface Outcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `ddl exec ...argv` in-process against this file's database, the audit log in a temp dir. */
async function ddlExec(
  argv: readonly string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<Outcome> {
  const out: string[] = []
  const errors: string[] = []
  const io: Io = {
    stdout: (text) => out.push(text),
    stderr: (text) => errors.push(text),
    readStdin: async () => options.stdin ?? '',
    env: options.env ?? { DDL_DATABASE_URL: database.url, DDL_AUDIT_LOG: auditPath },
    cwd: dir,
    color: false,
  }
  const code = await run(['exec', ...argv], { io, exitCode: 0 }, [registerExec])
  return { code, stdout: out.join(''), stderr: errors.join('') }
}

const count = (table: string) =>
  withClient(database.url, async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n))

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ddl-cli-exec-'))
  auditPath = join(dir, 'audit.jsonl')
  await withClient(database.url, (c) => c.query('CREATE TABLE users (id int); INSERT INTO users VALUES (1), (2)'))
})

describe('ddl exec', () => {
  it('runs safe SQL and exits 0', async () => {
    const r = await ddlExec(['CREATE TABLE campaigns (id int, name text)'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Committed 1 statement; SAFE; \d+ ms\.\n {2}line 1 {2}CREATE {2}CREATE TABLE campaigns/)
    expect(r.stderr).toBe('')
  })

  it('refuses DROP TABLE without --i-know-what-im-doing, exits 1, and runs it with the flag', async () => {
    await ddlExec(['CREATE TABLE old_backup (id int)'])
    const refused = await ddlExec(['DROP TABLE old_backup'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('ddl exec: Destructive operation blocked: DROP TABLE old_backup\n')
    expect(refused.stderr).toContain('Use --i-know-what-im-doing to override')
    expect(refused.stdout).toBe('')
    expect((await ddlExec(['DROP TABLE old_backup', '--i-know-what-im-doing'])).code).toBe(0)
  })

  it('needs --confirm for TRUNCATE', async () => {
    await ddlExec(['CREATE TABLE test_data (id int); INSERT INTO test_data VALUES (1)'])
    const refused = await ddlExec(['TRUNCATE test_data'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('This operation requires --confirm')
    expect(await count('test_data')).toBe(1)
    expect((await ddlExec(['TRUNCATE test_data', '--confirm'])).code).toBe(0)
    expect(await count('test_data')).toBe(0)
  })

  it('refuses COMMIT; DROP TABLE and leaves the rows', async () => {
    const r = await ddlExec(['COMMIT; DROP TABLE users', '--i-know-what-im-doing'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Transaction control refused: COMMIT (line 1)')
    expect(await count('users')).toBe(2)
  })

  it('dry-runs without any database configured', async () => {
    const r = await ddlExec(['CREATE TABLE test (id int)', '--dry-run'], { env: { DDL_AUDIT_LOG: auditPath } })
    expect(r).toEqual({
      code: 0,
      stdout: '[DRY RUN] Would execute: CREATE TABLE test (id int)\nClassification: SAFE\nNo changes made\n',
      stderr: '',
    })
  })

  it('exits 1 for a dry run that would be refused', async () => {
    const r = await ddlExec(['DROP TABLE users', '--dry-run'])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('Would be refused:')
    expect(r.stdout).toContain('Use --i-know-what-im-doing to override')
  })

  it('rehearses without a flag and changes nothing', async () => {
    const r = await ddlExec(['DELETE FROM users', '--rehearse'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('[REHEARSAL] Ran in a transaction and rolled it back: nothing was changed.')
    expect(r.stdout).toContain('DELETE: 2 rows')
    expect(r.stdout).toContain('To run it for real: --i-know-what-im-doing')
    expect(await count('users')).toBe(2)
  })

  it('reads SQL from a file and from standard input', async () => {
    writeFileSync(join(dir, 'change.sql'), 'CREATE TABLE from_file (id int);\nINSERT INTO from_file VALUES (1);\n')
    expect((await ddlExec(['-f', 'change.sql'])).code).toBe(0)
    expect(await count('from_file')).toBe(1)
    expect((await ddlExec(['-f', '-'], { stdin: 'CREATE TABLE from_stdin (id int)' })).code).toBe(0)
    const records = readFileSync(auditPath, 'utf8')
    expect(records).toContain('"source":"change.sql"')
    expect(records).toContain('"source":"stdin"')
  })

  it('exits 2 for a file that is not UTF-8, naming the line', async () => {
    writeFileSync(join(dir, 'latin1.sql'), Buffer.from([0x53, 0x45, 0x4c, 0x45, 0x43, 0x54, 0x0a, 0xe9]))
    const r = await ddlExec(['-f', 'latin1.sql'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('is not valid UTF-8: byte 0xe9 at line 2')
  })

  it.each([
    [['SELECT 1', '-f', 'x.sql'], 'not both'],
    [[], 'give the SQL to run, or -f FILE'],
    [['SELECT 1', '--dry-run', '--rehearse'], 'choose one'],
    [['--nope'], "unknown option '--nope'"],
  ])('exits 2 on usage errors: %j', async (argv, message) => {
    const r = await ddlExec(argv)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(message)
  })

  it('exits 2 for empty SQL and for an unknown project, naming the configured ones', async () => {
    expect((await ddlExec(['  '])).code).toBe(2)
    writeFileSync(join(dir, 'ddl.config.json'), JSON.stringify({ projects: { smoothed: 'SUPABASE_POSTGRES_URL' } }))
    const r = await ddlExec(['SELECT 1', '--project', 'nope'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('Unknown project "nope". Configured projects: smoothed.')
    const named = await ddlExec(['CREATE TABLE via_project (id int)', '--project', 'smoothed'], {
      env: { SUPABASE_POSTGRES_URL: database.url, DDL_AUDIT_LOG: auditPath },
    })
    expect(named.code).toBe(0)
  })

  it('reports a Postgres error with its line and a next step, and exits 1', async () => {
    const r = await ddlExec(['CREATE TABLE pe (id int);\nINSERT INTO nowhere VALUES (1)'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Postgres error 42P01 at line 2, column 13: relation "nowhere" does not exist')
    expect(r.stderr).toContain('The transaction was rolled back; nothing was changed.')
    expect(r.stderr).toContain('Fix the statement at line 2 and run it again.')
  })

  it('explains a server that is down without printing the password', async () => {
    const url = new URL(database.url)
    url.port = '1'
    const r = await ddlExec(['CREATE TABLE t (id int)'], {
      env: { DATABASE_URL: url.toString(), DDL_AUDIT_LOG: auditPath },
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Cannot connect to Postgres at 127.0.0.1:1/')
    expect(r.stderr).toContain('Check DATABASE_URL')
    expect(`${r.stdout}${r.stderr}`).not.toContain(database.password)
  })

  it('prints JSON for results and errors with --json', async () => {
    const ok = JSON.parse((await ddlExec(['CREATE TABLE js (id int)', '--json'])).stdout)
    expect(ok).toMatchObject({ ok: true, result: { mode: 'executed', tier: 'safe', inTransaction: true } })
    const dry = JSON.parse((await ddlExec(['DROP TABLE js', '--dry-run', '--json'])).stdout)
    expect(dry.result.statements).toEqual([expect.objectContaining({ line: 1, kind: 'DropStmt', tier: 'destructive' })])
    expect(dry.result.plan).toBeUndefined()
    const refused = await ddlExec(['DROP TABLE js', '--json'])
    expect(refused.code).toBe(1)
    expect(JSON.parse(refused.stdout)).toMatchObject({
      ok: false,
      error: { kind: 'SafetyError', reason: 'tier', requires: 'iKnowWhatImDoing' },
    })
  })

  it('shows examples in --help', async () => {
    const r = await ddlExec(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('ddl exec "TRUNCATE test_data" --confirm')
    expect(r.stdout).toContain('--i-know-what-im-doing')
  })
})

describe('ddl exec --max-rows', () => {
  it('rolls back a DELETE of one row more than --max-rows, names the effect, and runs one at the limit', async () => {
    await withClient(database.url, (c) =>
      c.query('CREATE TABLE capped (id int); INSERT INTO capped SELECT generate_series(1, 10)'),
    )
    const refused = await ddlExec(['DELETE FROM capped WHERE id <= 3', '--confirm', '--max-rows', '2'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('Effect exceeds the row limit: 3 rows deleted or updated, the limit is 2.')
    expect(refused.stderr).toContain('delete: 3 rows deleted from public.capped')
    expect(refused.stderr).toContain('--max-rows N')
    expect(await count('capped')).toBe(10)
    const ran = await ddlExec(['DELETE FROM capped WHERE id <= 2', '--confirm', '--max-rows', '2'])
    expect(ran.code).toBe(0)
    expect(await count('capped')).toBe(8)
  })

  it('refuses a --max-rows that is not a whole number', async () => {
    const r = await ddlExec(['SELECT 1', '--max-rows', 'many'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('give a whole number of rows')
  })
})
