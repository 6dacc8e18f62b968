import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerCheck } from '../src/commands/check.js'
import type { JsonReport } from '../src/format/json.js'
import type { Io } from '../src/io.js'
import { run } from '../src/program.js'

interface Outcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

let dir = ''

/** Runs `ddl check ...argv` in-process, in `cwd` (the test's temp dir by default), with buffers for output. */
async function ddlCheck(
  argv: readonly string[],
  options: { cwd?: string; stdin?: string; color?: boolean } = {},
): Promise<Outcome> {
  const out: string[] = []
  const errors: string[] = []
  const io: Io = {
    stdout: (text) => out.push(text),
    stderr: (text) => errors.push(text),
    readStdin: async () => options.stdin ?? '',
    env: {},
    cwd: options.cwd ?? dir,
    color: options.color ?? false,
  }
  const code = await run(['check', ...argv], { io, exitCode: 0 }, [registerCheck])
  return { code, stdout: out.join(''), stderr: errors.join('') }
}

async function file(path: string, content: string | Uint8Array): Promise<string> {
  const absolute = join(dir, path)
  await mkdir(dirname(absolute), { recursive: true })
  await writeFile(absolute, content)
  return path
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ddl-check-'))
  await file(
    'safe.sql',
    'CREATE TABLE users (id bigint PRIMARY KEY, email text);\nCOMMENT ON TABLE users IS $$people$$;\n',
  )
  await file('drop.sql', '-- retire the old table\nDROP TABLE orders;\n')
  await file('delete.sql', 'DELETE FROM sessions WHERE expires_at < now();\n')
  await file('broken.sql', 'CREATE TABLE ok (id int);\nALTER TABEL users DROP COLUMN email;\n')
  await file('migrations/002_b.sql', 'CREATE INDEX CONCURRENTLY users_email ON users (email);\n')
  await file('migrations/001_a.sql', 'CREATE TABLE a (id int);\n')
  await file('migrations/sub/003_c.sql', 'TRUNCATE a;\n')
  await file('migrations/notes.txt', 'DROP TABLE not_sql;\n')
  await file('migrations/node_modules/x.sql', 'DROP TABLE skipped;\n')
  await file('migrations/.hidden/y.sql', 'DROP TABLE skipped;\n')
  await mkdir(join(dir, 'empty'), { recursive: true })
  await file('latin1.sql', Uint8Array.from([...Buffer.from("SELECT 'ok';\nSELECT 'caf"), 0xe9, 0x27, 0x3b, 0x0a]))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('ddl check: text', () => {
  it('passes a safe file with exit 0 and a summary line', async () => {
    const r = await ddlCheck(['safe.sql'])
    expect(r).toEqual({
      code: 0,
      stdout:
        '1 file, 2 statements: 2 safe, 0 cautious, 0 destructive. Passes: nothing at or above --fail-on destructive.\n',
      stderr: '',
    })
  })

  it('reports a destructive statement with location, tier, rule, hint and code frame, and exits 1', async () => {
    const r = await ddlCheck(['drop.sql'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatchInlineSnapshot(`
      "drop.sql:2:1  DESTRUCTIVE  drop-table  DROP TABLE orders deletes the table and all its rows; once committed, only ddl undo of a run that kept it brings it back.
        hint: 1. Stop using \`orders\` in the app and deploy. 2. Rename it to \`orders_retired\` and wait a release. 3. Back it up, then drop it.
      drop.sql:2:1  HAZARD  missing-lock-timeout  DROP TABLE orders waits for an ACCESS EXCLUSIVE lock on orders with no lock_timeout set: while it waits behind a long-running query, every query that reads or writes orders queues behind it.
        hint: Start the migration with SET lock_timeout = '5s' (and retry it when it times out), so a lock it cannot get fails fast instead of stalling the table.
        2 | DROP TABLE orders;
          | ^

      1 file, 1 statement: 0 safe, 0 cautious, 1 destructive. Fails: destructive is at or above --fail-on destructive.
      "
    `)
  })

  it('shows the parse error and puts the caret on it for a statement the grammar rejects', async () => {
    const r = await ddlCheck(['broken.sql'])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(
      'broken.sql:2:1  DESTRUCTIVE  unparsed-destructive  The statement `ALTER TABEL users DROP ...`',
    )
    expect(r.stdout).toContain('  parse error: syntax error at or near "TABEL" (2:7)\n')
    expect(r.stdout).toContain('  2 | ALTER TABEL users DROP COLUMN email;\n    |       ^\n')
    expect(r.stdout).toContain('(1 could not be parsed)')
  })

  it('uses colour only when the Io allows it', async () => {
    expect((await ddlCheck(['drop.sql'], { color: false })).stdout).not.toContain('\u001b[')
    expect((await ddlCheck(['drop.sql'], { color: true })).stdout).toContain('\u001b[31m')
  })
})

describe('ddl check: --fail-on', () => {
  it('exits 1 at or above the threshold and 0 below it', async () => {
    expect((await ddlCheck(['delete.sql'])).code).toBe(0)
    expect((await ddlCheck(['delete.sql', '--fail-on', 'cautious'])).code).toBe(1)
    expect((await ddlCheck(['drop.sql', '--fail-on', 'never'])).code).toBe(0)
    expect((await ddlCheck(['safe.sql', '--fail-on', 'safe'])).code).toBe(1)
    expect((await ddlCheck(['safe.sql', '--fail-on', 'cautious'])).code).toBe(0)
  })

  it('refuses an unknown threshold with exit 2', async () => {
    const r = await ddlCheck(['safe.sql', '--fail-on', 'scary'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("argument 'scary' is invalid")
  })
})

describe('ddl check: inputs', () => {
  it('checks every .sql below a directory, sorted, skipping node_modules and hidden directories', async () => {
    const r = await ddlCheck(['migrations', '--format', 'json', '--fail-on', 'never'])
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout) as JsonReport
    expect(report.files.map((f) => f.path)).toEqual([
      'migrations/001_a.sql',
      'migrations/002_b.sql',
      'migrations/sub/003_c.sql',
    ])
  })

  it('checks a file once even when it is named twice', async () => {
    const r = await ddlCheck(['drop.sql', './drop.sql', '--format', 'json'])
    expect((JSON.parse(r.stdout) as JsonReport).files).toHaveLength(1)
  })

  it('reads standard input for -', async () => {
    const r = await ddlCheck(['-', '--format', 'json'], { stdin: 'DELETE FROM users' })
    expect(r.code).toBe(1)
    const report = JSON.parse(r.stdout) as JsonReport
    expect(report.files[0]?.path).toBe('<stdin>')
    expect(report.files[0]?.statements[0]?.findings[0]?.rule).toBe('delete-without-where')
  })

  it('exits 2 with the next step when no path is given', async () => {
    const r = await ddlCheck([])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('no paths given. Pass .sql files or directories, or - to read standard input')
  })

  it('exits 2 for a missing file, before checking anything', async () => {
    const r = await ddlCheck(['drop.sql', 'nope.sql'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      `ddl check: nope.sql: no such file or directory. Check the path (relative paths start at ${dir}).\n`,
    )
  })

  it('exits 2 for a directory without .sql files', async () => {
    const r = await ddlCheck(['empty'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('empty: no .sql files in this directory')
  })

  it('exits 2 for a file that is not UTF-8, naming the line, and still reports the others', async () => {
    const r = await ddlCheck(['latin1.sql', 'safe.sql'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      'ddl check: latin1.sql: not valid UTF-8 (line 2, byte offset 24). Save the file as UTF-8, then run ddl check again.\n',
    )
    expect(r.stdout).toContain('1 file, 2 statements')
    expect(r.stdout).toContain('1 file could not be checked (exit 2)')
  })

  it('exits 2 for an unknown format or a bad --pg-version', async () => {
    expect((await ddlCheck(['safe.sql', '--format', 'xml'])).code).toBe(2)
    const r = await ddlCheck(['safe.sql', '--pg-version', 'sixteen'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('expected a Postgres major version')
  })

  it('prints help with examples', async () => {
    const r = await ddlCheck(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Usage: ddl check [options] [paths...]')
    expect(r.stdout).toContain('$ ddl check migrations/')
    expect(r.stdout).toContain('--fail-on <tier>')
  })
})

describe('ddl check: policy', () => {
  let project = ''
  beforeAll(async () => {
    project = join(dir, 'project')
    await mkdir(project, { recursive: true })
    await writeFile(join(project, 'drop.sql'), 'DROP TABLE scratch;\n')
  })

  it('reads the policy from ddl.config.json in the working directory', async () => {
    await writeFile(
      join(project, 'ddl.config.json'),
      JSON.stringify({ policy: { rules: { 'drop-table': 'cautious' } } }),
    )
    const r = await ddlCheck(['drop.sql'], { cwd: project })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('CAUTIOUS  drop-table')
    await rm(join(project, 'ddl.config.json'))
  })

  it('reads the policy from package.json "safe-ddl" when there is no ddl.config.json', async () => {
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'x', 'safe-ddl': { policy: { rules: { 'drop-table': 'cautious' } } } }),
    )
    expect((await ddlCheck(['drop.sql'], { cwd: project })).code).toBe(0)
    await rm(join(project, 'package.json'))
  })

  it('reads the policy from --config', async () => {
    await writeFile(
      join(dir, 'strict.json'),
      JSON.stringify({ policy: { rules: { 'delete-with-where': 'destructive' } } }),
    )
    const r = await ddlCheck(['delete.sql', '--config', 'strict.json'])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('DESTRUCTIVE  delete-with-where')
  })

  it('exits 2 for a policy with an unknown rule, a bad tier, a lowered fallback rule, or invalid JSON', async () => {
    await writeFile(join(dir, 'typo.json'), JSON.stringify({ policy: { rules: { 'drop-tabel': 'safe' } } }))
    await writeFile(join(dir, 'tier.json'), JSON.stringify({ policy: { rules: { 'drop-table': 'fine' } } }))
    await writeFile(join(dir, 'bad.json'), '{ "policy": ')
    await writeFile(join(dir, 'lower.json'), JSON.stringify({ policy: { rules: { 'unparsed-statement': 'safe' } } }))
    for (const [config, message] of [
      ['typo.json', 'unknown rule "drop-tabel" in policy.rules'],
      ['tier.json', 'policy.rules["drop-table"] must be "safe", "cautious", "destructive" or "off"'],
      ['bad.json', 'is not valid JSON'],
      ['lower.json', 'cannot lower it: text the grammar rejects is never below cautious'],
      ['missing.json', 'cannot be read (no such file or directory)'],
    ] as const) {
      const r = await ddlCheck(['drop.sql', '--config', config])
      expect(r.code, config).toBe(2)
      expect(r.stderr, config).toContain(message)
      expect(r.stdout, config).toBe('')
    }
  })
})

describe('ddl check: json', () => {
  it('writes the versioned report with every statement, its verdict and any parse error', async () => {
    const r = await ddlCheck(['broken.sql', 'delete.sql', '--format', 'json'])
    expect(r.code).toBe(1)
    const report = JSON.parse(r.stdout) as JsonReport
    expect(report.version).toBe(1)
    expect(report.files.map((f) => [f.path, f.tier])).toEqual([
      ['broken.sql', 'destructive'],
      ['delete.sql', 'cautious'],
    ])
    const [created, unparsed] = report.files[0]?.statements ?? []
    expect(created).toMatchObject({ line: 1, column: 1, offset: 0, kind: 'CreateStmt', tier: 'safe', findings: [] })
    expect(created).not.toHaveProperty('parseError')
    expect(unparsed).toMatchObject({
      line: 2,
      column: 1,
      offset: 26,
      text: 'ALTER TABEL users DROP COLUMN email',
      kind: 'Unparsed',
      tier: 'destructive',
      parseError: { message: 'syntax error at or near "TABEL"', line: 2, column: 7 },
    })
    expect(Object.keys(unparsed ?? {})).toEqual([
      'line',
      'column',
      'offset',
      'length',
      'text',
      'kind',
      'tier',
      'lock',
      'rewrite',
      'scan',
      'transactional',
      'transactionControl',
      'targets',
      'findings',
      'parseError',
    ])
    expect(Object.keys(unparsed?.findings[0] ?? {})).toEqual(['rule', 'tier', 'severity', 'message', 'hint'])
  })

  it('writes a valid document even when a file fails to read', async () => {
    const r = await ddlCheck(['latin1.sql', '--format', 'json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout)).toEqual({ version: 1, files: [] })
  })
})

describe('ddl check: sarif', () => {
  it('writes SARIF 2.1.0 with rule metadata, levels and locations', async () => {
    const r = await ddlCheck(['drop.sql', 'delete.sql', 'broken.sql', '--format', 'sarif'])
    expect(r.code).toBe(1)
    const log = JSON.parse(r.stdout)
    expect(log.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json')
    expect(log.version).toBe('2.1.0')
    const run = log.runs[0]
    expect(run.tool.driver).toMatchObject({
      name: 'safe-ddl',
      version: expect.any(String),
      informationUri: expect.any(String),
    })
    expect(run.tool.driver.rules.map((rule: { id: string }) => rule.id)).toEqual([
      'drop-table',
      'missing-lock-timeout',
      'delete-with-where',
      'unparsed-destructive',
    ])
    expect(run.tool.driver.rules[0]).toMatchObject({
      id: 'drop-table',
      shortDescription: { text: expect.any(String) },
      helpUri: 'docs/rules/drop-table.md',
      defaultConfiguration: { level: 'error' },
    })
    expect(run.results.map((result: { level: string }) => result.level)).toEqual(['error', 'note', 'warning', 'error'])
    expect(run.results[0]).toMatchObject({
      ruleId: 'drop-table',
      ruleIndex: 0,
      message: { text: expect.stringContaining('DROP TABLE orders deletes the table') },
      locations: [
        { physicalLocation: { artifactLocation: { uri: 'drop.sql' }, region: { startLine: 2, startColumn: 1 } } },
      ],
    })
    expect(run.results[3].message.text).toContain('Parse error: syntax error at or near "TABEL" (2:7).')
  })
})

describe('ddl check: github', () => {
  it('writes one workflow command per finding, escaped', async () => {
    await file('odd, name: x.sql', 'DROP TABLE t;\nDELETE FROM t WHERE id = 1;\n')
    const r = await ddlCheck(['odd, name: x.sql', '--format', 'github'])
    expect(r.code).toBe(1)
    const lines = r.stdout.split('\n')
    const titled = (rule: string) => lines.find((l) => l.includes(`title=${rule} `)) ?? ''
    expect(titled('drop-table')).toMatch(
      /^::error file=odd%2C name%3A x\.sql,line=1,col=1,title=drop-table \(destructive\)::DROP TABLE t deletes .*%0Ahint: 1\. /,
    )
    expect(titled('delete-with-where')).toMatch(
      /^::warning file=odd%2C name%3A x\.sql,line=2,col=1,title=delete-with-where \(cautious\)::/,
    )
    // Hazards, which never change the tier, are notices.
    expect(titled('missing-lock-timeout')).toMatch(/^::notice file=odd%2C name%3A x\.sql,line=1,col=1,/)
    expect(lines.at(-2) ?? lines.at(-1)).toContain('1 file, 2 statements')
  })
})

describe('ddl check as a process', () => {
  const bin = resolve(import.meta.dirname, '../bin/ddl.js')
  const built = existsSync(resolve(import.meta.dirname, '../dist/main.js'))

  it('runs from bin/ddl.js with real exit codes (needs the build: pnpm build)', () => {
    expect(built, 'packages/cli/dist/main.js is missing: run `pnpm build` (pnpm test builds first)').toBe(true)
    const ok = spawnSync(process.execPath, [bin, 'check', 'safe.sql'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    })
    expect(ok.status).toBe(0)
    expect(ok.stdout).toContain('1 file, 2 statements: 2 safe')
    const bad = spawnSync(process.execPath, [bin, 'check', '-', '--format', 'json'], {
      cwd: dir,
      encoding: 'utf8',
      input: 'DROP TABLE users;',
    })
    expect(bad.status).toBe(1)
    expect((JSON.parse(bad.stdout) as JsonReport).files[0]?.tier).toBe('destructive')
    const missing = spawnSync(process.execPath, [bin, 'check', 'nope.sql'], { cwd: dir, encoding: 'utf8' })
    expect(missing.status).toBe(2)
    expect(missing.stderr).toContain('nope.sql: no such file or directory')
  })
})
