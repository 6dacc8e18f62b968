import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { withClient } from '../../../test/support/database.js'
import { ddlMigrate, folder, freshDatabase, sql } from './migrate-support.js'

const workdir = () => mkdtempSync(join(tmpdir(), 'ddl-cli-migrate-cwd-'))

describe('ddl migrate DIR', () => {
  it('applies pending files with a progress line each and a summary, then applies nothing', async () => {
    const url = await freshDatabase()
    const cwd = workdir()
    const dir = folder({
      '10_orders.sql': 'CREATE TABLE orders (id int);\n',
      '2_users.sql': 'CREATE TABLE users (id int);\n',
      '3_index.sql': 'CREATE INDEX CONCURRENTLY users_id ON users (id);\n',
    })
    const first = await ddlMigrate(url, cwd, [dir])
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    const lines = first.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe(`Found 3 migrations in ${dir} (flat layout: *.sql files in natural order); 3 pending.`)
    expect(lines[1]).toMatch(/^ {2}applied {2}2_users\.sql {4}safe {9}\s+\d+ ms$/)
    expect(lines[2]).toMatch(/^ {2}applied {2}3_index\.sql {4}safe {9}\s+\d+ ms {2}outside a transaction$/)
    expect(lines[3]).toMatch(/^ {2}applied {2}10_orders\.sql {2}safe/)
    expect(lines[4]).toMatch(/^Applied 3 migrations in \d+ ms\.$/)
    const second = await ddlMigrate(url, cwd, [dir])
    expect(second.code).toBe(0)
    expect(second.stdout).toMatch(/; 0 pending\.\nNothing to apply: all 3 migrations are applied in \d+ ms\.\n$/)
    const audit = readFileSync(join(cwd, 'audit.jsonl'), 'utf8').trim().split('\n')
    expect(audit).toHaveLength(6)
  })

  it('refuses before running anything, naming each file, its tier and the CLI flag; exits 1', async () => {
    const url = await freshDatabase()
    const cwd = workdir()
    const dir = folder({
      '1_a.sql': 'CREATE TABLE a (id int, note text);\n',
      '2_drop.sql': 'ALTER TABLE a DROP COLUMN note;\nDROP TABLE a;\n',
    })
    const refused = await ddlMigrate(url, cwd, [dir])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toBe(
      `Found 2 migrations in ${dir} (flat layout: *.sql files in natural order); 2 pending.\n`,
    )
    expect(refused.stderr).toContain(
      'ddl migrate: 1 of 2 pending migrations cannot run with the flags given; nothing was run.',
    )
    expect(refused.stderr).toContain('2_drop.sql: destructive file: needs --i-know-what-im-doing.')
    expect(refused.stderr).toContain('Flags apply to the whole run: --i-know-what-im-doing lets every file above run.')
    expect(await sql(url, "SELECT to_regclass('public.a') AS t")).toEqual([{ t: null }])
    const allowed = await ddlMigrate(url, cwd, [dir, '--i-know-what-im-doing'])
    expect(allowed.code).toBe(0)
    expect(allowed.stdout).toMatch(/applied {2}2_drop\.sql {2}destructive/)
  })

  it('names the file, the line and the SQLSTATE of a failing file and exits 1', async () => {
    const url = await freshDatabase()
    const dir = folder({
      '1_a.sql': 'CREATE TABLE a (id int);\n',
      '2_bad.sql': 'CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\nINSERT INTO nowhere VALUES (1);\n',
    })
    const r = await ddlMigrate(url, workdir(), [dir])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('applied  1_a.sql')
    expect(r.stderr).toMatch(/^ddl migrate: Migration 2_bad\.sql failed at line 3 \(SQLSTATE 42P01\)\./)
    expect(r.stderr).toContain('1 migration applied by this run stays applied (1_a.sql).')
  })

  it('prints the report as JSON with --json, and an error as JSON too', async () => {
    const url = await freshDatabase()
    const cwd = workdir()
    const dir = folder({ '1_a.sql': 'CREATE TABLE a (id int);\n' })
    const r = await ddlMigrate(url, cwd, [dir, '--json'])
    expect(r.code).toBe(0)
    const parsed = JSON.parse(r.stdout) as { ok: boolean; result: { layout: string; applied: { name: string }[] } }
    expect(parsed.ok).toBe(true)
    expect(parsed.result.layout).toBe('flat')
    expect(parsed.result.applied.map((m) => m.name)).toEqual(['1_a.sql'])
    writeFileSync(join(dir, '1_a.sql'), 'CREATE TABLE a (id bigint);\n')
    const changed = await ddlMigrate(url, cwd, [dir, '--json'])
    expect(changed.code).toBe(1)
    const error = JSON.parse(changed.stdout) as { ok: boolean; error: { kind: string; problem: string; file: string } }
    expect(error).toMatchObject({ ok: false, error: { kind: 'MigrationError', problem: 'checksum', file: '1_a.sql' } })
    expect(changed.stderr).toContain('accept it with --accept-changed NAME')
    const accepted = await ddlMigrate(url, cwd, [dir, '--accept-changed', '1_a.sql'])
    expect(accepted.code).toBe(0)
    expect(accepted.stdout).toMatch(/accepted 1_a\.sql: checksum [0-9a-f]{12}… → [0-9a-f]{12}…/)
  })

  it('says which layout it found for Prisma folders', async () => {
    const url = await freshDatabase()
    const dir = folder({
      'migration_lock.toml': 'provider = "postgresql"\n',
      '20240101000000_init/migration.sql': 'CREATE TABLE "User" (id int);\n',
    })
    const r = await ddlMigrate(url, workdir(), [dir])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('(Prisma layout: <timestamp>_<name>/migration.sql folders); 1 pending.')
    expect(r.stdout).toMatch(/applied {2}20240101000000_init/)
  })

  it('exits 2 with a clear message for a folder without migrations', async () => {
    const url = await freshDatabase()
    const r = await ddlMigrate(url, workdir(), [folder({ 'notes.md': '# none' })])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^ddl migrate: No migrations found in .* \(it holds 1 entry, none a migration\)\./)
  })

  it('exits 2 for a malformed duration', async () => {
    const url = await freshDatabase()
    const r = await ddlMigrate(url, workdir(), [folder({ '1.sql': 'SELECT 1;' }), '--lock-timeout', 'soon'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("option '--lock-timeout <duration>' argument 'soon' is invalid")
  })

  it('fails at once with --wait 0 while another runner holds the lock', async () => {
    const url = await freshDatabase()
    const dir = folder({ '1_a.sql': 'CREATE TABLE a (id int);\n' })
    await withClient(url, async (holder) => {
      await holder.query('BEGIN')
      await holder.query('SELECT pg_advisory_xact_lock(8314038972764679277)')
      const r = await ddlMigrate(url, workdir(), [dir, '--wait', '0', '--lock-timeout', '2s'])
      expect(r.code).toBe(1)
      expect(r.stderr).toContain('Another migration runner is applying migrations to this database')
      expect(r.stderr).toContain('--wait SECONDS')
      await holder.query('ROLLBACK')
    })
  })
})

describe('ddl migrate DIR --plan', () => {
  it('shows each pending file with its tier, findings and the flag it needs, and runs nothing', async () => {
    const url = await freshDatabase()
    const dir = folder({
      '1_a.sql': 'CREATE TABLE a (id int, note text);\n',
      '2_trim.sql': 'ALTER TABLE a DROP COLUMN note;\n',
      '3_index.sql': 'CREATE INDEX CONCURRENTLY a_id ON a (id);\n',
    })
    const r = await ddlMigrate(url, workdir(), [dir, '--plan'])
    expect(r.code).toBe(1)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toBe(
      `Plan for ${dir} (flat layout: *.sql files in natural order): 3 pending of 3. Nothing is run.`,
    )
    expect(lines[1]).toMatch(/^ {2}ok {7}1_a\.sql {6}safe {9}no flag {18}1 statement, in a transaction$/)
    expect(lines[2]).toMatch(/^ {2}refused {2}2_trim\.sql {3}cautious {5}--confirm {16}1 statement, in a transaction$/)
    expect(r.stdout).toContain('drop-column')
    expect(r.stdout).toMatch(/3_index\.sql {2}safe .* outside a transaction \(one statement at a time\)/)
    expect(r.stdout).toContain('Would be refused')
    expect(await sql(url, "SELECT to_regclass('public.ddl_migrations') AS t")).toEqual([{ t: null }])
    const confirmed = await ddlMigrate(url, workdir(), [dir, '--plan', '--confirm'])
    expect(confirmed.code).toBe(0)
    expect(confirmed.stdout).toContain('Would run (needs --confirm: given).')
  })
})

describe('ddl migrate status DIR', () => {
  it('lists applied and pending files, and flags a changed one with exit 1', async () => {
    const url = await freshDatabase()
    const cwd = workdir()
    const dir = folder({ '1_a.sql': 'CREATE TABLE a (id int);\n', '2_b.sql': 'CREATE TABLE b (id int);\n' })
    const before = await ddlMigrate(url, cwd, ['status', dir])
    expect(before.code).toBe(0)
    expect(before.stdout).toBe(
      `Migrations in ${dir} (flat layout: *.sql files in natural order): 2 pending (public.ddl_migrations does not exist yet).\n` +
        '  pending  1_a.sql\n  pending  2_b.sql\n',
    )
    await ddlMigrate(url, cwd, [dir])
    writeFileSync(join(dir, '2_b.sql'), 'CREATE TABLE b (id bigint);\n')
    writeFileSync(join(dir, '3_c.sql'), 'CREATE TABLE c (id int);\n')
    const after = await ddlMigrate(url, cwd, ['status', dir])
    expect(after.code).toBe(1)
    expect(after.stdout).toMatch(/: 1 applied, 1 pending, 1 changed\.\n/)
    expect(after.stdout).toMatch(
      / {2}applied {2}1_a\.sql {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}safe {9}\s+\d+ ms {2}ci\n/,
    )
    expect(after.stdout).toContain('changed  2_b.sql')
    expect(after.stdout).toContain('(the file changed after it was applied)')
    const json = await ddlMigrate(url, cwd, ['status', dir, '--json'])
    const parsed = JSON.parse(json.stdout) as { result: { entries: { name: string; state: string }[] } }
    expect(parsed.result.entries.map((e) => [e.name, e.state])).toEqual([
      ['1_a.sql', 'applied'],
      ['2_b.sql', 'changed'],
      ['3_c.sql', 'pending'],
    ])
  })
})
