/**
 * `ddl check` over a migrations directory: the history carried from file to file, the Supabase
 * profile (flag, configuration, connection host) and its end-of-run lints, and inline
 * `-- ddl:ignore` comments, which silence hazard findings and never lower a tier.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerCheck } from '../src/commands/check.js'
import type { JsonReport } from '../src/format/json.js'
import type { Io } from '../src/io.js'
import { run } from '../src/program.js'

let dir = ''

async function ddlCheck(
  argv: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = []
  const errors: string[] = []
  const io: Io = {
    stdout: (text) => out.push(text),
    stderr: (text) => errors.push(text),
    readStdin: async () => '',
    env: options.env ?? {},
    cwd: options.cwd ?? dir,
    color: false,
  }
  const code = await run(['check', ...argv], { io, exitCode: 0 }, [registerCheck])
  return { code, stdout: out.join(''), stderr: errors.join('') }
}

async function file(path: string, content: string): Promise<void> {
  const absolute = join(dir, path)
  await mkdir(dirname(absolute), { recursive: true })
  await writeFile(absolute, content)
}

function json(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport
}

function rulesIn(report: JsonReport, path: string): string[] {
  return (report.files.find((f) => f.path === path)?.statements ?? []).flatMap((s) => s.findings.map((f) => f.rule))
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ddl-check-profile-'))
  // Shaped on mckaywrigley/chatbot-ui supabase/migrations (tables, RLS, policies over several files).
  await file(
    'supabase/migrations/20240108234540_setup.sql',
    `CREATE TABLE IF NOT EXISTS profiles (id uuid PRIMARY KEY, user_id uuid NOT NULL, username varchar(100) NOT NULL);
CREATE TABLE IF NOT EXISTS workspaces (id uuid PRIMARY KEY, user_id uuid NOT NULL);
CREATE FUNCTION public.delete_workspace(id uuid) RETURNS void LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$;
`,
  )
  await file(
    'supabase/migrations/20240108234541_rls.sql',
    `ALTER TABLE profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Allow full access to own profiles" ON profiles USING (user_id = auth.uid()) WITH CHECK (user_id = auth.uid());
ALTER TABLE profiles ALTER COLUMN username TYPE varchar(25);
`,
  )
  // A Diesel layout (LemmyNet/lemmy): the down migration is not applied forward.
  await file('diesel/2020-01-01-000000_create/up.sql', 'CREATE TABLE person (name varchar(100));\n')
  await file('diesel/2020-01-01-000000_create/down.sql', 'DROP TABLE person;\n')
  await file('diesel/2020-02-01-000000_widen/up.sql', 'ALTER TABLE person ALTER COLUMN name TYPE varchar(255);\n')
  await file('diesel/2020-03-01-000000_narrow/up.sql', 'ALTER TABLE person ALTER COLUMN name TYPE varchar(20);\n')
  await file(
    'ignores.sql',
    `ALTER TABLE person ADD COLUMN bio varchar(300); -- ddl:ignore prefer-text-field the limit is a product rule
-- ddl:ignore add-index-without-concurrently the table is created empty by the deploy job
CREATE INDEX person_name_idx ON person (name);
-- ddl:ignore drop-table the table is obsolete
DROP TABLE person_archive;
-- ddl:ignore delete-without-where cleanup
DELETE FROM sessions;
-- ddl:ignore prefer-timestamptz
CREATE TABLE events (at timestamp);
`,
  )
  await file('configured/ddl.config.json', JSON.stringify({ profile: 'supabase' }))
  await file('configured/one.sql', 'CREATE TABLE notes (id int);\n')
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('ddl check: the migration history', () => {
  it('knows a column type from an earlier migration and skips down migrations', async () => {
    const r = await ddlCheck(['diesel', '--format', 'json'])
    const report = json(r.stdout)
    expect(rulesIn(report, 'diesel/2020-02-01-000000_widen/up.sql')).not.toContain('alter-column-type-narrowing')
    expect(rulesIn(report, 'diesel/2020-02-01-000000_widen/up.sql')).not.toContain('alter-column-type-unknown-old-type')
    expect(rulesIn(report, 'diesel/2020-03-01-000000_narrow/up.sql')).toContain('alter-column-type-narrowing')
    const narrow = report.files.find((f) => f.path === 'diesel/2020-03-01-000000_narrow/up.sql')
    expect(narrow?.statements[0]?.findings.find((f) => f.rule === 'alter-column-type-narrowing')?.message).toContain(
      'from varchar(255)',
    )
  })

  it('reads one directory as a history from its first migration, and loose files as scripts of unknown past', async () => {
    // Shaped on chatbot-ui: a table made IF NOT EXISTS and its policy, in one file after the setup.
    await file('fromstart/20240101000000_setup.sql', 'CREATE EXTENSION IF NOT EXISTS pgcrypto;\n')
    await file(
      'fromstart/20240102000000_folders.sql',
      `CREATE TABLE IF NOT EXISTS folders (id uuid PRIMARY KEY, user_id uuid NOT NULL);
ALTER TABLE folders ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Allow full access to own folders" ON folders USING (user_id = auth.uid());
`,
    )
    const policyTier = (report: JsonReport) =>
      report.files
        .find((f) => f.path === 'fromstart/20240102000000_folders.sql')
        ?.statements.find((s) => s.text.startsWith('CREATE POLICY'))?.tier
    const whole = json((await ddlCheck(['fromstart', '--format', 'json', '--profile', 'supabase'])).stdout)
    expect(policyTier(whole)).toBe('safe')
    const loose = json(
      (
        await ddlCheck([
          'fromstart/20240101000000_setup.sql',
          'fromstart/20240102000000_folders.sql',
          '--format',
          'json',
          '--profile',
          'supabase',
        ])
      ).stdout,
    )
    expect(policyTier(loose)).toBe('cautious')
  })

  it('reads a flat directory in natural order, as ddl migrate applies it', async () => {
    // 2_ before 10_: read as plain text, 10_ would come first and not know the column's old type.
    await file('natural/2_create.sql', 'CREATE TABLE people (name varchar(100));\n')
    await file('natural/10_narrow.sql', 'ALTER TABLE people ALTER COLUMN name TYPE varchar(10);\n')
    const report = json((await ddlCheck(['natural', '--format', 'json'])).stdout)
    expect(report.files.map((f) => f.path)).toEqual(['natural/2_create.sql', 'natural/10_narrow.sql'])
    expect(rulesIn(report, 'natural/10_narrow.sql')).toContain('alter-column-type-narrowing')
  })

  it('reports an unknown old type when the file is checked alone', async () => {
    const r = await ddlCheck(['diesel/2020-03-01-000000_narrow/up.sql', '--format', 'json'])
    expect(rulesIn(json(r.stdout), 'diesel/2020-03-01-000000_narrow/up.sql')).toEqual(
      expect.arrayContaining(['alter-column-type-unknown-old-type']),
    )
  })
})

describe('ddl check: the Supabase profile', () => {
  it('adds the end-of-run lints to the file that created the object', async () => {
    const r = await ddlCheck(['supabase/migrations', '--profile', 'supabase', '--format', 'json'])
    const report = json(r.stdout)
    const setup = report.files.find((f) => f.path === 'supabase/migrations/20240108234540_setup.sql')
    expect(setup?.statements[1]?.findings.map((f) => f.rule)).toContain('supabase-rls-disabled-in-public')
    expect(setup?.statements[0]?.findings.map((f) => f.rule)).not.toContain('supabase-rls-disabled-in-public')
    expect(setup?.statements[2]?.findings.map((f) => f.rule)).toEqual(
      expect.arrayContaining(['supabase-function-search-path', 'supabase-anon-security-definer']),
    )
    expect(rulesIn(report, 'supabase/migrations/20240108234541_rls.sql')).toContain('alter-column-type-narrowing')
    const plain = json((await ddlCheck(['supabase/migrations', '--format', 'json'])).stdout)
    expect(plain.files.map((f) => f.tier)).toEqual(report.files.map((f) => f.tier))
    expect(plain.files.flatMap((f) => f.statements.map((s) => s.tier))).toEqual(
      report.files.flatMap((f) => f.statements.map((s) => s.tier)),
    )
  })

  it('turns on from ddl.config.json and from a Supabase connection host, and off with --profile none', async () => {
    const cwd = join(dir, 'configured')
    expect(rulesIn(json((await ddlCheck(['one.sql', '--format', 'json'], { cwd })).stdout), 'one.sql')).toContain(
      'supabase-rls-disabled-in-public',
    )
    expect(
      rulesIn(json((await ddlCheck(['one.sql', '--profile', 'none', '--format', 'json'], { cwd })).stdout), 'one.sql'),
    ).not.toContain('supabase-rls-disabled-in-public')
    const env = { DATABASE_URL: 'postgresql://postgres:secret-pw@db.abcdefgh.supabase.co:5432/postgres' }
    const viaHost = await ddlCheck(['configured/one.sql', '--format', 'json'], { env })
    expect(rulesIn(json(viaHost.stdout), 'configured/one.sql')).toContain('supabase-rls-disabled-in-public')
    expect(viaHost.stdout + viaHost.stderr).not.toContain('secret-pw')
    const other = { DATABASE_URL: 'postgresql://postgres:pw@db.example.com:5432/postgres' }
    expect(
      rulesIn(
        json((await ddlCheck(['configured/one.sql', '--format', 'json'], { env: other })).stdout),
        'configured/one.sql',
      ),
    ).not.toContain('supabase-rls-disabled-in-public')
  })

  it('refuses an unknown profile in the configuration', async () => {
    await file('badprofile/ddl.config.json', JSON.stringify({ profile: 'heroku' }))
    await file('badprofile/one.sql', 'SELECT 1;\n')
    const r = await ddlCheck(['one.sql'], { cwd: join(dir, 'badprofile') })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('"profile" must be one of "supabase"')
  })
})

describe('ddl check: inline ignores', () => {
  it('silences the named hazard finding on or above a statement, with its reason in JSON', async () => {
    const r = await ddlCheck(['ignores.sql', '--format', 'json', '--fail-on', 'never'])
    const statements = json(r.stdout).files[0]?.statements ?? []
    expect(statements[1]?.findings.map((f) => f.rule)).not.toContain('add-index-without-concurrently')
    expect(statements[1]?.suppressed).toEqual([
      expect.objectContaining({
        rule: 'add-index-without-concurrently',
        reason: 'the table is created empty by the deploy job',
        line: 2,
      }),
    ])
    // A comment after a statement, on its line, belongs to it; other hazards on it stay.
    expect(statements[0]?.findings.map((f) => f.rule)).not.toContain('prefer-text-field')
    expect(statements[0]?.suppressed?.map((s) => s.reason)).toEqual(['the limit is a product rule'])
    expect(statements[0]?.findings.map((f) => f.rule)).toContain('missing-lock-timeout')
  })

  it('cannot lower a tier or open the gate: a comment naming a tier rule has no effect', async () => {
    const r = await ddlCheck(['ignores.sql', '--format', 'json'])
    expect(r.code).toBe(1)
    const statements = json(r.stdout).files[0]?.statements ?? []
    expect(statements[2]?.tier).toBe('destructive')
    expect(statements[2]?.findings.map((f) => f.rule)).toContain('drop-table')
    expect(statements[3]?.tier).toBe('destructive')
    expect(statements[3]?.findings.map((f) => f.rule)).toContain('delete-without-where')
    expect(r.stderr).toContain('ddl:ignore drop-table has no effect')
    // An ignore without a reason is not applied.
    expect(statements[4]?.findings.map((f) => f.rule)).toContain('prefer-timestamptz')
    expect(r.stderr).toContain('ddl:ignore prefer-timestamptz has no reason')
  })

  it('shows silenced findings as SARIF in-source suppressions with the reason', async () => {
    const r = await ddlCheck(['ignores.sql', '--format', 'sarif', '--fail-on', 'never'])
    const results = JSON.parse(r.stdout).runs[0].results as {
      ruleId: string
      suppressions?: { kind: string; justification: string }[]
    }[]
    const suppressed = results.filter((x) => x.suppressions !== undefined)
    expect(suppressed.map((x) => [x.ruleId, x.suppressions])).toEqual([
      ['prefer-text-field', [{ kind: 'inSource', justification: 'the limit is a product rule' }]],
      [
        'add-index-without-concurrently',
        [{ kind: 'inSource', justification: 'the table is created empty by the deploy job' }],
      ],
    ])
    expect(results.find((x) => x.ruleId === 'drop-table')?.suppressions).toBeUndefined()
  })

  it('leaves the text output without the silenced finding', async () => {
    const r = await ddlCheck(['ignores.sql', '--fail-on', 'never'])
    expect(r.stdout).not.toContain('add-index-without-concurrently')
    expect(r.stdout).toContain('drop-table')
  })
})
