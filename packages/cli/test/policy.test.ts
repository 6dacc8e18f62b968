import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuditRecord } from '@ddl/audit'
import { policyHash } from '@ddl/executor/internal'
import { beforeAll, describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'
import { registerAudit } from '../src/commands/audit.js'
import { registerCheck } from '../src/commands/check.js'
import { registerExec } from '../src/commands/exec.js'
import { registerMigrate } from '../src/commands/migrate.js'
import { registerPolicy } from '../src/commands/policy.js'
import type { Io } from '../src/io.js'
import { run } from '../src/program.js'

const database = testDatabase('clipolicy')
let dir = ''
let auditPath = ''

interface Outcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `ddl ...argv` in-process in the working tree `dir`, against this file's database. */
async function ddl(argv: readonly string[]): Promise<Outcome> {
  const out: string[] = []
  const errors: string[] = []
  const io: Io = {
    stdout: (text) => out.push(text),
    stderr: (text) => errors.push(text),
    readStdin: async () => '',
    env: { DDL_DATABASE_URL: database.url, DDL_AUDIT_LOG: auditPath },
    cwd: dir,
    color: false,
  }
  const code = await run(argv, { io, exitCode: 0 }, [
    registerExec,
    registerPolicy,
    registerCheck,
    registerMigrate,
    registerAudit,
  ])
  return { code, stdout: out.join(''), stderr: errors.join('') }
}

function records(): AuditRecord[] {
  return readFileSync(auditPath, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AuditRecord)
}

const victims = () =>
  withClient(database.url, async (c) => (await c.query('SELECT id FROM victims ORDER BY id')).rows.map((r) => r.id))

const exists = (table: string) =>
  withClient(
    database.url,
    async (c) => (await c.query('SELECT to_regclass($1) AS t', [`public.${table}`])).rows[0].t !== null,
  )

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ddl-cli-policy-'))
  auditPath = join(dir, 'audit.jsonl')
})

describe('a policy that lowers a tier is a person’s act', () => {
  it('has no effect until approved, applies once approved, and falls back when edited', async () => {
    await withClient(database.url, (c) => c.query('CREATE TABLE victims (id int); INSERT INTO victims VALUES (1), (2)'))
    // What an agent writes into the working tree.
    const lowering = { policy: { rules: { 'drop-table': 'safe' } } }
    writeFileSync(join(dir, 'ddl.config.json'), JSON.stringify(lowering))
    const hash = policyHash(lowering.policy as never)

    const refused = await ddl(['exec', 'DROP TABLE victims'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('Destructive operation blocked: DROP TABLE victims')
    expect(refused.stderr).toContain('drop-table: destructive → safe')
    expect(refused.stderr).toContain('is not approved')
    expect(refused.stderr).toContain('ddl policy approve')
    expect(await victims()).toEqual([1, 2])

    const before = await ddl(['policy', 'status'])
    expect(before.code).toBe(1)
    expect(before.stdout).toContain(`Policy ${hash}`)
    expect(before.stdout).toContain('rules.drop-table  drop-table: destructive → safe')
    expect(before.stdout).toContain('Not approved')

    // Without a terminal and without --yes nothing is approved.
    const unasked = await ddl(['policy', 'approve'])
    expect(unasked.code).toBe(1)
    expect(unasked.stderr).toContain('standard input is not a terminal')
    expect(records().some((r) => r.policy?.approved === true)).toBe(false)

    const approved = await ddl(['policy', 'approve', '--yes'])
    expect(approved.code, approved.stderr).toBe(0)
    expect(approved.stderr).toContain('rules.drop-table  drop-table: destructive → safe')
    const approval = records().filter((r) => r.policy?.approved === true)
    expect(approval).toHaveLength(1)
    expect(approval[0]).toMatchObject({
      source: 'ddl policy approve',
      outcome: 'dry_run',
      policy: { hash, approved: true },
      statement: '{"rules":{"drop-table":"safe"}}',
    })
    expect(approval[0]?.actor).not.toBe('')
    expect((await ddl(['policy', 'status'])).stdout).toContain(`Approved by ${approval[0]?.actor}`)

    const ran = await ddl(['exec', 'DROP TABLE victims', '--json'])
    expect(ran.code, ran.stderr).toBe(0)
    expect(await exists('victims')).toBe(false)
    const json = JSON.parse(ran.stdout) as { result: { warnings: string[]; statements: { findings: unknown[] }[] } }
    expect(json.result.warnings.join('\n')).toContain(
      `policy ${hash.slice(0, 12)} lowered drop-table from destructive to safe`,
    )
    expect(json.result.statements[0]?.findings).toContainEqual(
      expect.objectContaining({
        rule: 'drop-table',
        tier: 'safe',
        lowered: { rule: 'drop-table', from: 'destructive', to: 'safe', policyHash: hash },
      }),
    )
    const lowered = records().filter((r) => r.statement === 'DROP TABLE victims' && r.outcome === 'committed')
    expect(lowered).toHaveLength(1)
    expect(lowered[0]?.tier).toBe('safe')
    expect(lowered[0]?.policy).toEqual({ hash, lowered: [{ rule: 'drop-table', from: 'destructive', to: 'safe' }] })
    const shown = await ddl(['audit', 'show', '--all'])
    expect(shown.stdout).toContain(`| policy-approved=${hash.slice(0, 12)}`)
    expect(shown.stdout).toContain(
      `DROP TABLE victims | lowered=drop-table:destructive>safe policy=${hash.slice(0, 12)}`,
    )

    // The approved policy, edited afterwards (another lowering added): back to raise-only, with a warning.
    await withClient(database.url, (c) => c.query('CREATE TABLE victims (id int); INSERT INTO victims VALUES (3)'))
    writeFileSync(
      join(dir, 'ddl.config.json'),
      JSON.stringify({ policy: { rules: { 'drop-table': 'safe', truncate: 'safe' } } }),
    )
    const edited = await ddl(['exec', 'DROP TABLE victims'])
    expect(edited.code).toBe(1)
    expect(edited.stderr).toContain('is not approved')
    expect(edited.stderr).toContain('edited since')
    expect(await victims()).toEqual([3])
    expect((await ddl(['policy', 'status'])).code).toBe(1)
  })

  it('applies a raise-only policy as written, with no approval', async () => {
    await withClient(database.url, (c) => c.query('CREATE TABLE raised (id int); INSERT INTO raised VALUES (1)'))
    writeFileSync(
      join(dir, 'ddl.config.json'),
      JSON.stringify({ policy: { rules: { 'delete-with-where': 'destructive' } } }),
    )
    const refused = await ddl(['exec', 'DELETE FROM raised WHERE id = 1', '--confirm'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).not.toContain('not approved')
    const status = await ddl(['policy', 'status'])
    expect(status.code).toBe(0)
    expect(status.stdout).toContain('only raises tiers')
  })
})

describe('ddl check marks what policy lowered', () => {
  it('shows the lowering in text, JSON and SARIF', async () => {
    const policy = { allow: [{ rule: 'drop-table', objects: ['public.scratch_*'], tier: 'cautious' }] }
    writeFileSync(join(dir, 'ddl.config.json'), JSON.stringify({ policy }))
    writeFileSync(join(dir, 'drop.sql'), 'DROP TABLE public.scratch_1;\n')
    const hash = policyHash(policy as never)
    const text = await ddl(['check', 'drop.sql', '--fail-on', 'never'])
    expect(text.stdout).toContain(`lowered: policy ${hash.slice(0, 12)} moved drop-table from destructive to cautious`)
    const json = await ddl(['check', 'drop.sql', '--format', 'json', '--fail-on', 'never'])
    const report = JSON.parse(json.stdout) as { files: { statements: { findings: { lowered?: unknown }[] }[] }[] }
    expect(report.files[0]?.statements[0]?.findings[0]?.lowered).toEqual({
      rule: 'drop-table',
      from: 'destructive',
      to: 'cautious',
      policyHash: hash,
    })
    const sarif = await ddl(['check', 'drop.sql', '--format', 'sarif', '--fail-on', 'never'])
    expect(sarif.stdout).toContain(`Lowered by policy ${hash} from destructive to cautious.`)
  })
})

describe('ddl migrate under a lowering policy nobody approved', () => {
  it('refuses a DROP TABLE migration and says the policy was ignored', async () => {
    await withClient(database.url, (c) => c.query('CREATE TABLE migrated_victims (id int)'))
    writeFileSync(join(dir, 'ddl.config.json'), JSON.stringify({ policy: { rules: { 'drop-table': 'cautious' } } }))
    mkdirSync(join(dir, 'mig'), { recursive: true })
    writeFileSync(join(dir, 'mig', '001_drop.sql'), 'DROP TABLE migrated_victims;\n')
    const r = await ddl(['migrate', 'mig', '--confirm'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('ddl migrate: warning: the policy lowers tiers (drop-table: destructive → cautious)')
    expect(await exists('migrated_victims')).toBe(true)
  })
})
